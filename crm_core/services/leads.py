"""Leads: record a new one, list the pool (待分配), claim one. The pool is visible to whoever may claim."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import Ambiguous, InvalidInput, NotFound
from crm_core.models import Customer, Lead, Staff, utcnow
from crm_core.permissions import Cap, can, require, sees_everything
from crm_core.services.paging import Page

POOL = "待分配"


class LeadRow(BaseModel):
    ref: str | None
    name: str
    industry: str | None
    region: str | None
    summary: str | None
    amount: Decimal | None
    status: str
    owner: str | None


def lead_scope(actor: Actor) -> ColumnElement[bool]:
    """The pool for those who may claim; one's own leads; managers see their department's too."""
    if sees_everything(actor):
        return true()
    conds = [Lead.owner_id == actor.staff_id]
    if can(actor, Cap.lead_claim):
        conds.append(Lead.status == POOL)
    if actor.role is not None and actor.role.value == "manager":
        conds.append(Lead.owner_id.in_(select(Staff.id).where(Staff.department == actor.department)))
    return or_(*conds)


def _row(lead: Lead) -> LeadRow:
    return LeadRow(ref=lead.ref, name=lead.name, industry=lead.industry, region=lead.region, summary=lead.summary,
                   amount=lead.amount, status=lead.status, owner=lead.owner.name if lead.owner else None)


def create_lead(session: Session, actor: Actor, name: str, *, industry: str | None = None,
                summary: str | None = None, amount: Decimal | int | None = None, region: str | None = None,
                source: str = "chat") -> Lead:
    """A lead recorded by a salesperson is theirs at once (already claimed)."""
    require(actor, Cap.lead_create)
    name = name.strip()
    if not name:
        raise InvalidInput("线索名称不能为空")
    if session.scalars(select(Lead.id).where(Lead.name == name)).first() is not None:
        raise InvalidInput(f"线索「{name}」已经登记过了，可以发送「认领线索 {name}」或联系主管分配。")
    if session.scalars(select(Customer.id).where(Customer.name == name)).first() is not None:
        raise InvalidInput(f"「{name}」已经是客户了，无需再登记线索。")
    mine = actor.staff_id is not None and can(actor, Cap.lead_claim)
    lead = Lead(name=name, industry=industry, summary=summary, amount=Decimal(amount) if amount is not None else None,
                region=region, source=source, status="已认领" if mine else POOL,
                owner_id=actor.staff_id if mine else None, claimed_at=utcnow() if mine else None)
    session.add(lead)
    session.flush()
    audit.record(session, actor, "lead.create", lead, None, audit.snapshot(lead))
    return lead


def lead_pool(session: Session, actor: Actor, offset: int = 0, limit: int = 10) -> Page[LeadRow]:
    require(actor, Cap.lead_claim)
    stmt = select(Lead).where(Lead.status == POOL)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Lead.created_at.desc(), Lead.id.desc()).offset(offset).limit(limit))
    return Page(items=[_row(lead) for lead in rows], total=total, offset=offset)


def find_pool_lead(session: Session, actor: Actor, text: str) -> Lead:
    """A pool lead by ref or (fuzzy) name; NotFound / Ambiguous otherwise."""
    require(actor, Cap.lead_claim)
    text = text.strip()
    pool = list(session.scalars(select(Lead).where(Lead.status == POOL)))
    exact = [lead for lead in pool if text in (lead.ref, lead.name)]
    if exact:
        return exact[0]
    scored = sorted(((lead, fuzz.partial_ratio(text, lead.name)) for lead in pool), key=lambda ls: -ls[1])
    good = [(lead, s) for lead, s in scored if s >= 75]
    if not good:
        raise NotFound(f"线索池里没有「{text}」。发送「线索池」看看现在有哪些待认领的线索。")
    tied = [lead for lead, s in good if s >= good[0][1] - 3]
    if len(tied) > 1:
        raise Ambiguous(f"线索池里有多条与「{text}」相近的线索，你是指哪一条？", [(x.ref or f"#{x.id}", x.name) for x in tied])
    return good[0][0]


def claim_lead(session: Session, actor: Actor, lead: Lead) -> Lead:
    require(actor, Cap.lead_claim)
    lead = session.get(Lead, lead.id) or lead
    if lead.status != POOL:
        raise InvalidInput(f"线索「{lead.name}」已经被认领或处理了。")
    before = audit.snapshot(lead)
    # conditional update: of two people claiming at once, exactly one wins
    won = session.execute(update(Lead).where(Lead.id == lead.id, Lead.status == POOL).values(
        status="已认领", owner_id=actor.staff_id, claimed_at=utcnow()).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        session.expire(lead)
        raise InvalidInput(f"线索「{lead.name}」刚刚被其他同事认领了。")
    session.refresh(lead)
    audit.record(session, actor, "lead.claim", lead, before, audit.snapshot(lead))
    return lead
