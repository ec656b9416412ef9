"""The push ledger: which (job, entity, period) was told to which recipient — each at most once.

``claim`` inserts ledger rows with ``ON CONFLICT DO NOTHING … RETURNING``: only rows that were not
there before come back, so of two runners racing on the same reminders (or a run repeated after a
restart) exactly one gets each item. The claim, the message built from the claimed items and its
outbox row are written in one transaction: either all of it is stored or none of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, literal, select
from sqlalchemy.orm import Session

from crm_core.models import PushRecord
from crm_core.services import bulk

SENT, CAPPED = "sent", "capped"  # capped: held back by the daily message limit
UNCAPPED_JOBS = ("digest",)  # the digest is itself the summary; it never counts against the daily limit


MESSAGE = "message"  # the entity of a ledger row that stands for one message (the daily limit counts them)


@dataclass(frozen=True)
class Claim:
    job: str
    entity: str
    period: str
    recipient: str
    urgent: bool = False
    status: str = field(default=SENT, compare=False)  # how the row is stored: told, or held by the limit


def claim(session: Session, claims: Sequence[Claim], *, day: date, now: datetime) -> dict[Claim, int]:
    """Record ``claims``; returns those that are new (with their ledger ids). Already-pushed ones are left out."""
    if not claims:
        return {}
    rows = [{"job": c.job, "entity": c.entity, "period": c.period, "recipient": c.recipient, "day": day,
             "status": c.status, "urgent": c.urgent, "created_at": now} for c in dict.fromkeys(claims)]
    won = {(r.job, r.entity, r.period, r.recipient): r.id for r in bulk.insert_rows(
        session, PushRecord.__table__, rows, returning=("id", "job", "entity", "period", "recipient"),
        on_conflict_do_nothing=("job", "entity", "period", "recipient"))}
    return {c: won[(c.job, c.entity, c.period, c.recipient)] for c in claims
            if (c.job, c.entity, c.period, c.recipient) in won}


def alerts_on(session: Session, day: date) -> Counter[str]:
    """Messages pushed to each person on ``day`` that count against the daily limit."""
    rows = session.execute(select(PushRecord.recipient, func.count()).where(  # inline: the partial index's term
        PushRecord.day == day, PushRecord.entity == literal(MESSAGE, literal_execute=True)).group_by(PushRecord.recipient))
    return Counter({recipient: int(n) for recipient, n in rows})


def capped_on(session: Session, days: Sequence[date]) -> Counter[str]:
    """Items held back by the daily limit on ``days``, per person (the digest mentions them)."""
    rows = session.execute(select(PushRecord.recipient, func.count()).where(
        PushRecord.day.in_(list(days)), PushRecord.status == literal(CAPPED, literal_execute=True))
        .group_by(PushRecord.recipient))
    return Counter({recipient: int(n) for recipient, n in rows})


def prune(session: Session, before: date) -> int:
    """Ledger rows older than any period a job still looks at."""
    result = session.execute(delete(PushRecord).where(PushRecord.day < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
