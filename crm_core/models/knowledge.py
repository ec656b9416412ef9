"""Knowledge-base articles, the case library, and stored embeddings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin, utcnow


class KBArticle(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "kb_articles"
    # the index's freshness check asks max(updated_at) every few seconds (knowledge/indexing.py)
    __table_args__ = (Index("ix_kb_articles_updated_at", "updated_at"),)

    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Case(IdMixin, RefMixin, TimestampMixin, Base):
    """A past campaign: free-form metrics as written, plus the normalised ones used for filters."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_updated_at", "updated_at"),)

    title: Mapped[str] = mapped_column(String(300))
    industry: Mapped[str | None] = mapped_column(String(32), index=True)
    format: Mapped[str | None] = mapped_column(String(32))
    channels: Mapped[list[str]] = mapped_column(default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(32))
    budget: Mapped[Any] = mapped_column(Numeric(14, 2), nullable=True)
    client: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics_norm: Mapped[dict[str, Any]] = mapped_column(default=dict)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))


class EmbeddingRecord(IdMixin, Base):
    """A vector for one chunk of one record, keyed by content hash and model: never embed twice."""

    __tablename__ = "embedding_records"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "chunk", "model"),)

    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    chunk: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
