"""The pipeline: opportunities of visible customers, listed and looked up (stage moves: services.work)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.errors import NotFound
from crm_core.models import OPEN_STAGES, STAGES, Customer, Opportunity, Staff
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services.paging import Page


class OpportunityRow(BaseModel):
    ref: str | None
    name: str
    customer: str
    stage: str
    amount: Decimal | None
    owner: str | None


def opportunity_scope(actor: Actor) -> ColumnElement[bool]:
    return Opportunity.customer_id.in_(select(Customer.id).where(customer_scope(actor)))


def opportunity_by_ref(session: Session, actor: Actor, ref: str) -> Opportunity:
    require(actor, Cap.opportunity_read)
    cond = Opportunity.id == int(ref[1:]) if ref.startswith("#") and ref[1:].isdigit() else Opportunity.ref == ref
    opp = session.scalars(select(Opportunity).where(cond, opportunity_scope(actor))).first()
    if opp is None:
        raise NotFound("没有找到你可以查看的这个商机。")
    return opp


def open_opportunities(session: Session, actor: Actor, customer_id: int) -> list[Opportunity]:
    require(actor, Cap.opportunity_read)
    return list(session.scalars(select(Opportunity).where(
        Opportunity.customer_id == customer_id, Opportunity.stage.in_(OPEN_STAGES), opportunity_scope(actor))
        .order_by(Opportunity.amount.desc().nulls_last(), Opportunity.id)))


def list_opportunities(session: Session, actor: Actor, *, owner_ref: str | None = None, stage: str | None = None,
                       customer_ref: str | None = None, offset: int = 0, limit: int = 10) -> Page[OpportunityRow]:
    """Visible opportunities; without a stage, the open ones. Biggest first."""
    require(actor, Cap.opportunity_read)
    stmt = select(Opportunity).where(opportunity_scope(actor))
    stmt = stmt.where(Opportunity.stage == stage) if stage in STAGES else stmt.where(Opportunity.stage.in_(OPEN_STAGES))
    if owner_ref:
        stmt = stmt.where(Opportunity.owner_id.in_(select(Staff.id).where(Staff.ref == owner_ref)))
    if customer_ref:
        stmt = stmt.where(Opportunity.customer_id.in_(select(Customer.id).where(Customer.ref == customer_ref)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Opportunity.amount.desc().nulls_last(), Opportunity.id)
                           .offset(offset).limit(limit))
    return Page(items=[OpportunityRow(ref=o.ref, name=o.name, customer=o.customer.name, stage=o.stage, amount=o.amount,
                                      owner=o.owner.name if o.owner else None) for o in rows],
                total=total, offset=offset)


def pipeline_totals(session: Session, actor: Actor, owner_ref: str | None = None) -> dict[str, tuple[int, Decimal]]:
    """Per stage: (count, amount) of visible opportunities."""
    require(actor, Cap.opportunity_read)
    stmt = select(Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount), 0)).where(
        opportunity_scope(actor))
    if owner_ref:
        stmt = stmt.where(Opportunity.owner_id.in_(select(Staff.id).where(Staff.ref == owner_ref)))
    found = {stage: (int(n), Decimal(total)) for stage, n, total in session.execute(stmt.group_by(Opportunity.stage))}
    return {stage: found.get(stage, (0, Decimal(0))) for stage in STAGES}
