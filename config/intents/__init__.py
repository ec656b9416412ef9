"""Language-understanding data kept as JSON beside this module: exemplar utterances per intent, lexical
cues, and vocabularies. Edit these to teach the offline router new phrasings; no code change needed."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> Any:
    """The parsed ``config/intents/<name>.json`` (cached; treat it as read-only)."""
    return json.loads(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"))
