"""A handler's reads share one SQLite read transaction up to its first write (``crm_core.db.read_snapshot``)."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_core.db import Database
from crm_core.models import ProcessedMessage


def _add(db: Database, key: str) -> None:
    with db.unit_of_work() as session:
        session.add(ProcessedMessage(channel="wecom", message_key=key))


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(ProcessedMessage)))


def test_reads_see_one_snapshot_until_the_first_write(sqlite_db: Database) -> None:
    _add(sqlite_db, "before")
    with sqlite_db.unit_of_work(snapshot=True) as session:
        assert _count(session) == 1
        _add(sqlite_db, "meanwhile")  # another connection commits
        assert _count(session) == 1  # still the snapshot: one read transaction, not one per statement
        session.add(ProcessedMessage(channel="wecom", message_key="mine"))
        session.flush()  # the write ends the snapshot and sees the newest data
        assert _count(session) == 3
    with sqlite_db.unit_of_work() as session:
        assert _count(session) == 3


def test_without_a_snapshot_every_read_sees_the_newest_data(sqlite_db: Database) -> None:
    with sqlite_db.unit_of_work() as session:
        assert _count(session) == 0
        _add(sqlite_db, "meanwhile")
        assert _count(session) == 1


def test_a_write_after_another_connections_commit_is_not_refused(db: Database) -> None:
    """Upgrading a stale read transaction to a write fails at once on SQLite (SQLITE_BUSY_SNAPSHOT);
    the snapshot ends before the write, so the write goes through and nothing is lost."""
    with db.unit_of_work(snapshot=True) as session:
        assert _count(session) == 0
        _add(db, "other")
        session.add(ProcessedMessage(channel="wecom", message_key="mine"))
    with db.unit_of_work() as session:
        assert sorted(session.scalars(select(ProcessedMessage.message_key))) == ["mine", "other"]


def test_a_savepoint_inside_a_snapshot_session_works(db: Database) -> None:
    with db.unit_of_work(snapshot=True) as session:
        assert _count(session) == 0
        with session.begin_nested():
            session.add(ProcessedMessage(channel="wecom", message_key="kept"))
        nested = session.begin_nested()
        session.add(ProcessedMessage(channel="wecom", message_key="dropped"))
        session.flush()
        nested.rollback()
    with db.unit_of_work() as session:
        assert list(session.scalars(select(ProcessedMessage.message_key))) == ["kept"]


def test_a_failed_snapshot_session_leaves_nothing_behind(sqlite_db: Database) -> None:
    try:
        with sqlite_db.unit_of_work(snapshot=True) as session:
            _count(session)
            session.add(ProcessedMessage(channel="wecom", message_key="lost"))
            session.flush()
            raise RuntimeError("handler failed")
    except RuntimeError:
        pass
    with sqlite_db.unit_of_work(snapshot=True) as session:  # the pooled connection carries no snapshot over
        assert _count(session) == 0
        _add(sqlite_db, "after")
        assert _count(session) == 0
