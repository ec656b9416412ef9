"""Vocabularies kept as data (JSON files beside this module), so they can be edited without code changes."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed ``config/vocab/<name>.json`` (cached; treat it as read-only)."""
    return json.loads(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"))
