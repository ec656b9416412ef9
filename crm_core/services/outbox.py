"""The outbox: every message the bot sends goes through here, exactly once.

Producers ``enqueue`` rows (a long reply is several rows chained by ``after_id``); workers in any
number of processes ``claim`` due rows, ``renew`` each row's lease right before sending it, send,
and ``mark_sent`` / ``mark_failed``. The claim is atomic: ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a conditional ``UPDATE … SET status='sending' WHERE status='pending'`` on SQLite, and it
stamps the rows with a claim token that only the claiming worker holds. A row that was sent is never
claimed again; a row left in ``sending`` by a crashed worker (between its send and its mark) is only
sent again where the messenger itself drops duplicates, otherwise it is dead-lettered for a person to
decide (``retry``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, configure_mappers, instrumentation

from crm_core.errors import InvalidInput, NotFound
from crm_core.hot_reads import HotWrite
from crm_core.models import OutboxMessage, utcnow

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
SETTLED = (SENT, DEAD)
CLAIMED, IN_FLIGHT = "c", "s"  # first character of a claim token: claimed only, or being sent


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


_COLUMNS = ("channel", "target", "msg_type", "text", "payload", "mentions", "dedupe_key", "rate_key", "status",
            "attempts", "next_attempt_at", "created_at", "after_id", "sent_at", "delivered_via")


def _insert_row(insert: Any, deduped: bool) -> HotWrite:
    """INSERT … RETURNING id, compiled once and run on the cursor (``crm_core.hot_reads``): every reply
    is one, on every message's path."""
    table = OutboxMessage.__table__
    stmt = insert(table).values(**{name: bindparam(name) for name in _COLUMNS})
    if deduped:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return HotWrite(stmt.returning(table.c.id))


_INSERTS = {(dialect, deduped): _insert_row(insert, deduped)
            for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
            for deduped in (False, True)}


def _snapshot(row_id: int, values: dict[str, Any]) -> OutboxMessage:
    """A detached OutboxMessage of a row just inserted, its attributes filled the way SQLAlchemy's loader
    fills a loaded row's (the instance dict): the instrumented constructor took 15 µs a row, on every reply."""
    configure_mappers()  # a no-op once the mappers are configured; new_instance does not do it
    row: OutboxMessage = _MANAGER.new_instance()
    row.__dict__.update(values, id=row_id)
    return row


_MANAGER = instrumentation.manager_of_class(OutboxMessage)


def enqueue(session: Session, messages: Sequence[NewMessage], *, now: datetime | None = None,
            hold_until: datetime | None = None, passive: int = 0) -> list[OutboxMessage]:
    """Store messages in order; each waits for the one before it. Idempotent by dedupe key: a message
    whose key is already in the outbox is not stored again (the existing row is returned).

    ``passive``: the first that many messages were answered in the callback's own response; they are
    stored as sent (``delivered_via="passive"``) so the history shows them. The rows returned for new
    messages are detached snapshots (inserts on the cursor: this is on every message's path)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    rows: list[OutboxMessage] = []
    previous: int | None = None
    session.flush()
    conn = session.connection()  # inserts on the session's transaction, without the ORM's per-statement work
    for i, message in enumerate(messages):
        values: dict[str, Any] = {
            "channel": message.channel, "target": message.target, "msg_type": message.msg_type, "text": message.text,
            "payload": dict(message.payload), "mentions": list(message.mentions), "dedupe_key": message.dedupe_key,
            "rate_key": message.rate_key, "status": PENDING, "attempts": 0, "next_attempt_at": hold_until or now,
            "created_at": now, "after_id": previous, "sent_at": None, "delivered_via": None}
        if i < passive:
            values.update(status=SENT, attempts=1, sent_at=now, delivered_via="passive")
        inserted = _INSERTS[dialect, bool(message.dedupe_key)].rows(conn, values)
        if not inserted:  # already queued under this key
            existing = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == message.dedupe_key)).one()
            rows.append(existing)
            previous = existing.id
            continue
        previous = inserted[0].id
        rows.append(_snapshot(previous, values))
    return rows


def _due(now: datetime) -> Any:
    before = aliased(OutboxMessage)
    predecessor_open = exists().where(before.id == OutboxMessage.after_id, before.status.not_in(SETTLED))
    return and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now, ~predecessor_open)


def claim(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for this worker (status → sending, a fresh ``claim_token``).
    Safe with many processes.

    The caller commits right after, so other workers see the claim before anything is sent; it then
    ``renew``s each row's lease right before sending it."""
    now = now or utcnow()
    token = CLAIMED + uuid.uuid4().hex[:31]
    order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
    if session.get_bind().dialect.name == "postgresql":
        rows = list(session.scalars(select(OutboxMessage).where(_due(now)).order_by(*order).limit(limit)
                                    .with_for_update(skip_locked=True, of=OutboxMessage)))
        for row in rows:
            row.status, row.claimed_at, row.claim_token = SENDING, now, token
        session.flush()
        return rows
    ids = list(session.scalars(select(OutboxMessage.id).where(_due(now)).order_by(*order).limit(limit)))
    claimed: list[int] = []
    for row_id in ids:
        result = session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
                                 .values(status=SENDING, claimed_at=now, claim_token=token)
                                 .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    if not claimed:
        return []
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(*order)))


def renew(session: Session, row: OutboxMessage, *, now: datetime | None = None) -> bool:
    """Mark a claimed row as being sent, right before sending it: its lease starts anew and its token
    says "in flight" (a crash from here on leaves it unknown whether it arrived). False when the claim
    was lost (the lease ran out while earlier rows of the batch were sent, and another worker took the
    row over): then this worker must not send it."""
    moment = now or utcnow()
    token = row.claim_token or ""
    in_flight = IN_FLIGHT + token[1:]
    result = session.execute(update(OutboxMessage)
                             .where(OutboxMessage.id == row.id, OutboxMessage.status == SENDING,
                                    OutboxMessage.claim_token == token)
                             .values(claimed_at=moment, claim_token=in_flight)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row.claim_token = in_flight
    return True


def mark_sent(session: Session, row_id: int, *, via: str, now: datetime | None = None) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                    .values(status=SENT, sent_at=now or utcnow(), delivered_via=via, last_error=None,
                            attempts=OutboxMessage.attempts + 1, claim_token=None)
                    .execution_options(synchronize_session=False))


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    exp = min(cap, base * (2 ** max(0, attempts - 1)))
    return exp / 2 + (rng or random).uniform(0, exp / 2)


def mark_failed(session: Session, row_id: int, error: str, *, retryable: bool, max_attempts: int,
                base: float, cap: float, now: datetime | None = None, min_delay: float = 0.0,
                rng: random.Random | None = None, claim_token: str | None = None) -> str:
    """Count a failed attempt: back to pending with backoff, or dead after ``max_attempts`` (or at once
    when the error is permanent; the reply's later parts are then held back as dead too). With
    ``claim_token``, only while the row is still this worker's claim. Returns the row's status."""
    now = now or utcnow()
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise NotFound(f"没有编号为 {row_id} 的待发消息")
    if claim_token is not None and (row.status != SENDING or row.claim_token != claim_token):
        return row.status
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_at = None
    row.claim_token = None
    if not retryable or row.attempts >= max_attempts:
        row.status = DEAD
        session.flush()
        hold_back_successors(session, [row.id], now=now)
    else:
        row.status = PENDING
        row.next_attempt_at = now + timedelta(seconds=max(min_delay, backoff_delay(row.attempts, base, cap, rng)))
        session.flush()
    return row.status


def _successors(session: Session, ids: list[int], status: str) -> list[int]:
    found: list[int] = []
    frontier = ids
    while frontier:
        frontier = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.after_id.in_(frontier),
                                                                       OutboxMessage.status == status)))
        found.extend(frontier)
    return found


def hold_back_successors(session: Session, ids: list[int], *, now: datetime | None = None) -> int:
    """Later parts of a reply whose earlier part is dead are not sent on their own ("2/3" without "1/3"):
    they are dead too, and ``retry`` of the first dead part brings them back."""
    later = _successors(session, ids, PENDING)
    if later:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(later))
                        .values(status=DEAD, last_error="前面的部分未能送达，这一部分暂不发送")
                        .execution_options(synchronize_session=False))
    return len(later)


def defer(session: Session, row: OutboxMessage, until: datetime, reason: str) -> None:
    """Not an attempt: put a claimed row back to wait (e.g. the robot's per-minute quota is used up)."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.status == SENDING,
                           OutboxMessage.claim_token == row.claim_token)
                    .values(status=PENDING, next_attempt_at=until, claimed_at=None, claim_token=None, last_error=reason)
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
                  resend_window_seconds: float = 0.0, now: datetime | None = None) -> tuple[int, int]:
    """Rows a crashed (or stuck) worker left in ``sending`` longer than the lease.

    A row it had only claimed goes back to pending: nothing was sent. A row it was sending may or may
    not have reached the messenger: channels in ``resendable`` drop a duplicate on the messenger's side
    for ``resend_window_seconds`` after the first send, so within that window the row goes back to
    pending; any other row is dead-lettered with that explanation rather than risk a second copy.
    Returns (requeued, dead)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_seconds)
    window_start = now - timedelta(seconds=resend_window_seconds)
    stale = and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < cutoff)
    unsent = OutboxMessage.claim_token.like(f"{CLAIMED}%")
    requeued = 0
    for condition, note in (
            (unsent, "领取后未开始发送，已重新排队"),
            (and_(OutboxMessage.channel.in_(list(resendable)), OutboxMessage.claimed_at >= window_start),
             "发送中进程退出，消息平台会按内容去重，已重新排队")):
        requeued += session.execute(
            update(OutboxMessage).where(stale, condition)
            .values(status=PENDING, claimed_at=None, claim_token=None, next_attempt_at=now, last_error=note)
            .execution_options(synchronize_session=False)).rowcount or 0  # type: ignore[attr-defined]
    dead_ids = list(session.scalars(select(OutboxMessage.id).where(stale)))
    if dead_ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(dead_ids))
                        .values(status=DEAD, claimed_at=None, claim_token=None,
                                last_error="发送中进程退出，无法确认是否已送达；为避免重复未自动重发，"
                                           "确认对方未收到后可执行 crmbot outbox retry ID")
                        .execution_options(synchronize_session=False))
        hold_back_successors(session, dead_ids, now=now)
    return int(requeued), len(dead_ids)


def list_messages(session: Session, *, failed: bool = False, limit: int = 200) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if failed:
        query = query.where(OutboxMessage.status == DEAD)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def retry(session: Session, row_id: int, *, now: datetime | None = None) -> list[OutboxMessage]:
    """Send a dead-lettered row again (attempts start over), with the later parts of its reply that
    were held back. Returns the rows put back in the queue."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise NotFound(f"没有编号为 {row_id} 的待发消息")
    if row.status != DEAD:
        raise InvalidInput(f"消息 {row_id} 当前状态为 {row.status}，只有发送失败（dead）的消息可以重发")
    rows = [row] + [session.get_one(OutboxMessage, i) for i in _successors(session, [row.id], DEAD)]
    for r in rows:
        r.status, r.attempts, r.next_attempt_at, r.claimed_at, r.claim_token = PENDING, 0, now or utcnow(), None, None
    session.flush()
    return rows


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
            "text": row.text, "status": row.status, "attempts": row.attempts, "dedupe_key": row.dedupe_key,
            "last_error": row.last_error}
