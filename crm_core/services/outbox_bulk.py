"""Queueing many pushes at once: ``outbox.enqueue`` for thousands of messages, in a few statements.

A scheduled job queues up to one message per group and per person; one SELECT and one INSERT (plus
a flush of an ORM object) each would dominate a pass. Here single-part messages go in with one bulk
insert (``crm_core.services.bulk``) that skips any whose dedupe key is already queued (``ON CONFLICT DO
NOTHING`` on the unique key: no lookup first); a multi-part reply still goes through ``outbox.enqueue``,
which chains its parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_core.models import OutboxMessage, utcnow
from crm_core.services import bulk, outbox


def enqueue_many(session: Session, batches: Sequence[tuple[Sequence[outbox.NewMessage], datetime | None]], *,
                 now: datetime | None = None) -> None:
    """Each ``(messages, hold_until)`` as ``outbox.enqueue(session, messages, hold_until=…)`` would store it."""
    now = now or utcnow()
    singles: list[dict[str, Any]] = []
    for messages, hold_until in batches:
        if len(messages) != 1:
            outbox.enqueue(session, messages, now=now, hold_until=hold_until)
            continue
        m = messages[0]
        singles.append({"channel": m.channel, "target": m.target, "msg_type": m.msg_type, "text": m.text,
                        "payload": dict(m.payload), "mentions": list(m.mentions), "dedupe_key": m.dedupe_key,
                        "rate_key": m.rate_key, "status": outbox.PENDING, "attempts": 0,
                        "next_attempt_at": hold_until or now, "created_at": now, "after_id": None})
    bulk.insert_rows(session, OutboxMessage.__table__, singles, on_conflict_do_nothing=("dedupe_key",))
