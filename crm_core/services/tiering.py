"""Customer tiers 战略级 / 成长级 / 常规级 from budget contribution, depth of cooperation and industry.

The model and its numbers live in ``config/vocab/tiering.json`` (README "Customer tiers"):

- budget contribution (0–50): contracts signed in the last ``window_days`` (by signing date, else
  start, else entry), stepped; a customer without contracts is estimated from its budget level;
- depth of cooperation (0–35): years since the first contract or project, number of projects,
  renewals (contracts after the first);
- industry (0–15): points per industry.

战略级 and 成长级 have a score threshold each; a potential industry whose signed amount grew by
``growth.min_ratio`` year on year is 成长级 at least.

Who owns the tier (``Customer.tier_source``): ``manual`` — a manager set it in chat; it stays until
set back to 自动 (the model's view is still stored and shown). ``import`` — it came with an import
file; it stands until the nightly run, when the model takes it over. ``rule`` — the model's.
Every change is a ``TierChange`` with its reasons and an audit row; when the model changes a tier it
already owned, the owner is told in their 1:1 chat (taking over an imported or empty tier is quiet).

Scheduler: call ``recompute_all(session, now)`` nightly; importing contracts calls
``recompute_customers`` for the customers concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session

from config import Settings, get_settings
from config.vocab import load
from crm_core import audit
from crm_core.actor import Actor
from crm_core.hot_reads import HotRead
from crm_core.models import Case, Contract, Customer, Project, Staff, TierAssessment, TierChange, utcnow
from crm_core.permissions import Cap, can
from crm_core.services import notify

SYSTEM = Actor.system(channel="system", name="客户分层")


def model() -> dict[str, Any]:
    return load("tiering")


def wan(amount: Decimal | float) -> str:
    value = float(amount)
    return f"{value / 10000:.1f}".rstrip("0").rstrip(".") + "万" if abs(value) >= 10000 else f"{value:,.0f}元"


def _step(value: float, steps: list[list[float]]) -> float:
    return next((float(points) for threshold, points in steps if value >= threshold), 0.0)


@dataclass
class Facts:
    industry: str | None = None
    budget_level: str | None = None
    window_amount: Decimal = Decimal(0)
    prior_amount: Decimal = Decimal(0)
    contracts: int = 0
    projects: int = 0
    first: date | None = None


@dataclass
class Assessment:
    tier: str
    score: float
    parts: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


@dataclass
class Change:
    customer_id: int
    customer: str
    ref: str | None
    old: str | None
    new: str
    reasons: list[str]
    owner_id: int | None
    notified: bool


def _contract_day(c: Any) -> date:
    return c.signed_at or c.start or c.created_at.date()


_CONTRACT_COLUMNS = (Contract.customer_id, Contract.amount, Contract.signed_at, Contract.start, Contract.created_at)


def _count(f: Facts | None, c: Any, since: date, before: date, today: date) -> None:
    if f is None:
        return
    day = _contract_day(c)
    f.contracts += 1
    f.first = min(f.first or day, day)
    if since < day <= today:
        f.window_amount += c.amount
    elif before < day <= since:
        f.prior_amount += c.amount


_IDS = bindparam("ids", expanding=True)
_ALL_CUSTOMERS = select(Customer.id, Customer.industry, Customer.budget_level).where(Customer.merged_into_id.is_(None))
_SOME_CUSTOMERS = _ALL_CUSTOMERS.where(Customer.id.in_(_IDS))
_ALL_PROJECTS = select(Project.customer_id, func.count(), func.min(Project.start)).group_by(Project.customer_id)
_THEIR_PROJECTS = _ALL_PROJECTS.where(Project.customer_id.in_(_IDS))


class _ContractReads(NamedTuple):
    every: Any  # all counted contracts
    of_some: Any  # those of customers ``ids``
    of_one: HotRead  # those of customer ``cid``
    window: HotRead  # those whose day (signing, else start, else entry) can fall after ``since``


@lru_cache(maxsize=4)
def _contract_reads(excluded: tuple[str, ...]) -> _ContractReads:
    """Built once per list of excluded statuses (a profile of a customer not yet assessed runs two of them).
    Plain comparisons, not NOT IN: an IN list is re-rendered into the SQL on every execution."""
    counted = and_(true(), *(Contract.status != status for status in excluded))
    every = select(*_CONTRACT_COLUMNS).where(counted)
    since = bindparam("since")
    return _ContractReads(
        every, every.where(Contract.customer_id.in_(_IDS)), HotRead(every.where(Contract.customer_id == bindparam("cid"))),
        HotRead(every.where(or_(Contract.signed_at > since, and_(Contract.signed_at.is_(None), Contract.start > since),
                                and_(Contract.signed_at.is_(None), Contract.start.is_(None),
                                     Contract.created_at >= bindparam("entered"))))))


def _window(today: date) -> tuple[date, date]:
    """The assessment window's first day and the one before it (for year-on-year growth)."""
    days = model()["window_days"]
    since = today - timedelta(days=days)
    return since, since - timedelta(days=days)


def _window_total(conn: Any, reads: _ContractReads, since: date, today: date) -> Decimal:
    entered = datetime.combine(since - timedelta(days=1), datetime.min.time(), UTC)  # a day of slack for zones
    return sum((c.amount for c in reads.window.rows(conn, {"since": since, "entered": entered})
                if since < _contract_day(c) <= today), Decimal(0))


def facts(session: Session, today: date, ids: list[int] | None = None) -> tuple[dict[int, Facts], Decimal]:
    """Facts per customer (all active customers, or ``ids``), and the agency's signed amount in the window."""
    since, before = _window(today)
    reads = _contract_reads(tuple(model()["excluded_contract_statuses"]))
    session.flush()
    conn = session.connection()  # column reads only: the Core path costs a third of the ORM one per statement
    if ids is None:  # everyone: one pass over all contracts gives the facts and the agency's total
        out = {cid: Facts(industry=ind, budget_level=bl) for cid, ind, bl in conn.execute(_ALL_CUSTOMERS)}
        total = Decimal(0)
        for c in conn.execute(reads.every):
            if since < _contract_day(c) <= today:
                total += c.amount
            _count(out.get(c.customer_id), c, since, before, today)
        blocks: list[dict[str, Any] | None] = [None]
    else:  # some customers: their contracts; the agency's total from the contracts that can fall in the window
        out, total = {}, _window_total(conn, reads, since, today)
        blocks = [{"ids": ids[start:start + 500]} for start in range(0, len(ids), 500)]
        for block in blocks:
            out.update({cid: Facts(industry=ind, budget_level=bl)
                        for cid, ind, bl in conn.execute(_SOME_CUSTOMERS, block)})
            for c in conn.execute(reads.of_some, block):
                _count(out.get(c.customer_id), c, since, before, today)
    for block in blocks:
        for cid, n, first in conn.execute(_ALL_PROJECTS if block is None else _THEIR_PROJECTS, block):
            f = out.get(cid)
            if f is None:
                continue
            f.projects = int(n)
            if first is not None:
                f.first = min(f.first or first, first)
    return out, total


def estimate(session: Session, customer_id: int, known: Facts, today: date) -> tuple[Facts, Decimal]:
    """``facts`` for one customer whose industry, budget level and projects the caller already read:
    only its contracts and the agency's total are read here."""
    since, before = _window(today)
    reads = _contract_reads(tuple(model()["excluded_contract_statuses"]))
    session.flush()
    conn = session.connection()
    f = Facts(industry=known.industry, budget_level=known.budget_level, projects=known.projects, first=known.first)
    for c in reads.of_one.rows(conn, {"cid": customer_id}):
        _count(f, c, since, before, today)
    return f, _window_total(conn, reads, since, today)


def assess(f: Facts, today: date, agency_total: Decimal) -> Assessment:
    m = model()
    reasons: list[str] = []
    # budget contribution
    b = m["budget"]
    if f.contracts:
        budget = min(_step(float(f.window_amount), b["steps"]), b["max"])
        share = f"，占公司同期签约额 {float(f.window_amount / agency_total):.1%}" if agency_total and f.window_amount \
            else ""
        reasons.append(f"近{m['window_days'] // 30}个月签约 {wan(f.window_amount)}{share}"
                       f"（预算贡献 {budget:g}/{b['max']}）")
    else:
        budget = float(b["budget_level_without_contracts"].get(f.budget_level or "", 0))
        reasons.append(f"尚无签约合同，按预算等级「{f.budget_level or '未填'}」估计（预算贡献 {budget:g}/{b['max']}）")
    # depth of cooperation
    d = m["depth"]
    years = (today - f.first).days / 365 if f.first else 0.0
    renewals = max(f.contracts - 1, 0)
    depth = min(_step(years, d["years"]) + _step(f.projects, d["projects"]) + _step(renewals, d["renewals"]), d["max"])
    reasons.append(f"合作 {years:.1f} 年、{f.projects} 个项目、续约 {renewals} 次（合作深度 {depth:g}/{d['max']}）")
    # industry
    ind = m["industry"]
    industry = float(ind["points"].get(f.industry or "", ind["default"]))
    reasons.append(f"{f.industry or '未分类'}行业（行业 {industry:g}/{ind['max']}）")
    score = budget + depth + industry
    g = m["growth"]
    growing = bool(f.prior_amount) and f.window_amount >= f.prior_amount * Decimal(str(g["min_ratio"])) \
        and f.window_amount >= g["min_amount"]
    thresholds = m["tiers"]
    if score >= thresholds["战略级"]:
        tier = "战略级"
        reasons.insert(0, f"评分 {score:g}/100，达到战略级线 {thresholds['战略级']}")
    elif score >= thresholds["成长级"]:
        tier = "成长级"
        reasons.insert(0, f"评分 {score:g}/100，达到成长级线 {thresholds['成长级']}")
    elif growing and f.industry in ind["potential"]:
        tier = "成长级"
        reasons.insert(0, f"评分 {score:g}/100；潜力行业且预算增长快（签约额为上一周期的 "
                          f"{float(f.window_amount / f.prior_amount):.1f} 倍）")
    else:
        tier = "常规级"
        reasons.insert(0, f"评分 {score:g}/100，未到成长级线 {thresholds['成长级']}")
    parts = {"budget": budget, "depth": depth, "industry": industry, "window_amount": float(f.window_amount),
             "prior_amount": float(f.prior_amount), "years": round(years, 2), "projects": f.projects,
             "renewals": renewals, "growing": growing}
    return Assessment(tier=tier, score=score, parts=parts, reasons=reasons)


def playbook(tier: str | None) -> list[str]:
    return list(model()["playbooks"].get(tier or "", []))


def recompute_all(session: Session, now: datetime, settings: Settings | None = None) -> list[Change]:
    """Assess every customer; apply and announce changes. Returns the changes (for the job's log)."""
    return _recompute(session, now, None, settings or get_settings(), take_over_imported=True)


def recompute_customers(session: Session, ids: list[int], now: datetime,
                        settings: Settings | None = None) -> list[Change]:
    """The same for some customers (their contracts changed); an imported tier waits for the nightly run."""
    return _recompute(session, now, list(ids), settings or get_settings(), take_over_imported=False) if ids else []


def _recompute(session: Session, now: datetime, ids: list[int] | None, settings: Settings, *,
               take_over_imported: bool) -> list[Change]:
    session.flush()
    today = now.astimezone(settings.tz).date()
    found, total = facts(session, today, ids)
    stored = {a.customer_id: a for a in session.scalars(
        select(TierAssessment).where(TierAssessment.customer_id.in_(list(found))))}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(list(found))))}
    changes: list[Change] = []
    for cid, f in found.items():
        result = assess(f, today, total)
        row = stored.get(cid)
        if row is None:
            row = TierAssessment(customer_id=cid, tier=result.tier, score=result.score)
            session.add(row)
        if (row.tier, row.score, row.reasons, row.parts) != (result.tier, result.score, result.reasons, result.parts):
            row.tier, row.score, row.reasons, row.parts, row.computed_at = (
                result.tier, result.score, result.reasons, result.parts, now)
        customer = customers[cid]
        if customer.tier_source == "manual" or customer.tier == result.tier:
            continue
        if customer.tier_source == "import" and not take_over_imported:
            continue
        changes.append(_apply(session, customer, result, now, settings, notify_owner=customer.tier_source == "rule"))
    session.flush()
    return changes


def _apply(session: Session, customer: Customer, result: Assessment, now: datetime, settings: Settings, *,
           notify_owner: bool) -> Change:
    old = customer.tier
    before = audit.snapshot(customer)
    customer.tier, customer.tier_source = result.tier, "rule"
    session.flush()
    audit.record(session, SYSTEM, "customer.tier", customer, before,
                 audit.snapshot(customer, {"reasons": result.reasons}))
    notified = False
    owner = session.get(Staff, customer.owner_id) if customer.owner_id else None
    if notify_owner and owner is not None and owner.active:
        lines = [f"{customer.name}：{old or '未分级'} → {result.tier}", "原因：" + "；".join(result.reasons),
                 "服务策略：" + "；".join(playbook(result.tier)), f"发送 /客户 {customer.name} 查看档案。"]
        notify.to_staff(session, owner, "客户级别调整", lines, now=now, settings=settings,
                        dedupe_key=f"tier:{customer.id}:{old or '-'}>{result.tier}:{now.astimezone(settings.tz).date()}")
        notified = True
    session.add(TierChange(customer_id=customer.id, old_tier=old, new_tier=result.tier, source="rule",
                           score=result.score, reasons=result.reasons, actor=SYSTEM.describe(), notified=notified,
                           created_at=now))
    return Change(customer.id, customer.name, customer.ref, old, result.tier, result.reasons, customer.owner_id,
                  notified)


def record_manual(session: Session, actor: Actor, customer: Customer, old: str | None, now: datetime | None = None) -> None:
    """A manager set the tier by hand: it stays until set back to 自动."""
    session.add(TierChange(customer_id=customer.id, old_tier=old, new_tier=customer.tier or "", source="manual",
                           reasons=[f"{actor.name} 手动设定"], actor=actor.describe(), created_at=now or utcnow()))


# --- what the profile shows ----------------------------------------------------------------------


@dataclass
class TierView:
    tier: str | None
    source: str | None  # rule | manual | import | None
    model_tier: str | None
    score: float | None
    reasons: list[str]
    playbook: list[str]
    last_change: Any  # created_at, old_tier, new_tier, source of the latest TierChange, or None
    live: bool  # not yet assessed: the reasons were computed just now


_ASSESSMENT = HotRead(select(TierAssessment.tier, TierAssessment.score, TierAssessment.reasons).where(
    TierAssessment.customer_id == bindparam("cid")))
_LAST_CHANGE = HotRead(select(TierChange.created_at, TierChange.old_tier, TierChange.new_tier, TierChange.source).where(TierChange.customer_id == bindparam("cid"))
                .order_by(TierChange.created_at.desc(), TierChange.id.desc()).limit(1))
_SAME_INDUSTRY_CASES = HotRead(select(Case.title, Case.client, Case.metrics_norm, Case.year)
                        .where(Case.industry == bindparam("industry")).limit(500))


def view_of(session: Session, customer_id: int, tier: str | None, tier_source: str | None, today: date, *,
            stored: tuple[str, float, list[str]] | Literal["read"] | None = "read",
            known: Facts | None = None) -> TierView:
    """The tier as the profile shows it: the stored assessment, or one computed now when there is none yet.
    ``stored``: the assessment (tier, score, reasons) or None when the caller already read it; ``known``:
    the customer's facts the caller already has (see ``estimate``)."""
    cid = {"cid": customer_id}
    session.flush()
    conn = session.connection()
    row = _ASSESSMENT.first(conn, cid) if stored == "read" else stored
    live = row is None
    if row is None:
        if known is not None:
            own, total = estimate(session, customer_id, known, today)
            found = {customer_id: own}
        else:
            found, total = facts(session, today, [customer_id])
        result = assess(found[customer_id], today, total) if customer_id in found else None
        model_tier, score, reasons = (result.tier, result.score, result.reasons) if result else (None, None, [])
    else:
        model_tier, score, reasons = row[0], row[1], list(row[2] or [])
    last = _LAST_CHANGE.first(conn, cid)
    return TierView(tier=tier, source=tier_source, model_tier=model_tier, score=score,
                    reasons=reasons, playbook=playbook(tier), last_change=last, live=live)


def recommended_case_titles(session: Session, actor: Actor, industry: str | None,
                            tier: str | None) -> list[tuple[str, str | None]]:
    """The tier's case recommendations (title, client): same-industry cases with the best conversion, then ROI."""
    n = int(model()["case_recommendations"].get(tier or "", 0))
    if n <= 0 or not industry or not can(actor, Cap.case_read):
        return []

    def key(row: Any) -> tuple[float, float, int]:
        norm = row.metrics_norm or {}
        return (-float(norm.get("cvr") or 0), -float(norm.get("roi") or 0), -(row.year or 0))

    rows = sorted(_SAME_INDUSTRY_CASES.rows(session.connection(), {"industry": industry}), key=key)
    return [(row.title, row.client) for row in rows[:n]]
