"""The outbox: every message the bot sends goes through here, exactly once.

Producers ``enqueue`` rows (a long reply is several rows chained by ``after_id``); workers in any
number of processes ``claim`` due rows, send them, and ``mark_sent`` / ``mark_failed``. The claim is
atomic: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
``UPDATE … SET status='sending' WHERE status='pending'`` on SQLite. A row that was sent is never
claimed again; a row left in ``sending`` by a crashed worker is only sent again where the messenger
itself drops duplicates, otherwise it is dead-lettered for a person to decide (``retry``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from crm_core.errors import InvalidInput, NotFound
from crm_core.models import OutboxMessage, utcnow

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
SETTLED = (SENT, DEAD)


@dataclass
class NewMessage:
    """One request to a messenger, before it is stored."""

    channel: str
    target: str
    text: str
    msg_type: str = "text"
    payload: dict[str, Any] = field(default_factory=dict)
    mentions: list[str] = field(default_factory=list)
    dedupe_key: str | None = None
    rate_key: str | None = None


def enqueue(session: Session, messages: Sequence[NewMessage], *, now: datetime | None = None,
            hold_until: datetime | None = None) -> list[OutboxMessage]:
    """Store messages in order; each waits for the one before it. Idempotent by dedupe key:
    a message whose key is already in the outbox is not stored again (the existing row is returned)."""
    now = now or utcnow()
    rows: list[OutboxMessage] = []
    previous: OutboxMessage | None = None
    for message in messages:
        existing = None
        if message.dedupe_key:
            existing = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == message.dedupe_key)).first()
        if existing is not None:
            rows.append(existing)
            previous = existing
            continue
        row = OutboxMessage(channel=message.channel, target=message.target, msg_type=message.msg_type,
                            text=message.text, payload=dict(message.payload), mentions=list(message.mentions),
                            dedupe_key=message.dedupe_key, rate_key=message.rate_key, status=PENDING,
                            attempts=0, next_attempt_at=hold_until or now, created_at=now,
                            after_id=previous.id if previous is not None else None)
        session.add(row)
        session.flush()
        rows.append(row)
        previous = row
    return rows


def _due(now: datetime) -> Any:
    before = aliased(OutboxMessage)
    predecessor_open = exists().where(before.id == OutboxMessage.after_id, before.status.not_in(SETTLED))
    return and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now, ~predecessor_open)


def claim(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for this worker (status → sending). Safe with many processes.

    The caller commits right after, so other workers see the claim before anything is sent."""
    now = now or utcnow()
    order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
    if session.get_bind().dialect.name == "postgresql":
        rows = list(session.scalars(select(OutboxMessage).where(_due(now)).order_by(*order).limit(limit)
                                    .with_for_update(skip_locked=True, of=OutboxMessage)))
        for row in rows:
            row.status, row.claimed_at = SENDING, now
        session.flush()
        return rows
    ids = list(session.scalars(select(OutboxMessage.id).where(_due(now)).order_by(*order).limit(limit)))
    claimed: list[int] = []
    for row_id in ids:
        result = session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
                                 .values(status=SENDING, claimed_at=now)
                                 .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    if not claimed:
        return []
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(*order)))


def take_for_passive_reply(session: Session, ids: Iterable[int], *, now: datetime | None = None) -> bool:
    """The callback answers these rows itself (passive reply): pending → sent, all or nothing.

    False when a worker got to any of them first; then the worker delivers and the callback answers empty."""
    now = now or utcnow()
    wanted = list(ids)
    result = session.execute(update(OutboxMessage)
                             .where(OutboxMessage.id.in_(wanted), OutboxMessage.status == PENDING)
                             .values(status=SENT, sent_at=now, delivered_via="passive", attempts=1)
                             .execution_options(synchronize_session=False))
    if result.rowcount != len(wanted):  # type: ignore[attr-defined]
        session.rollback()
        return False
    return True


def release(session: Session, ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Make held rows due now (the callback decided not to answer them passively)."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == PENDING)
                    .values(next_attempt_at=now or utcnow())
                    .execution_options(synchronize_session=False))


def mark_sent(session: Session, row_id: int, *, via: str, now: datetime | None = None) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                    .values(status=SENT, sent_at=now or utcnow(), delivered_via=via, last_error=None,
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    exp = min(cap, base * (2 ** max(0, attempts - 1)))
    return exp / 2 + (rng or random).uniform(0, exp / 2)


def mark_failed(session: Session, row_id: int, error: str, *, retryable: bool, max_attempts: int,
                base: float, cap: float, now: datetime | None = None, min_delay: float = 0.0,
                rng: random.Random | None = None) -> str:
    """Count a failed attempt: back to pending with backoff, or dead after ``max_attempts`` (or at once
    when the error is permanent). Returns the new status."""
    now = now or utcnow()
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise NotFound(f"没有编号为 {row_id} 的待发消息")
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_at = None
    if not retryable or row.attempts >= max_attempts:
        row.status = DEAD
    else:
        row.status = PENDING
        row.next_attempt_at = now + timedelta(seconds=max(min_delay, backoff_delay(row.attempts, base, cap, rng)))
    session.flush()
    return row.status


def defer(session: Session, row_id: int, until: datetime, reason: str) -> None:
    """Not an attempt: put a claimed row back to wait (e.g. the robot's per-minute quota is used up)."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                    .values(status=PENDING, next_attempt_at=until, claimed_at=None, last_error=reason)
                    .execution_options(synchronize_session=False))


def sends_in_window(session: Session, rate_key: str, since: datetime, *,
                    exclude_ids: Iterable[int] = ()) -> list[datetime]:
    """When the rows counted against this robot were sent (or claimed by any worker and still in
    flight) since ``since``, oldest first. ``exclude_ids``: the caller's own claimed rows not yet sent."""
    moment = func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at)
    query = select(moment).where(
        OutboxMessage.rate_key == rate_key,
        or_(and_(OutboxMessage.status == SENT, OutboxMessage.sent_at >= since),
            and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at >= since)),
        or_(OutboxMessage.delivered_via.is_(None), OutboxMessage.delivered_via != "passive"),
    )
    excluded = list(exclude_ids)
    if excluded:
        query = query.where(OutboxMessage.id.not_in(excluded))
    return sorted(session.scalars(query))


def recover_stale(session: Session, *, lease_seconds: float, resendable: Iterable[str],
                  now: datetime | None = None) -> tuple[int, int]:
    """Rows a crashed worker left in ``sending`` longer than the lease.

    Channels in ``resendable`` drop duplicates on the messenger's side, so the row goes back to
    pending; for any other channel the message may or may not have arrived, so it is dead-lettered
    with that explanation rather than risk a second copy. Returns (requeued, dead)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = OutboxMessage.status == SENDING, OutboxMessage.claimed_at < cutoff
    channels = list(resendable)
    requeued = session.execute(update(OutboxMessage).where(*stale, OutboxMessage.channel.in_(channels))
                               .values(status=PENDING, claimed_at=None, next_attempt_at=now,
                                       last_error="发送中进程退出，消息平台会按消息去重，已重新排队")
                               .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    dead = session.execute(update(OutboxMessage).where(*stale, OutboxMessage.channel.not_in(channels))
                           .values(status=DEAD, claimed_at=None,
                                   last_error="发送中进程退出，无法确认是否已送达；为避免重复未自动重发，"
                                              "确认未收到后可执行 crmbot outbox retry ID")
                           .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    return int(requeued or 0), int(dead or 0)


def list_messages(session: Session, *, failed: bool = False, limit: int = 200) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if failed:
        query = query.where(OutboxMessage.status == DEAD)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def retry(session: Session, row_id: int, *, now: datetime | None = None) -> OutboxMessage:
    """Send a dead-lettered row again (attempts start over)."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise NotFound(f"没有编号为 {row_id} 的待发消息")
    if row.status != DEAD:
        raise InvalidInput(f"消息 {row_id} 当前状态为 {row.status}，只有发送失败（dead）的消息可以重发")
    row.status, row.attempts, row.next_attempt_at, row.claimed_at = PENDING, 0, now or utcnow(), None
    session.flush()
    return row


def for_targets(session: Session, addresses: Sequence[tuple[str, str]], *, after_id: int = 0,
                limit: int = 50) -> list[OutboxMessage]:
    """Rows addressed to any of the (channel, target) pairs, oldest first (the console's view of a chat)."""
    if not addresses:
        return []
    match = or_(*(and_(OutboxMessage.channel == c, OutboxMessage.target == t) for c, t in addresses))
    return list(session.scalars(select(OutboxMessage).where(match, OutboxMessage.id > after_id)
                                .order_by(OutboxMessage.id).limit(limit)))


def as_dict(row: OutboxMessage) -> dict[str, Any]:
    """The documented JSON shape of ``crmbot outbox list --json``."""
    return {"id": row.id, "channel": row.channel, "target": row.target, "mentions": list(row.mentions or []),
            "text": row.text, "status": row.status, "attempts": row.attempts, "dedupe_key": row.dedupe_key}
