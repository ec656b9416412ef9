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
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from config.vocab import load
from crm_core import audit
from crm_core.actor import Actor
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


def _contract_day(c: Contract) -> date:
    return c.signed_at or c.start or c.created_at.date()


def facts(session: Session, today: date, ids: list[int] | None = None) -> tuple[dict[int, Facts], Decimal]:
    """Facts per customer (all active customers, or ``ids``), and the agency's signed amount in the window."""
    m = model()
    since = today - timedelta(days=m["window_days"])
    before = since - timedelta(days=m["window_days"])
    q = select(Customer.id, Customer.industry, Customer.budget_level).where(Customer.merged_into_id.is_(None))
    if ids is not None:
        q = q.where(Customer.id.in_(ids))
    out = {cid: Facts(industry=ind, budget_level=bl) for cid, ind, bl in session.execute(q)}
    total = Decimal(0)
    excluded = m["excluded_contract_statuses"]
    for c in session.scalars(select(Contract).where(Contract.status.not_in(excluded))):
        day = _contract_day(c)
        if since < day <= today:
            total += c.amount
        f = out.get(c.customer_id)
        if f is None:
            continue
        f.contracts += 1
        f.first = min(f.first or day, day)
        if since < day <= today:
            f.window_amount += c.amount
        elif before < day <= since:
            f.prior_amount += c.amount
    rows = session.execute(select(Project.customer_id, func.count(), func.min(Project.start))
                           .where(Project.customer_id.in_(list(out))).group_by(Project.customer_id))
    for cid, n, first in rows:
        f = out[cid]
        f.projects = int(n)
        if first is not None:
            f.first = min(f.first or first, first)
    return out, total


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
    last_change: TierChange | None
    live: bool  # not yet assessed: the reasons were computed just now


def view(session: Session, customer: Customer, today: date) -> TierView:
    row = session.scalars(select(TierAssessment).where(TierAssessment.customer_id == customer.id)).first()
    live = row is None
    if row is None:
        found, total = facts(session, today, [customer.id])
        result = assess(found[customer.id], today, total) if customer.id in found else None
        model_tier, score, reasons = (result.tier, result.score, result.reasons) if result else (None, None, [])
    else:
        model_tier, score, reasons = row.tier, row.score, list(row.reasons)
    last = session.scalars(select(TierChange).where(TierChange.customer_id == customer.id)
                           .order_by(TierChange.created_at.desc(), TierChange.id.desc())).first()
    return TierView(tier=customer.tier, source=customer.tier_source, model_tier=model_tier, score=score,
                    reasons=reasons, playbook=playbook(customer.tier), last_change=last, live=live)


def recommended_cases(session: Session, actor: Actor, customer: Customer, tier: str | None) -> list[Case]:
    """The tier's case recommendations: same-industry cases with the best conversion, then ROI."""
    n = int(model()["case_recommendations"].get(tier or "", 0))
    if n <= 0 or not customer.industry or not can(actor, Cap.case_read):
        return []
    cases = list(session.scalars(select(Case).where(Case.industry == customer.industry).limit(500)))

    def key(c: Case) -> tuple[float, float, int]:
        norm = c.metrics_norm or {}
        return (-float(norm.get("cvr") or 0), -float(norm.get("roi") or 0), -(c.year or 0))

    return sorted(cases, key=key)[:n]
