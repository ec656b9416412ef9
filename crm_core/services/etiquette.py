"""Push etiquette: quiet hours, and how many items one message lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import TypeVar

T = TypeVar("T")


def quiet_until(now: datetime, start: time, end: time) -> datetime | None:
    """End of the quiet hours ``now`` falls in (aware, same timezone as ``now``), or None outside them.

    ``start`` > ``end`` spans midnight (22:00–08:00); equal times mean no quiet hours."""
    if start == end:
        return None
    t = now.timetz().replace(tzinfo=None)
    if start < end:
        inside, next_day = start <= t < end, False
    else:
        inside, next_day = t >= start or t < end, t >= start
    if not inside:
        return None
    day = now.date() + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, end, tzinfo=now.tzinfo)


def fold(items: Sequence[T], limit: int, *, urgent: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """Items to list one by one (urgent first, then in order) and the rest, counted in one line."""
    ordered = [i for i in items if urgent(i)] + [i for i in items if not urgent(i)]
    return ordered[:limit], ordered[limit:]
