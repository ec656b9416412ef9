"""Engines and sessions. SQLite by default (WAL, foreign keys on); PostgreSQL via psycopg 3."""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, get_settings

if TYPE_CHECKING:
    from crm_core.hot_reads import HotWrite


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


SQLITE_BUSY_SECONDS = 5
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cur.close()


def refresh_statistics(session: Any, *tables: str) -> None:
    """Fresh planner statistics for tables a job has just grown. PostgreSQL's autovacuum gets there too,
    later; SQLite never does by itself, and without statistics it joins a table it believes empty in the
    wrong order (the churn alerts scanned every customer). ``analysis_limit`` keeps SQLite's ANALYZE to a
    sample, a few milliseconds per table."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(tables)}"))
        return
    session.execute(text("PRAGMA analysis_limit=1000"))
    for table in tables:
        session.execute(text(f"ANALYZE {table}"))


class _ProcessLock:
    """The same queue between processes (``crmbot serve --workers N``): an advisory lock on a file beside
    the database, tried every 0.2 ms — still far finer than SQLite's busy handler."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.0002)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class _WriterQueue:
    """One writing transaction at a time per process, queued on a lock.

    SQLite allows one writer anyway; a second one otherwise polls its busy handler, which sleeps
    1, 2, 5, 10 … ms between tries — under concurrent messages that sleeping, not the work, is the
    tail latency. The lock is taken at a transaction's first write and released when it ends, so
    readers never wait and a transaction holds it exactly as long as SQLite's own write lock. After
    the busy timeout without the lock (say, a second write transaction opened inside the first) the
    statement goes ahead and SQLite decides, as it would without the lock. Several processes on one
    database file queue the same way on a file lock (``_ProcessLock``).

    ``info``: the transaction's connection's ``info`` dict, where what it holds is noted."""

    def __init__(self, database: str | None) -> None:
        self.lock = threading.Lock()
        self.between = _ProcessLock(Path(database + ".writer-lock")) if database and database != ":memory:" else None

    @staticmethod
    def end_snapshot(info: dict[str, Any], dbapi_connection: Any) -> None:
        """Before a write, SAVEPOINT, DDL …: the reads' snapshot (``read_snapshot``) ends here, and what follows
        runs in a transaction of its own, as it would without the snapshot."""
        if info.pop("sqlite_snapshot", False) and dbapi_connection is not None:
            dbapi_connection.commit()

    def enter(self, info: dict[str, Any], dbapi_connection: Any = None) -> None:
        self.end_snapshot(info, dbapi_connection)
        if not info.get("sqlite_writer") and self.lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            info["sqlite_writer"] = True
            if self.between is not None and self.between.acquire(SQLITE_BUSY_SECONDS):
                info["sqlite_process_writer"] = True

    def leave(self, info: dict[str, Any]) -> None:
        info.pop("sqlite_snapshot", None)
        if info.pop("sqlite_process_writer", False) and self.between is not None:
            self.between.release()
        if info.pop("sqlite_writer", False):
            self.lock.release()


_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, _WriterQueue] = weakref.WeakKeyDictionary()


def _serialise_sqlite_writers(engine: Engine) -> None:
    """Every write statement through SQLAlchemy enters the engine's ``_WriterQueue``; commit and rollback leave it."""
    queue = _WRITER_QUEUES[engine] = _WriterQueue(engine.url.database)

    def before_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip()[:9].upper()
        if head.startswith(_WRITES):
            queue.enter(conn.info, cursor.connection)
        elif not head.startswith("SELECT"):
            queue.end_snapshot(conn.info, cursor.connection)

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", lambda conn: queue.leave(conn.info))
    event.listen(engine, "rollback", lambda conn: queue.leave(conn.info))
    event.listen(engine, "checkin", lambda _dbapi, record: record is not None and queue.leave(record.info))


def note_write(conn: Connection) -> None:
    """A write about to run on ``conn``'s DBAPI cursor, past SQLAlchemy's events (``crm_core.hot_reads``):
    its transaction enters the writer queue as it would through ``Connection.execute``."""
    queue = _WRITER_QUEUES.get(conn.engine)
    if queue is not None:
        queue.enter(conn.info, conn.connection.dbapi_connection)


def read_snapshot(session: Session) -> None:
    """On SQLite, the session's reads from here on share one read transaction, up to its first write.

    Each autocommit SELECT is a read transaction of its own that takes SQLite's shared locks again: a
    ``/客户`` message's fifteen small reads made ~39 ``fcntl`` calls, ~14 with the snapshot. The snapshot
    ends right before the first write (``_WriterQueue.enter`` commits it), so a write never upgrades a
    stale snapshot (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries), and reads and writes are
    separate transactions as they are without it. PostgreSQL: nothing to do (no connection is checked out)."""
    if session.get_bind() not in _WRITER_QUEUES:  # only SQLite engines have a writer queue
        return
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        dbapi.execute("BEGIN")
        conn.info["sqlite_snapshot"] = True


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Database:
        return cls((settings or get_settings()).effective_database_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def unit_of_work(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error. ``snapshot``: its reads share
        one read transaction up to its first write (``read_snapshot``)."""
        session = self._factory()
        try:
            if snapshot:
                read_snapshot(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def commit_alone(self, write: HotWrite, params: dict[str, Any]) -> list[Any]:
        """Run one write in a transaction of its own, committed before this returns; its RETURNING rows.

        On a pooled DBAPI connection, without a Session or a ``Connection``: their setup, events and
        commit bookkeeping cost several times what SQLite spends on a one-row INSERT, and the dedupe
        claim of every message is one (docs/benchmarks.md, "Channels"). On SQLite the transaction
        queues for the writer lock like any other (``_WriterQueue``)."""
        queue = _WRITER_QUEUES.get(self.engine)
        held: dict[str, Any] = {}
        pooled = self.engine.raw_connection()
        try:
            dbapi = pooled.dbapi_connection
            if queue is not None:
                queue.enter(held)
            try:
                rows = write.run(dbapi, self.engine.dialect, params)
                dbapi.commit()  # type: ignore[union-attr]
            except BaseException:
                dbapi.rollback()  # type: ignore[union-attr]
                raise
            finally:
                if queue is not None:
                    queue.leave(held)
        finally:
            pooled.close()
        return rows

    def dispose(self) -> None:
        self.engine.dispose()


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush; a concurrent writer that bumped the version first turns into a Conflict, not an overwrite."""
    from sqlalchemy.orm.exc import StaleDataError

    from crm_core.errors import Conflict

    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict(f"{what}刚被其他人修改过，请重新查看后再操作。") from None
