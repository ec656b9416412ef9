"""Reading a need and a person's skills into the same concepts (config/vocab/talent.json).

"国潮风短视频脚本" → concepts 国潮 (style) and 短视频脚本 (skill); "国潮插画" → 国潮 and 插画. Words
that name no concept stay as free terms ("汽车类") and are matched loosely (substring or shared
character bigrams) against what the person wrote about themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from config.vocab import load


@dataclass(frozen=True)
class Concept:
    name: str
    kind: str  # skill | style
    role: str | None


@dataclass
class Reading:
    concepts: list[str] = field(default_factory=list)  # in order of appearance, no repeats
    terms: list[str] = field(default_factory=list)  # leftover words
    roles: set[str] = field(default_factory=set)  # roles asked for by name ("设计师")


@lru_cache(maxsize=1)
def _vocab() -> tuple[dict[str, Concept], list[tuple[str, str]], dict[str, str], tuple[str, ...]]:
    data: dict[str, Any] = load("talent")
    concepts = {name: Concept(name, spec["kind"], spec.get("role")) for name, spec in data["concepts"].items()}
    forms = sorted(((form.lower(), name) for name, spec in data["concepts"].items() for form in spec["forms"]),
                   key=lambda fn: -len(fn[0]))
    role_words = {w: role for role, words in data["role_words"].items() for w in words}
    return concepts, forms, role_words, tuple(sorted(data["noise"], key=len, reverse=True))


def concept(name: str) -> Concept | None:
    return _vocab()[0].get(name)


def _spans(text: str) -> list[tuple[int, int, str]]:
    """Concept mentions, longest form first, not overlapping."""
    low = text.lower()
    taken = [False] * len(low)
    found: list[tuple[int, int, str]] = []
    for form, name in _vocab()[1]:
        start = low.find(form)
        while start >= 0:
            end = start + len(form)
            if not any(taken[start:end]):
                found.append((start, end, name))
                for i in range(start, end):
                    taken[i] = True
            start = low.find(form, end)
    return sorted(found)


def concepts_of(text: str) -> list[str]:
    return list(dict.fromkeys(name for _, _, name in _spans(text)))


def read_need(text: str) -> Reading:
    spans = _spans(text)
    out = Reading(concepts=list(dict.fromkeys(name for _, _, name in spans)))
    chars = list(text)
    for s, e, _ in spans:
        for i in range(s, e):
            chars[i] = " "
    rest = "".join(chars)
    role_words = _vocab()[2]
    for word in sorted(role_words, key=len, reverse=True):
        if word in rest:
            out.roles.add(role_words[word])
            rest = rest.replace(word, " ")
    for word in _vocab()[3]:
        rest = rest.replace(word, " ")
    out.terms = [t for t in re.split(r"[\s,，、/;；。.!！?？]+", rest) if len(t) >= 2]
    return out


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text.lower())
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def loose_match(term: str, text: str) -> float:
    """1.0 when one contains the other, else the share of the term's bigrams found in ``text``."""
    t, s = term.lower().replace(" ", ""), text.lower()
    if not t or not s:
        return 0.0
    if t in s or s in t:
        return 1.0
    tb = _bigrams(t)
    return len(tb & _bigrams(s)) / len(tb) if tb else 0.0
