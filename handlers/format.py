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


def bar(value: float, top: float, width: int = 10) -> str:
    """A text bar for chat charts: ``bar(3, 6)`` → "█████"."""
    if top <= 0 or value <= 0:
        return "▏"
    return "█" * max(1, round(width * min(value, top) / top))


def page_note(offset: int, shown: int, total: int) -> str | None:
    """"第 1–10 条，共 23 条，发送「下一页」查看更多" — or None when everything is shown."""
    if total <= shown and offset == 0:
        return None
    end = offset + shown
    more = "，发送「下一页」查看更多" if end < total else ""
    return f"第 {offset + 1}–{end} 条，共 {total} 条{more}。"
