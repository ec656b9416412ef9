"""Service tickets: staff see tickets of customers they may see; a client sees only its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import InvalidInput, NotFound
from crm_core.models import Customer, Ticket, utcnow
from crm_core.permissions import Cap, customer_scope, require, sees_everything
from crm_core.services.paging import Page

SLA_HOURS = {"紧急": 4, "高": 8, "中": 24, "低": 72}


def ticket_scope(actor: Actor) -> ColumnElement[bool]:
    if actor.kind == "external":
        return Ticket.customer_id == actor.customer_id if actor.customer_id else false()
    if sees_everything(actor):
        return true()
    if actor.kind != "staff":
        return false()
    return Ticket.customer_id.in_(select(Customer.id).where(customer_scope(actor)))


def list_tickets(session: Session, actor: Actor, open_only: bool = False, limit: int = 20) -> list[Ticket]:
    require(actor, Cap.ticket_read)
    stmt = select(Ticket).where(ticket_scope(actor))
    if open_only:
        stmt = stmt.where(Ticket.status.in_(("待处理", "处理中")))
    return list(session.scalars(stmt.order_by(Ticket.created_at.desc()).limit(limit)))


def get_ticket(session: Session, actor: Actor, number: int) -> Ticket:
    require(actor, Cap.ticket_read)
    ticket = session.scalars(select(Ticket).where(Ticket.number == number, ticket_scope(actor))).first()
    if ticket is None:
        raise NotFound(f"没有找到你可以查看的工单 {number}。")
    return ticket


def create_ticket(session: Session, actor: Actor, customer: Customer | None, title: str, priority: str = "中",
                  category: str | None = None, now: datetime | None = None) -> Ticket:
    """``now``: the message time, from which the SLA runs (default: the clock)."""
    require(actor, Cap.ticket_create)
    if actor.kind == "external":
        customer = session.get(Customer, actor.customer_id) if actor.customer_id else None
    elif customer is not None and session.scalars(
        select(Customer.id).where(Customer.id == customer.id, customer_scope(actor))
    ).first() is None:
        customer = None
    if customer is None:
        raise NotFound("没有找到你可以查看的这位客户，无法创建工单。")
    if not title.strip():
        raise InvalidInput("请描述一下遇到的问题")
    number = (session.scalar(select(func.max(Ticket.number))) or 1000) + 1
    opened = now.astimezone(UTC) if now is not None else utcnow()
    ticket = Ticket(number=number, ref=f"TK-{number}", customer_id=customer.id, contact_id=actor.contact_id,
                    title=title.strip(), priority=priority, category=category, status="待处理",
                    created_by_staff_id=actor.staff_id, source=actor.channel,
                    created_at=opened, sla_due_at=opened + timedelta(hours=SLA_HOURS.get(priority, 24)))
    session.add(ticket)
    session.flush()
    audit.record(session, actor, "ticket.create", ticket, None, audit.snapshot(ticket))
    return ticket


def list_tickets_page(session: Session, actor: Actor, *, mine: bool = False, open_only: bool = False,
                      offset: int = 0, limit: int = 10) -> Page[Ticket]:
    """Tickets in scope, newest first; ``mine`` = those the sender opened (or, for a client, their own)."""
    require(actor, Cap.ticket_read)
    stmt = select(Ticket).where(ticket_scope(actor))
    if mine and actor.kind == "staff":
        stmt = stmt.where(or_(Ticket.created_by_staff_id == actor.staff_id, Ticket.assignee_id == actor.staff_id))
    if open_only:
        stmt = stmt.where(Ticket.status.in_(("待处理", "处理中")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset(offset).limit(limit)))
    return Page(items=rows, total=total, offset=offset)
