"""Homophone typo repair against the indexed vocabulary: "素财审核" → "素材审核", "营销按例" → "营销案例".

Chinese is typed through pinyin input methods, so the usual typo is another character with the same
sound. A query bigram that occurs nowhere in the indexed documents is replaced by the most frequent
indexed word with the same toneless pinyin (a whole word when jieba words are indexed, else a
bigram seen in at least two documents), one character at a time. Nothing else is touched.
"""

from __future__ import annotations

from knowledge.lexical import BM25Index
from knowledge.text import _syllable, is_cjk, normalise

COMMON_WORD_FREQ = 10


def _pinyin(text: str) -> str:
    return "".join(_syllable(ch) for ch in text)


def _pinyin_map(index: BM25Index) -> dict[str, str]:
    """toneless pinyin of a two-character term → the indexed term with that sound and the highest df."""
    cached: dict[str, str] | None = getattr(index, "_sounds", None)
    if cached is not None:
        return cached
    words = any(t.startswith("w:") for t in index.terms[:2000])
    best: dict[str, tuple[int, str]] = {}
    for term, tid in index.vocab.items():
        if len(term) != 2 or not (is_cjk(term[0]) and is_cjk(term[1])):
            continue
        if words and f"w:{term}" not in index.vocab:
            continue
        df = int(index.indptr[tid + 1] - index.indptr[tid])
        if not words and df < 2:
            continue
        key = _pinyin(term)
        if key not in best or df > best[key][0]:
            best[key] = (df, term)
    sounds = {k: v for k, (_, v) in best.items()}
    index._sounds = sounds  # type: ignore[attr-defined]  # built once per (immutable) index
    return sounds


def _common_word(pair: str) -> bool:
    """A real, common word (jieba's dictionary) is no typo, even when the documents never use it."""
    import jieba

    return (jieba.dt.FREQ.get(pair) or 0) >= COMMON_WORD_FREQ


def repair(query: str, index: BM25Index) -> str:
    """``query`` with unknown bigrams replaced by a same-sound indexed word differing in one character.

    The character replaced must be unsupported on both sides: it forms no indexed bigram with its
    other neighbour either ("广告费" keeps 告 although "告费" is unknown).
    """
    text = normalise(query)
    if not text or not index.vocab:
        return query
    sounds = _pinyin_map(index)
    chars = list(text)

    def known(i: int, j: int) -> bool:
        return i >= 0 and j < len(chars) and (chars[i] + chars[j]) in index.vocab

    for i in range(len(chars) - 1):
        pair = chars[i] + chars[i + 1]
        if not (is_cjk(pair[0]) and is_cjk(pair[1])) or pair in index.vocab or _common_word(pair):
            continue
        fix = sounds.get(_pinyin(pair))
        if not fix or sum(a != b for a, b in zip(fix, pair, strict=True)) != 1:
            continue
        changed = i if fix[0] != pair[0] else i + 1
        if known(changed - 1, changed) if changed == i else known(changed, changed + 1):
            continue
        chars[i], chars[i + 1] = fix[0], fix[1]
    fixed = "".join(chars)
    return fixed if fixed != text else query
