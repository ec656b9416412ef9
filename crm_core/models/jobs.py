"""Scheduled jobs: their leases, the ledger of what was pushed to whom, and churn-risk scores.

- ``JobRun``: one row per job. A process runs a job only while it holds the lease (``lease_owner``
  until ``lease_until``, wall clock), so several server processes on one database take turns.
- ``PushRecord``: one row per (job, entity, period, recipient) ever pushed — the unique constraint is
  what makes a reminder exactly-once, whatever the lease did. A batched message lists several records;
  a personal message also gets a row of its own (entity ``message``, period = its outbox key), which is
  what the daily limit counts.
- ``RiskScore`` is the history of a customer's churn score (a row when it moved), ``CustomerRisk``
  the current one (what ``/风险`` and the customer profile show), ``RiskModel`` a trained model.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, IdMixin, utcnow


class JobRun(IdMixin, Base):
    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), unique=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    last_as_of: Mapped[datetime | None] = mapped_column()  # the business clock of the run (``--now``)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)


PUSH_STATUSES = ("sent", "capped")  # capped: over the person's daily limit, summarised instead


class PushRecord(IdMixin, Base):
    __tablename__ = "push_ledger"
    __table_args__ = (
        UniqueConstraint("job", "entity", "period", "recipient"),
        # A pass writes thousands of item rows; only the few "message" and "capped" rows are counted by day, so
        # those two are partial indexes, and pruning by day uses a BRIN index (days grow with the ids), which
        # costs next to nothing per insert. SQLite has no BRIN: there it is a plain index.
        Index("ix_push_ledger_messages", "day", "recipient", sqlite_where=text("entity = 'message'"),
              postgresql_where=text("entity = 'message'")),
        Index("ix_push_ledger_capped", "day", "recipient", sqlite_where=text("status = 'capped'"),
              postgresql_where=text("status = 'capped'")),
        Index("ix_push_ledger_day", "day", postgresql_using="brin"),
    )

    job: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))  # "task:12", "payment:3", "customer:7", "digest"
    period: Mapped[str] = mapped_column(String(64))  # "2026-12-02", "due:2026-12-03", "week:2026-W49"
    recipient: Mapped[str] = mapped_column(String(160))  # "staff:4" or "chat:<chat id>"
    day: Mapped[date] = mapped_column(Date)  # local day of the push (daily limits)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RiskScore(IdMixin, Base):
    __tablename__ = "risk_scores"
    __table_args__ = (Index("ix_risk_scores_customer", "customer_id", "as_of"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None] = mapped_column(Integer)  # None: not enough data (never "no risk")
    method: Mapped[str] = mapped_column(String(16))  # model | rules | insufficient
    reasons: Mapped[list[str]] = mapped_column(default=list)
    features: Mapped[dict[str, Any]] = mapped_column(default=dict)
    above: Mapped[bool] = mapped_column(default=False)  # at or over the alert threshold (with hysteresis)
    crossed: Mapped[bool] = mapped_column(default=False)  # this score crossed the threshold upwards


class CustomerRisk(Base):
    __tablename__ = "customer_risk"
    __table_args__ = (Index("ix_customer_risk_score", "score"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    signal_keys: Mapped[list[str]] = mapped_column(default=list)
    as_of: Mapped[date] = mapped_column(Date)
    above: Mapped[bool] = mapped_column(default=False)
    above_since: Mapped[date | None] = mapped_column(Date)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("risk_scores.id", ondelete="SET NULL"))


class RiskModel(IdMixin, Base):
    """A churn model's parameters as JSON (scaler and logistic-regression weights), not a pickle."""

    __tablename__ = "risk_models"

    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    samples: Mapped[int] = mapped_column(Integer)
    churned: Mapped[int] = mapped_column(Integer)
    auc: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
