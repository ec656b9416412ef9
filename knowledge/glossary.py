"""Query expansion for mixed Chinese–English chat: "invoice" also searches 发票 (config/vocab/search_glossary.json)."""

from __future__ import annotations

import re
from functools import cache

from config.vocab import load
from knowledge.text import normalise

_WORD = re.compile(r"[a-z][a-z0-9]*")


@cache
def _terms() -> dict[str, tuple[str, ...]]:
    return {k.lower(): tuple(v) for k, v in load("search_glossary")["terms"].items()}


def expansions(text: str) -> list[str]:
    """Chinese terms for the English words in ``text``, each once, in order."""
    terms = _terms()
    out: list[str] = []
    for word in _WORD.findall(normalise(text)):
        for zh in terms.get(word, ()):
            if zh not in out:
                out.append(zh)
    return out


def expand(text: str) -> str:
    """``text`` followed by the glossary's Chinese terms for its English words (for lexical search)."""
    extra = expansions(text)
    return f"{text} {' '.join(extra)}" if extra else text
