"""Text clean-up before understanding: mentions, full-width characters, emoji, and homophone typos."""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_MENTION = re.compile(r"@[^\s\u2005@]{1,20}[\s\u2005]+|@[^\s\u2005@]{1,20}$")
_SPACES = re.compile(r"[\s\u2005\u3000]+")
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\ufe0f\u200d]+", flags=re.UNICODE
)


def _halfwidth(ch: str) -> str:
    code = ord(ch)
    if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
        return chr(code - 0xFEE0)
    return {"＋": "+", "－": "-", "＞": ">", "＜": "<", "＝": "=", "％": "%", "／": "/", "＃": "#"}.get(ch, ch)


def clean(text: str) -> str:
    """Drop @-mentions and emoji, fold full-width letters/digits, squeeze spaces. Chinese punctuation stays."""
    text = _MENTION.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = "".join(_halfwidth(c) for c in text)
    return _SPACES.sub(" ", text).strip()


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=50_000)
def char_pinyin(ch: str) -> str:
    """Toneless pinyin of one character; anything else lower-cased as is."""
    if is_cjk(ch):
        return lazy_pinyin(ch, style=Style.NORMAL)[0]
    return ch.lower()


# Fuzzy syllables that input methods and southern accents confuse: the tolerance is for names only.
_FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"), ("ing", "in"), ("iang", "ian")]


@lru_cache(maxsize=50_000)
def loose_syllable(syllable: str) -> str:
    for a, b in _FUZZY:
        if syllable.startswith(a) and a in ("zh", "ch", "sh"):
            syllable = b + syllable[len(a):]
    for a, b in _FUZZY[3:]:
        if syllable.endswith(a):
            syllable = syllable[: -len(a)] + b
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    return syllable


def pinyin_seq(text: str, loose: bool = False) -> tuple[str, ...]:
    seq = tuple(char_pinyin(c) for c in text)
    return tuple(loose_syllable(s) for s in seq) if loose else seq


def fix_homophones(text: str, lexicon: dict[tuple[str, ...], str], typos: dict[str, str]) -> str:
    """Replace known misspellings and homophone typos of domain words (更进 → 跟进, 科计 → 科技).

    A window is replaced only when its toneless pinyin equals a lexicon word's and at least one
    character already agrees, so a different real word with the same sound (人物 / 任务) is left alone.
    """
    for wrong, right in typos.items():
        if wrong in text:
            text = text.replace(wrong, right)
    if not lexicon:
        return text
    chars = list(text)
    syl = [loose_syllable(char_pinyin(c)) for c in chars]
    lengths = sorted({len(k) for k in lexicon}, reverse=True)
    i = 0
    while i < len(chars):
        for n in lengths:
            if i + n > len(chars) or not is_cjk(chars[i]):
                continue
            word = lexicon.get(tuple(syl[i:i + n]))
            if word is None:
                continue
            window = "".join(chars[i:i + n])
            if window != word and any(a == b for a, b in zip(window, word, strict=True)):
                chars[i:i + n] = list(word)
            break
        i += 1
    return "".join(chars)
