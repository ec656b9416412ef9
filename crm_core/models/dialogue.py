"""Per-(chat, sender) conversation state: a short context and at most one pending question.

Kept in the database so that a confirmation or a numbered clarification works across processes
and restarts (``crmbot chat`` runs one process per message; the server may run several).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, IdMixin, utcnow


class DialogueState(IdMixin, Base):
    __tablename__ = "dialogue_states"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "sender_id"),)

    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(128))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)  # last entities, last list and its page
    pending: Mapped[dict[str, Any] | None] = mapped_column()  # a confirmation or clarification awaiting an answer
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
