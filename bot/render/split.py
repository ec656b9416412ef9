"""Split a long message at line boundaries under a byte limit, never inside a UTF-8 character,
and number the parts "（1/3）", "（2/3）" … so the reader can tell they belong together."""

from __future__ import annotations


def _prefix(index: int, total: int) -> str:
    return f"（{index}/{total}）\n"


def _cut_line(line: str, budget: int) -> list[str]:
    """A single line longer than the budget: cut between characters (never inside one)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > budget and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def _pack(text: str, budget: int) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for raw in text.split("\n"):
        for line in _cut_line(raw, budget) if len(raw.encode("utf-8")) > budget else [raw]:
            width = len(line.encode("utf-8")) + (1 if current else 0)
            if current and size + width > budget:
                parts.append("\n".join(current))
                current, size = [], 0
                width = len(line.encode("utf-8"))
            current.append(line)
            size += width
    if current:
        parts.append("\n".join(current))
    # leading/trailing blank lines of a part carry nothing
    cleaned = [p.strip("\n") for p in parts]
    return [p for p in cleaned if p.strip()] or [""]


def split_message(text: str, limit_bytes: int, *, numbered: bool = True) -> list[str]:
    """Parts of ``text`` each at most ``limit_bytes`` UTF-8 bytes (numbering included)."""
    if len(text.encode("utf-8")) <= limit_bytes:
        return [text]
    total_guess = 1
    while True:
        reserve = len(_prefix(total_guess, total_guess).encode("utf-8")) if numbered else 0
        if reserve >= limit_bytes:
            raise ValueError(f"limit {limit_bytes} bytes leaves no room for text")
        parts = _pack(text, limit_bytes - reserve)
        if not numbered or len(str(len(parts))) <= len(str(total_guess)):
            break
        total_guess = len(parts)
    if not numbered:
        return parts
    total = len(parts)
    return [_prefix(i, total) + part for i, part in enumerate(parts, 1)]
