"""Chinese-aware text handling for search: normalisation and the lexical token streams.

Three streams, chosen by measurement (docs/benchmarks.md, "Retrieval"):
- character unigrams and bigrams inside runs of Chinese characters (robust to unknown words,
  brand names and segmentation errors; the best single stream on the development set);
- jieba words (search mode), optional;
- pinyin syllable bigrams, so that homophone typos from pinyin input methods ("素财" for "素材",
  "开相" for "开箱") still meet the intended word.
Latin words and numbers are kept whole, lower-cased ("ctr", "nda", "618").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z]+|\d+(?:\.\d+)?")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

UNIGRAM = "u:"
PINYIN = "p:"


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, unified whitespace."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def is_cjk(text: str) -> bool:
    return bool(_CJK.match(text))


def runs(text: str) -> list[str]:
    """Runs of Chinese characters, Latin words and numbers, in order."""
    return _TOKEN_RUN.findall(normalise(text))


@lru_cache(maxsize=65536)
def _syllable(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0]


def char_tokens(text: str, *, pinyin: bool = False) -> list[str]:
    """Unigrams (prefixed ``u:``) and bigrams of Chinese runs; whole Latin words and numbers."""
    out: list[str] = []
    for run in runs(text):
        if not is_cjk(run):
            out.append(run)
            continue
        out.extend(UNIGRAM + ch for ch in run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
        if pinyin and len(run) > 1:
            syl = [_syllable(ch) for ch in run]
            out.extend(PINYIN + syl[i] + syl[i + 1] for i in range(len(syl) - 1))
    return out


_jieba_ready = False


def word_tokens(text: str) -> list[str]:
    """jieba words in search mode (long words also yield their parts), punctuation dropped."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(60)
        _jieba_ready = True
    return ["w:" + w for w in jieba.lcut_for_search(normalise(text)) if _TOKEN_RUN.fullmatch(w)]


def tokens(text: str, scheme: str = "char", *, pinyin: bool = True) -> list[str]:
    """The lexical token stream for ``scheme``: ``char``, ``word`` or ``char+word``."""
    out: list[str] = []
    if "char" in scheme:
        out.extend(char_tokens(text, pinyin=pinyin))
    if "word" in scheme:
        out.extend(word_tokens(text))
        if "char" not in scheme and pinyin:
            out.extend(t for t in char_tokens(text, pinyin=True) if t.startswith(PINYIN))
    return out


def display_term(token: str) -> str | None:
    """A token as a person would read it in "matched terms" (None for unigrams and pinyin)."""
    if token.startswith((UNIGRAM, PINYIN)):
        return None
    return token[2:] if token.startswith("w:") else token


def matched_terms(query: str, tokens: list[str], limit: int = 6) -> list[str]:
    """The query's words that the record contains, as typed: maximal runs covered by matched bigrams."""
    found = {display_term(t) for t in tokens} - {None}
    if not found:
        return []
    out: list[str] = []
    text = normalise(query)
    i = 0
    while i < len(text):
        j = i
        while j + 1 < len(text) and is_cjk(text[j]) and is_cjk(text[j + 1]) and text[j:j + 2] in found:
            j += 1
        if j > i:
            word = text[i:j + 1]
            if word not in out:
                out.append(word)
            i = j + 1
        else:
            i += 1
    for word in sorted(found, key=text.find):  # Latin words, numbers, jieba words not yet covered
        if len(word) > 1 and word in text and word not in out and not any(word in o for o in out):
            out.append(word)
    return out[:limit]
