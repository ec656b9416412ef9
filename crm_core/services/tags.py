"""Tags by hand (one customer or a filtered set), by rule, and from brief texts; each records its source.

- manual: ``customers.set_tag`` for one customer, ``batch_tag`` for the customers matching filters;
- rule: ``refresh_auto_tags`` reconciles the rule tags (``tag_vocab.rules``): a customer that meets a
  rule gets the tag with the figure that earned it; one that no longer does loses it (only tags the
  rule itself added — a hand-set tag of the same name stays);
- nlp: ``keywords`` reads a brief with jieba (TF-IDF and TextRank over a tokenizer that knows the
  vocabulary's forms) and keeps the keywords that are forms of a vocabulary tag and not negated
  ("不要国潮风"); ``refresh_auto_tags`` also reads recent follow-ups and proposal notes this way.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from config import Settings, get_settings
from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import InvalidInput
from crm_core.models import (
    Contract,
    Customer,
    CustomerTag,
    Interaction,
    Payment,
    Proposal,
    ProposalVersion,
    Staff,
    Tag,
)
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services import tag_vocab
from crm_core.services.tiering import wan

SYSTEM = Actor.system(channel="system", name="自动标签")
BATCH_LIMIT = 500
BRIEF_DAYS = 90


# --- batch ---------------------------------------------------------------------------------------


@dataclass
class Filters:
    tier: str | None = None
    industry: str | None = None
    owner_ref: str | None = None
    tag: str | None = None

    def describe(self) -> str:
        parts = [self.tier, self.industry and f"{self.industry}行业", self.tag and f"带标签「{self.tag}」",
                 self.owner_ref and "指定负责人"]
        return "、".join(p for p in parts if p) or "全部可见客户"

    @property
    def empty(self) -> bool:
        return not (self.tier or self.industry or self.owner_ref or self.tag)


def batch_targets(session: Session, actor: Actor, filters: Filters) -> list[Customer]:
    require(actor, Cap.customer_tag)
    if filters.empty:
        raise InvalidInput("批量打标签需要至少一个筛选条件（级别、行业、负责人或 #标签）。")
    stmt = select(Customer).where(customer_scope(actor)).options(selectinload(Customer.tag_links))
    if filters.tier:
        stmt = stmt.where(Customer.tier == filters.tier)
    if filters.industry:
        stmt = stmt.where(Customer.industry.like(f"{filters.industry}%"))
    if filters.owner_ref:
        stmt = stmt.where(Customer.owner_id.in_(select(Staff.id).where(Staff.ref == filters.owner_ref)))
    if filters.tag:
        stmt = stmt.where(Customer.id.in_(select(CustomerTag.customer_id).join(Tag).where(Tag.name == filters.tag)))
    rows = list(session.scalars(stmt.order_by(Customer.name).limit(BATCH_LIMIT + 1)))
    if len(rows) > BATCH_LIMIT:
        raise InvalidInput(f"符合条件的客户超过 {BATCH_LIMIT} 家，请缩小筛选范围后再批量打标签。")
    return rows


@dataclass
class BatchPlan:
    change: list[Customer]
    unchanged: list[Customer]


def batch_plan(session: Session, actor: Actor, filters: Filters, tag: str, remove: bool) -> BatchPlan:
    plan = BatchPlan([], [])
    for c in batch_targets(session, actor, filters):
        has = tag in c.tag_names
        (plan.change if has == remove else plan.unchanged).append(c)
    return plan


def batch_tag(session: Session, actor: Actor, filters: Filters, tag: str, remove: bool) -> BatchPlan:
    """Add (or remove) ``tag`` on every visible customer matching ``filters``; each change is audited."""
    from crm_core.services.customers import set_tag

    plan = batch_plan(session, actor, filters, tag, remove)
    reason = f"批量{'去掉' if remove else '添加'}（{filters.describe()}）"
    for c in plan.change:
        set_tag(session, actor, c, tag, remove=remove, reason=reason)
    return plan


# --- brief keywords ------------------------------------------------------------------------------


@dataclass
class Keyword:
    tag: str
    form: str  # as written in the text
    weight: float  # the larger of its TF-IDF and TextRank weights
    snippet: str


@dataclass
class BriefReading:
    tags: list[Keyword] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # strong keywords that are not in the vocabulary


_jieba_lock = threading.Lock()
_jieba: dict[str, Any] = {}


def _analysers() -> tuple[Any, Any, dict[str, str]]:
    """A private jieba tokenizer that knows the vocabulary (the global one, used by search, is left alone)."""
    with _jieba_lock:
        if not _jieba:
            import jieba
            import jieba.analyse
            import jieba.posseg

            jieba.setLogLevel(60)
            tok = jieba.Tokenizer()
            forms: dict[str, str] = {}
            for tag, words in tag_vocab.vocab()["brief_keywords"].items():
                for w in [tag, *words]:
                    forms.setdefault(w.lower(), tag)
                    tok.add_word(w, freq=20000, tag="n")
            pos = jieba.posseg.POSTokenizer(tok)
            tfidf = jieba.analyse.TFIDF()
            tfidf.tokenizer, tfidf.postokenizer = tok, pos
            textrank = jieba.analyse.TextRank()
            textrank.tokenizer = textrank.postokenizer = pos
            _jieba.update(tfidf=tfidf, textrank=textrank, forms=forms)
        return _jieba["tfidf"], _jieba["textrank"], _jieba["forms"]


def _negated(text: str, form: str) -> bool:
    """Every occurrence of ``form`` has a negation just before it."""
    negations = tag_vocab.vocab()["negations"]
    spots = [m.start() for m in re.finditer(re.escape(form), text, flags=re.IGNORECASE)]
    return bool(spots) and all(any(n in text[max(0, s - 6):s] for n in negations) for s in spots)


def _snippet(text: str, form: str, width: int = 14) -> str:
    i = text.lower().find(form.lower())
    if i < 0:
        return text[:width * 2]
    start, end = max(0, i - width), min(len(text), i + len(form) + width)
    return ("…" if start else "") + text[start:end].replace("\n", " ") + ("…" if end < len(text) else "")


def keywords(text: str) -> BriefReading:
    text = text.strip()
    out = BriefReading()
    if not text:
        return out
    tfidf, textrank, forms = _analysers()
    weights: dict[str, float] = {}
    for word, w in tfidf.extract_tags(text, topK=50, withWeight=True):
        weights[word] = max(weights.get(word, 0.0), float(w))
    for word, w in textrank.textrank(text, topK=30, withWeight=True, allowPOS=("ns", "n", "vn", "v", "nz", "eng")):
        weights[word] = max(weights.get(word, 0.0), float(w))
    best: dict[str, Keyword] = {}
    for word, w in sorted(weights.items(), key=lambda kv: -kv[1]):
        tag = forms.get(word.lower())
        if tag is None:
            if len(word) >= 2 and len(out.others) < 5 and not word.isdigit():
                out.others.append(word)
            continue
        if _negated(text, word):
            if tag not in out.negated:
                out.negated.append(tag)
            continue
        if tag not in best:
            best[tag] = Keyword(tag=tag, form=word, weight=round(w, 3), snippet=_snippet(text, word))
    out.tags = sorted(best.values(), key=lambda k: -k.weight)
    out.negated = [t for t in out.negated if t not in best]
    return out


def brief_reason(k: Keyword, where: str = "Brief") -> str:
    return f"{where}关键词「{k.form}」（权重 {k.weight:.2f}）：{k.snippet}"[:200]


def tag_from_brief(session: Session, actor: Actor, customer: Customer, text: str) -> list[Keyword]:
    """Apply the vocabulary tags found in ``text`` (source nlp); returns the ones newly added."""
    from crm_core.services.customers import set_tag

    added = []
    for k in keywords(text).tags:
        if set_tag(session, actor, customer, k.tag, source="nlp", reason=brief_reason(k)):
            added.append(k)
    return added


# --- rules ---------------------------------------------------------------------------------------


@dataclass
class TagChange:
    customer_id: int
    customer: str
    tag: str
    op: str  # add | remove | update
    source: str
    reason: str | None


def _active_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))


def _ltv_top(session: Session, percent: float) -> dict[int, str]:
    active = _active_ids(session)
    totals = [(cid, Decimal(total)) for cid, total in session.execute(
        select(Contract.customer_id, func.sum(Contract.amount)).group_by(Contract.customer_id)) if cid in active and total]
    totals.sort(key=lambda ct: -ct[1])
    n = max(1, round(len(totals) * percent / 100)) if totals else 0
    return {cid: f"LTV {wan(total)}，第 {i} / {len(totals)} 名（前 {percent:g}%）"
            for i, (cid, total) in enumerate(totals[:n], 1)}


def _silent(session: Session, days: int, now: datetime) -> dict[int, str]:
    cutoff = now - timedelta(days=days)
    last = dict(session.execute(select(Interaction.customer_id, func.max(Interaction.occurred_at))
                                .group_by(Interaction.customer_id)).all())
    out = {}
    for c in session.scalars(select(Customer).where(Customer.merged_into_id.is_(None))):
        when = max(filter(None, [last.get(c.id), c.last_contact_at]), default=None)
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=now.tzinfo)
        if when is None:
            if c.created_at <= cutoff:
                out[c.id] = f"建档以来没有跟进记录（超过 {days} 天）"
        elif when <= cutoff:
            out[c.id] = f"最近一次跟进 {when.date().isoformat()}，已 {(now - when).days} 天无互动"
    return out


def _overdue(session: Session, days: int, today: date) -> dict[int, str]:
    rows = session.execute(select(Contract.customer_id, Payment.due, Payment.amount - Payment.paid_amount)
                           .join(Contract, Contract.id == Payment.contract_id)
                           .where(Payment.status != "已收", Payment.due <= today - timedelta(days=days)))
    worst: dict[int, tuple[date, Decimal]] = {}
    for cid, due, left in rows:
        d, total = worst.get(cid, (due, Decimal(0)))
        worst[cid] = (min(d, due), total + Decimal(left))
    active = _active_ids(session)
    return {cid: f"最早一笔 {d.isoformat()} 到期，逾期 {(today - d).days} 天，未收 {wan(total)}"
            for cid, (d, total) in worst.items() if cid in active}


def rule_matches(session: Session, rule: dict[str, Any], now: datetime, settings: Settings) -> dict[int, str]:
    today = now.astimezone(settings.tz).date()
    kind = rule["kind"]
    if kind == "ltv_top_percent":
        return _ltv_top(session, float(rule["percent"]))
    if kind == "no_interaction_days":
        return _silent(session, int(rule["days"]), now)
    if kind == "overdue_payment_days":
        return _overdue(session, int(rule["days"]), today)
    raise InvalidInput(f"未知的自动标签规则类型 {kind}")


def _links(session: Session, tag: Tag) -> dict[int, CustomerTag]:
    return {lk.customer_id: lk for lk in session.scalars(select(CustomerTag).where(CustomerTag.tag_id == tag.id))}


def _audit(session: Session, customer_id: int, action: str, tag: str, reason: str | None) -> None:
    customer = session.get_one(Customer, customer_id)
    audit.record(session, SYSTEM, action, customer, None, {"tag": tag, "reason": reason})


def refresh_rule_tags(session: Session, now: datetime, settings: Settings | None = None) -> list[TagChange]:
    settings = settings or get_settings()
    changes: list[TagChange] = []
    names = dict(session.execute(select(Customer.id, Customer.name)).all())
    for rule in tag_vocab.rules(settings):
        tag = tag_vocab.new_tag(session, rule["tag"])
        wanted = rule_matches(session, rule, now, settings)
        links = _links(session, tag)
        for cid, link in links.items():
            if link.source == "rule" and cid not in wanted:
                session.delete(link)
                changes.append(TagChange(cid, names.get(cid, ""), tag.name, "remove", "rule", link.reason))
                _audit(session, cid, "customer.untag", tag.name, "规则不再满足：" + (link.reason or ""))
        for cid, reason in wanted.items():
            link = links.get(cid)
            reason = f"规则：{reason}"[:200]
            if link is None:
                session.add(CustomerTag(customer_id=cid, tag_id=tag.id, source="rule", reason=reason, created_at=now))
                changes.append(TagChange(cid, names.get(cid, ""), tag.name, "add", "rule", reason))
                _audit(session, cid, "customer.tag", tag.name, reason)
            elif link.source == "rule" and link.reason != reason:
                link.reason = reason  # the figure moved; not worth an audit row each night
                changes.append(TagChange(cid, names.get(cid, ""), tag.name, "update", "rule", reason))
    session.flush()
    return changes


def _brief_texts(session: Session, since: datetime) -> list[tuple[int, str, str]]:
    """(customer id, where, text) of recent follow-ups and proposal notes."""
    out = [(cid, f"跟进 {when.date().isoformat()} ", text) for cid, when, text in session.execute(
        select(Interaction.customer_id, Interaction.occurred_at, Interaction.summary)
        .where(Interaction.occurred_at >= since))]
    out += [(cid, f"方案「{title}」", note) for cid, title, note in session.execute(
        select(Proposal.customer_id, Proposal.title, ProposalVersion.change_note).join(ProposalVersion)
        .where(ProposalVersion.created_at >= since, ProposalVersion.change_note.is_not(None)))]
    return out


def refresh_brief_tags(session: Session, now: datetime, since: datetime | None = None) -> list[TagChange]:
    """Add (never remove) vocabulary tags found in recent texts; a tag a customer has is left alone."""
    since = since or now - timedelta(days=BRIEF_DAYS)
    active = _active_ids(session)
    changes: list[TagChange] = []
    have = {(cid, tid) for cid, tid in session.execute(select(CustomerTag.customer_id, CustomerTag.tag_id))}
    names = dict(session.execute(select(Customer.id, Customer.name)).all())
    for cid, where, text in _brief_texts(session, since):
        if cid not in active or not text:
            continue
        for k in keywords(text).tags:
            tag = tag_vocab.new_tag(session, k.tag)
            if (cid, tag.id) in have:
                continue
            reason = brief_reason(k, where)
            session.add(CustomerTag(customer_id=cid, tag_id=tag.id, source="nlp", reason=reason, created_at=now))
            have.add((cid, tag.id))
            changes.append(TagChange(cid, names.get(cid, ""), tag.name, "add", "nlp", reason))
            _audit(session, cid, "customer.tag", tag.name, reason)
    session.flush()
    return changes


def refresh_auto_tags(session: Session, now: datetime, settings: Settings | None = None) -> list[TagChange]:
    """Nightly: rule tags reconciled, brief keywords of the last ``BRIEF_DAYS`` days added."""
    session.flush()
    tag_vocab.ensure_categories(session)
    return refresh_rule_tags(session, now, settings) + refresh_brief_tags(session, now)

