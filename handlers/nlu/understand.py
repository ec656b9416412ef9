"""Natural language → (intent, slots): clean, link entities, find dates/amounts/metrics, route, extract."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from config.intents import load
from crm_core.actor import Actor
from handlers.nlu import embed
from handlers.nlu.dates import find_dates
from handlers.nlu.entities import Linker, Links
from handlers.nlu.numbers import find_amounts, find_metrics
from handlers.nlu.router import Evidence, Route, route
from handlers.nlu.slots import (
    Frame,
    SlotResult,
    extract,
    find_format,
    find_industry,
    find_report,
    find_stage,
    unlinked_name,
)
from handlers.nlu.text import char_pinyin, clean, fix_homophones, loose_syllable

MARKS = {"customer": "Ⓒ", "project": "Ⓟ", "opportunity": "Ⓞ", "task": "Ⓣ", "staff": "Ⓢ", "date": "Ⓓ",
         "amount": "Ⓐ", "metric": "Ⓜ"}
WORDS = {"customer": "某客户", "project": "某项目", "opportunity": "某商机", "task": "某任务", "staff": "某同事",
         "date": "某天", "amount": "一笔金额", "metric": "某指标达标"}
PRONOUN = re.compile(r"(它|它们|他们家|她们家|这家|那家|该客户|这个客户|那个客户|这客户|他家|她家|这位客户|上面那个)")
_DONE_WORDS = re.compile(r"完成|做完|搞定|弄完|交付|做好|写完|剪完|改完|关掉|关闭|勾掉|完工|交了|标完成|结掉|\b[A-Za-z]{1,4}-\w*\d")
_TICKET_NO = re.compile(r"(工单|单号|TK-?|#)\s*\d{3,}|\d{3,}\s*号?工单", re.IGNORECASE)


@dataclass
class Understanding:
    text: str  # cleaned
    intent: str | None
    score: float
    slots: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    ambiguous: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unresolved: dict[str, str] = field(default_factory=dict)
    route: Route | None = None
    links: Links | None = None

    @property
    def alternatives(self) -> list[str]:
        return self.route.alternatives if self.route else []


@lru_cache(maxsize=1)
def _homophone_lexicon() -> tuple[dict[tuple[str, ...], str], dict[str, str]]:
    vocab = load("vocab")
    lexicon = {tuple(loose_syllable(char_pinyin(c)) for c in w): w for w in vocab["domain_words"]}
    return lexicon, dict(vocab["typos"])


def _fix_outside(text: str, links: Links) -> str:
    """Fix homophone typos of domain words, leaving the linked names alone."""
    lexicon, typos = _homophone_lexicon()
    spans = links.spans()
    if not spans:
        return fix_homophones(text, lexicon, typos)
    out, pos = [], 0
    for s, e, _ in spans:
        out.append(fix_homophones(text[pos:s], lexicon, typos) if s > pos else "")
        out.append(text[s:e])
        pos = e
    out.append(fix_homophones(text[pos:], lexicon, typos))
    fixed = "".join(out)
    return fixed if len(fixed) == len(text) else text  # a typo map that changes length: keep spans safe


def mask(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, str]:
    """(cue text with one mark per entity/date/…, embedding text with natural placeholders)."""
    marked, plain, pos = [], [], 0
    for s, e, kind in sorted(spans):
        if s < pos:
            continue
        marked.append(text[pos:s])
        plain.append(text[pos:s])
        marked.append(MARKS[kind])
        plain.append(WORDS[kind])
        pos = e
    marked.append(text[pos:])
    plain.append(text[pos:])
    return "".join(marked), "".join(plain)


def _extra_spans(taken: list[tuple[int, int, str]], extra: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out = list(taken)
    for s, e, k in extra:
        if all(e <= a or b <= s for a, b, _ in out):
            out.append((s, e, k))
    return out


def understand(session: Session, actor: Actor, text: str, now: datetime, settings: Settings,
               context: dict[str, Any] | None = None, force_intent: str | None = None) -> Understanding:
    """``force_intent``: the sender already chose what they meant; only the slots are read."""
    context = context or {}
    today = now.date()
    cleaned = clean(text)
    linker = Linker(session, actor)
    links = linker.link(cleaned, with_tasks=bool(_DONE_WORDS.search(cleaned)))
    fixed = _fix_outside(cleaned, links)
    if fixed != cleaned:  # the fix may reveal a name or cue; link again on the fixed text
        links = linker.link(fixed, with_tasks=bool(_DONE_WORDS.search(fixed)))
    metrics = find_metrics(fixed)
    dates = [d for d in find_dates(fixed, today)
             if all(d.end <= m.start or m.end <= d.start for ms in links.by_kind.values() for m in ms[:1])]
    amounts = [a for a in find_amounts(fixed) if all(a.end <= m.start or m.end <= a.start for m in metrics)]
    spans = _extra_spans(links.spans(), [(m.start, m.end, "metric") for m in metrics]
                         + [(d.start, d.end, "date") for d in dates] + [(a.start, a.end, "amount") for a in amounts])
    masked, plain = mask(fixed, spans)
    kinds = {k for _, _, k in spans}
    kinds.update(k for k, ms in links.by_kind.items() if ms)
    if find_stage(fixed):
        kinds.add("stage")
    if find_report(fixed):
        kinds.add("report")
    if _TICKET_NO.search(fixed):
        kinds.add("ticket_no")
    skip = [(s, e) for s, e, _ in links.spans()]
    if find_format(fixed, skip):
        kinds.add("format")
    if find_industry(fixed, skip):
        kinds.add("industry")
    if "customer" not in kinds and unlinked_name(fixed):
        kinds.add("unlinked_name")
    pronoun = bool(PRONOUN.search(fixed))
    ev = Evidence(masked=masked, plain=plain, kinds=frozenset(kinds),
                  context_customer=pronoun and bool(context.get("customer")))
    if force_intent is not None:
        r = Route(force_intent, 99.0, [(force_intent, 99.0)])
    else:
        r = route(ev, settings, embed.get_router_embedder(settings))
    result = Understanding(text=fixed, intent=r.intent, score=r.score, route=r, links=links)
    if r.intent is None:
        return result
    frame = Frame(text=fixed, links=links, dates=dates, amounts=amounts, metrics=metrics, actor=actor, today=today,
                  linker=linker, context=context, pronoun=pronoun)
    slots: SlotResult = extract(r.intent, frame)
    result.slots, result.extras = slots.slots, slots.extras
    result.ambiguous, result.unresolved = slots.ambiguous, slots.unresolved
    return result
