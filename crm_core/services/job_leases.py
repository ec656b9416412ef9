"""Leases on scheduled jobs: of several processes sharing a database, one runs a job at a time.

``acquire`` is one conditional ``UPDATE … WHERE lease is free or expired``: on PostgreSQL a second
process blocks on the row lock until the first commits, then sees the lease taken; on SQLite writes
are serialised anyway. The caller commits right after acquiring. A crashed holder's lease expires
after ``ttl``. Leases run on the wall clock, never on a job's business clock (``--now``).

The lease only avoids wasted work: exactly-once delivery rests on the push ledger's unique key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.models import JobRun, utcnow


def _ensure_row(session: Session, job: str) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(JobRun).values(job=job, last_counts={}, runs=0).on_conflict_do_nothing(index_elements=["job"]))


def acquire(session: Session, job: str, owner: str, ttl_seconds: float, *, now: datetime | None = None) -> bool:
    """Take the lease on ``job`` for ``owner``; False when another owner holds an unexpired one."""
    now = now or utcnow()
    _ensure_row(session, job)
    result = session.execute(
        update(JobRun)
        .where(JobRun.job == job, or_(JobRun.lease_until.is_(None), JobRun.lease_until < now, JobRun.lease_owner == owner))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl_seconds), last_started_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(session: Session, job: str, owner: str, *, as_of: datetime, status: str, counts: dict[str, Any],
            error: str | None = None, now: datetime | None = None) -> None:
    """Give the lease back and record how the run went (only the holder can)."""
    session.execute(
        update(JobRun).where(JobRun.job == job, JobRun.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, last_finished_at=now or utcnow(), last_as_of=as_of,
                last_status=status, last_counts=counts, last_error=error, runs=JobRun.runs + 1)
        .execution_options(synchronize_session=False))


def last_run(session: Session, job: str) -> JobRun | None:
    return session.scalars(select(JobRun).where(JobRun.job == job)).first()


def job_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.job)))
