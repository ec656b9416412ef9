"""Typed command arguments: split the text after the command name and read each token as what it is.

A command declares what it takes; tokens are classified in order — dates ("周五", "12月3日"),
amounts ("50万"), stages, tiers, a "-" or "+" prefix, "我" — and the rest are names or free text
that the command resolves (customer, project, colleague, task) through ``handlers.actions.resolve``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from crm_core.normalise import normalise_stage, normalise_tier
from handlers.actions.resolve import SELF
from handlers.nlu.dates import find_dates
from handlers.nlu.numbers import find_amounts
from handlers.nlu.text import clean

_SPLIT = re.compile(r"[\s,，;；]+")


def tokens(args: str) -> list[str]:
    return [t for t in _SPLIT.split(clean(args)) if t]


def as_date(token: str, today: date) -> date | None:
    hits = find_dates(token, today)
    if hits and hits[0].start == 0 and hits[0].end >= len(token.rstrip("前之以截止交")) - 1:
        return hits[0].value
    try:
        return date.fromisoformat(token)
    except ValueError:
        return None


def as_amount(token: str) -> int | None:
    hits = find_amounts(token)
    if hits and hits[0].start == 0 and hits[0].end == len(token):
        return hits[0].value
    if token.isdigit() and len(token) >= 4:
        return int(token)
    return None


def as_stage(token: str) -> str | None:
    return normalise_stage(token)


def as_tier(token: str) -> str | None:
    return normalise_tier(token) if len(token) >= 2 else None


def is_self(token: str) -> bool:
    return bool(SELF.match(token))


@dataclass
class Split:
    """Tokens pulled out by kind; ``rest`` keeps the others in order."""

    dates: list[date]
    amounts: list[int]
    stages: list[str]
    rest: list[str]


def split_typed(args: str, today: date, *, want_dates: bool = True, want_amounts: bool = True,
                want_stages: bool = False) -> Split:
    out = Split([], [], [], [])
    for tok in tokens(args):
        if want_stages and (stage := as_stage(tok)):
            out.stages.append(stage)
        elif want_dates and (d := as_date(tok, today)):
            out.dates.append(d)
        elif want_amounts and (a := as_amount(tok)) is not None:
            out.amounts.append(a)
        else:
            out.rest.append(tok)
    return out
