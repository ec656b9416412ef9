"""Curation of the CRM's own data: talents' past work, tier assessments and their history, merges.

- ``TalentWork``: one piece of past work of a talent (a project part or a portfolio case) with the
  client's rating; satisfaction and "a relevant past case" in recommendations come from here.
- ``TierAssessment``: the latest output of the tier model per customer (score, parts, reasons).
- ``TierChange``: every change of a customer's tier, by the model or by hand, with its reasons.
- ``MergeRecord``: a merge of two customers (or two contacts) as the list of steps it took, so that
  it can be shown and undone exactly.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, utcnow
from crm_core.models.people import TalentProfile


class TalentWork(IdMixin, Base):
    __tablename__ = "talent_works"

    profile_id: Mapped[int] = mapped_column(ForeignKey("talent_profiles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[list[str]] = mapped_column(default=list)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    industry: Mapped[str | None] = mapped_column(String(32))
    rating: Mapped[float | None] = mapped_column(Float)  # the client's rating, 0–5
    finished_on: Mapped[date | None] = mapped_column(Date)

    profile: Mapped[TalentProfile] = relationship(back_populates="works")


class TierAssessment(IdMixin, Base):
    __tablename__ = "tier_assessments"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    tier: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    parts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # budget / depth / industry points and facts
    reasons: Mapped[list[str]] = mapped_column(default=list)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TierChange(IdMixin, Base):
    __tablename__ = "tier_changes"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    old_tier: Mapped[str | None] = mapped_column(String(8))
    new_tier: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # rule | manual
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    actor: Mapped[str] = mapped_column(String(128))
    notified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MergeRecord(IdMixin, Base):
    """``steps`` are applied in order and undone in reverse:
    ``{"op": "move", "table", "column", "ids", "from", "to"}`` re-points rows;
    ``{"op": "set", "table", "id", "before", "after"}`` changes columns of one row."""

    __tablename__ = "merge_records"

    kind: Mapped[str] = mapped_column(String(16))  # customer | contact
    kept_id: Mapped[int] = mapped_column(Integer, index=True)
    merged_id: Mapped[int] = mapped_column(Integer, index=True)
    kept_label: Mapped[str] = mapped_column(String(200))
    merged_label: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what moved, per kind, for display
    steps: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    actor: Mapped[str] = mapped_column(String(128))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column()
    undone_by: Mapped[str | None] = mapped_column(String(128))
