"""Small formatting helpers shared by the reply builders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo


def money(amount: Decimal | int | float | None) -> str:
    """120000 → "12万", 1500000 → "150万", 8500 → "8,500元"."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    if abs(value) >= 10000:
        wan = value / 10000
        text = f"{wan:.2f}".rstrip("0").rstrip(".")
        return f"{text}万"
    return f"{value:,.0f}元"


def day(d: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    if d is None:
        return "—"
    if isinstance(d, datetime):
        d = (d.astimezone(tz) if tz else d).date()
    return f"{d.year}-{d.month:02d}-{d.day:02d}"
