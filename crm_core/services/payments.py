"""Payments due: unpaid instalments of visible customers' contracts, overdue first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.models import Contract, Customer, Payment, Staff
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services.paging import Page

DEFAULT_HORIZON_DAYS = 30


class DueRow(BaseModel):
    ref: str | None
    customer: str
    customer_ref: str | None
    contract: str
    seq: int
    due: date
    outstanding: Decimal
    status: str
    overdue_days: int  # 0 when not yet due
    owner: str | None


@dataclass
class DueReport:
    page: Page[DueRow]
    overdue_total: Decimal
    upcoming_total: Decimal
    until: date


def payments_due(session: Session, actor: Actor, today: date, *, customer_ref: str | None = None,
                 until: date | None = None, offset: int = 0, limit: int = 10) -> DueReport:
    """Overdue instalments and those due by ``until`` (default: 30 days), for customers the actor may see."""
    require(actor, Cap.payment_read)
    until = until or today + timedelta(days=DEFAULT_HORIZON_DAYS)
    stmt = (select(Payment, Contract, Customer).join(Contract, Payment.contract_id == Contract.id)
            .join(Customer, Contract.customer_id == Customer.id)
            .where(customer_scope(actor), Payment.status != "已收", Payment.due <= until))
    if customer_ref:
        stmt = stmt.where(Customer.ref == customer_ref)
        until = max(until, today + timedelta(days=366))  # one customer: show the whole plan ahead
        stmt = stmt.where(Payment.due <= until)
    rows = list(session.execute(stmt.order_by(Payment.due, Payment.id)))
    owners = {s.id: s.name for s in session.scalars(select(Staff).where(
        Staff.id.in_({c.owner_id for _, c, _ in rows if c.owner_id})))} if rows else {}
    items = []
    overdue_total = upcoming_total = Decimal(0)
    for pay, contract, customer in rows:
        outstanding = Decimal(pay.amount) - Decimal(pay.paid_amount or 0)
        late = (today - pay.due).days if pay.due < today else 0
        if late:
            overdue_total += outstanding
        else:
            upcoming_total += outstanding
        items.append(DueRow(ref=pay.ref, customer=customer.name, customer_ref=customer.ref, contract=contract.title,
                            seq=pay.seq, due=pay.due, outstanding=outstanding, status=pay.status, overdue_days=late,
                            owner=owners.get(contract.owner_id or customer.owner_id or -1)))
    return DueReport(page=Page(items=items[offset:offset + limit], total=len(items), offset=offset),
                     overdue_total=overdue_total, upcoming_total=upcoming_total, until=until)
