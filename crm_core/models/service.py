"""Service tickets and their notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin, utcnow
from crm_core.models.customers import Contact, Customer
from crm_core.models.people import Staff

TICKET_STATUSES = ("待处理", "处理中", "已解决", "已关闭")
OPEN_TICKET_STATUSES = ("待处理", "处理中")
TICKET_PRIORITIES = ("低", "中", "高", "紧急")


class Ticket(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_sla", "status", "sla_due_at"),)

    number: Mapped[int] = mapped_column(Integer, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(4), default="中")
    status: Mapped[str] = mapped_column(String(8), default="待处理", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[str | None] = mapped_column(String(32))
    sla_due_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    csat: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
    notes: Mapped[list[TicketNote]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketNote.id"
    )


class TicketNote(IdMixin, Base):
    __tablename__ = "ticket_notes"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")
