"""Plumbing records: processed-message log, outbox, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, IdMixin, utcnow


class ProcessedMessage(IdMixin, Base):
    """One row per inbound message key, so a retried or redelivered message is handled once.

    ``status``: ``received`` once claimed (its reply, if any, is the outbox row keyed
    ``reply:<channel>:<key>``), ``failed`` when the handler raised and the sender got an apology."""

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("channel", "message_key"),)

    channel: Mapped[str] = mapped_column(String(16))
    message_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")


class OutboxMessage(IdMixin, Base):
    """A message to deliver; the dedupe key (job, entity, period) makes pushes exactly-once.

    One row is one request to a messenger (a long reply is several rows chained by ``after_id``,
    each sent only once its predecessor is settled). ``status``: pending → sending (claimed by a
    worker: ``claim_token``, lease from ``claimed_at``) → sent | dead (after ``attempts`` reached the
    limit, or a permanent error).
    ``rate_key`` names the robot a per-robot limiter counts against (webhooks only).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_target", "target"),
        # only webhook rows have a rate key (a third of a push pass); the limiter asks "rate_key = …"
        Index("ix_outbox_rate_key_sent", "rate_key", "sent_at", sqlite_where=text("rate_key IS NOT NULL"),
              postgresql_where=text("rate_key IS NOT NULL")),
    )

    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    msg_type: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mentions: Mapped[list[str]] = mapped_column(default=list)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    claim_token: Mapped[str | None] = mapped_column(String(32))  # the claiming worker; "c…" claimed, "s…" being sent
    after_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    rate_key: Mapped[str | None] = mapped_column(String(100))
    delivered_via: Mapped[str | None] = mapped_column(String(32))


class ChannelCursor(IdMixin, Base):
    """A named position in a messenger's stream, e.g. the 微信客服 ``sync_msg`` cursor per account."""

    __tablename__ = "channel_cursors"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    actor: Mapped[str] = mapped_column(String(128))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    entity_ref: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
