"""Churn and renewal risk as users see it: the stored score (``crm_core.risk``, computed by the nightly
``churn_risk`` job) with its reasons, plus live *signals* (contracts ending without a renewal in the
pipeline, overdue payments, long silence, tickets past their SLA).

``/风险`` and the customer profile show the same stored score (``crm_core.risk.history.describe``). A customer without
enough data says so; nothing here ever claims a customer is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import get_settings
from crm_core.actor import Actor
from crm_core.models import (
    OPEN_STAGES,
    OPEN_TICKET_STATUSES,
    Contract,
    Customer,
    CustomerRisk,
    Opportunity,
    Payment,
    Staff,
    Ticket,
)
from crm_core.permissions import Cap, customer_scope, require
from crm_core.risk import history
from crm_core.risk.model import CHURNED_STATUSES
from crm_core.services.paging import Page

RENEWAL_WINDOW_DAYS = 60
SILENCE_DAYS = 60
CHUNK = 1000  # customers per query (SQLite caps bound parameters)


class RiskRow(BaseModel):
    ref: str | None
    customer: str
    owner: str | None
    tier: str | None
    signals: list[str]
    score: int | None = None  # the stored churn score; None: not scored or not enough data
    risk: str | None = None  # the stored score as one line (same text as the customer profile)


@dataclass
class RiskReport:
    page: Page[RiskRow] = field(default_factory=Page)
    scored: bool = False  # True once the churn job has stored scores for these customers
    customers_checked: int = 0
    insufficient: int = 0  # customers whose data is too thin to score (never counted as safe)
    unscored: int = 0  # current customers the churn job has not scored yet (a bulk import is scored over days)
    threshold: int = 60


def _threshold(threshold: int | None) -> int:
    return threshold if threshold is not None else get_settings().churn_alert_threshold


def risk_signals(session: Session, actor: Actor, today: date, *, owner_ref: str | None = None, offset: int = 0,
                 limit: int = 10, threshold: int | None = None) -> RiskReport:
    """Visible customers worth a look: a stored score at "medium" or above, or a live signal. Highest first."""
    require(actor, Cap.risk_read)
    threshold = _threshold(threshold)
    stmt = select(Customer).where(customer_scope(actor))
    if owner_ref:
        stmt = stmt.where(Customer.owner_id.in_(select(Staff.id).where(Staff.ref == owner_ref)))
    customers = list(session.scalars(stmt))
    ids = [c.id for c in customers]
    if not ids:
        return RiskReport(page=Page(), customers_checked=0, threshold=threshold)
    signals: dict[int, list[str]] = {}
    stored: dict[int, CustomerRisk] = {}
    for i in range(0, len(ids), CHUNK):
        signals.update(_signals(session, customers[i:i + CHUNK], today))
        stored.update(history.current(session, ids[i:i + CHUNK]))
    worth = history.band(threshold // 2, threshold)  # "中"

    def flagged(c: Customer) -> bool:
        row = stored.get(c.id)
        scored_high = row is not None and row.score is not None and history.band(row.score, threshold) in ("高", worth)
        return scored_high or bool(signals[c.id])

    rows = [c for c in customers if flagged(c)]

    def order(c: Customer) -> tuple[int, int, str]:
        row = stored.get(c.id)
        score = row.score if row is not None and row.score is not None else -1
        return (-score, -len(signals[c.id]), c.name)

    rows.sort(key=order)
    items = [RiskRow(ref=c.ref, customer=c.name, owner=c.owner.name if c.owner else None, tier=c.tier,
                     signals=signals[c.id], score=stored[c.id].score if c.id in stored else None,
                     risk=history.describe(stored.get(c.id), threshold)) for c in rows]
    return RiskReport(page=Page(items=items[offset:offset + limit], total=len(items), offset=offset),
                      scored=bool(stored), customers_checked=len(customers),
                      insufficient=sum(1 for r in stored.values() if r.score is None), threshold=threshold,
                      unscored=sum(1 for c in customers if c.id not in stored and c.status not in CHURNED_STATUSES))


def _signals(session: Session, customers: list[Customer], today: date) -> dict[int, list[str]]:
    ids = [c.id for c in customers]
    signals: dict[int, list[str]] = {cid: [] for cid in ids}
    renewing = {cid for (cid,) in session.execute(select(Opportunity.customer_id).where(
        Opportunity.customer_id.in_(ids), Opportunity.stage.in_(OPEN_STAGES)))}
    horizon = today + timedelta(days=RENEWAL_WINDOW_DAYS)
    for contract in session.scalars(select(Contract).where(
            Contract.customer_id.in_(ids), Contract.end.is_not(None), Contract.end >= today, Contract.end <= horizon)):
        if contract.customer_id not in renewing:
            signals[contract.customer_id].append(f"合同「{contract.title}」{contract.end} 到期，管道中暂无续约商机")
    for cid, due in session.execute(select(Contract.customer_id, Payment.due).join(Payment).where(
            Contract.customer_id.in_(ids), Payment.status != "已收", Payment.due < today)):
        label = f"有逾期回款（最早 {due}）"
        if not any(s.startswith("有逾期回款") for s in signals[cid]):
            signals[cid].append(label)
    silence = datetime.combine(today - timedelta(days=SILENCE_DAYS), time(), tzinfo=None)
    for c in customers:
        last = c.last_contact_at
        if last is not None and last.replace(tzinfo=None) < silence:
            signals[c.id].append(f"已超过 {SILENCE_DAYS} 天没有跟进（上次 {last.date()}）")
    now = datetime.combine(today, time())
    for cid, sla in session.execute(select(Ticket.customer_id, Ticket.sla_due_at).where(
            Ticket.customer_id.in_(ids), Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.sla_due_at.is_not(None))):
        if sla.replace(tzinfo=None) < now and "有工单超出服务时限" not in signals[cid]:
            signals[cid].append("有工单超出服务时限")
    return signals
