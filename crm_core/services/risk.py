"""Churn and renewal risk. There is no risk model yet: this lists *signals* found in the data
(contracts ending without a renewal in the pipeline, overdue payments, long silence, tickets past
their SLA) and says plainly that no risk score exists. It never claims a customer is safe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.models import (
    OPEN_STAGES,
    OPEN_TICKET_STATUSES,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Staff,
    Ticket,
)
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services.paging import Page

RENEWAL_WINDOW_DAYS = 60
SILENCE_DAYS = 60


class RiskRow(BaseModel):
    ref: str | None
    customer: str
    owner: str | None
    tier: str | None
    signals: list[str]


@dataclass
class RiskReport:
    page: Page[RiskRow] = field(default_factory=Page)
    scored: bool = False  # True once a churn model writes scores; until then only signals
    customers_checked: int = 0


def risk_signals(session: Session, actor: Actor, today: date, *, owner_ref: str | None = None, offset: int = 0,
                 limit: int = 10) -> RiskReport:
    require(actor, Cap.risk_read)
    stmt = select(Customer).where(customer_scope(actor))
    if owner_ref:
        stmt = stmt.where(Customer.owner_id.in_(select(Staff.id).where(Staff.ref == owner_ref)))
    customers = list(session.scalars(stmt))
    ids = [c.id for c in customers]
    if not ids:
        return RiskReport(page=Page(), customers_checked=0)
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
    flagged = [c for c in customers if signals[c.id]]
    flagged.sort(key=lambda c: (-len(signals[c.id]), c.name))
    rows = [RiskRow(ref=c.ref, customer=c.name, owner=c.owner.name if c.owner else None, tier=c.tier,
                    signals=signals[c.id]) for c in flagged]
    return RiskReport(page=Page(items=rows[offset:offset + limit], total=len(rows), offset=offset),
                      customers_checked=len(customers))
