"""Engines and sessions. SQLite by default (WAL, foreign keys on); PostgreSQL via psycopg 3."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, get_settings


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


def _serialise_sqlite_writers(engine: Engine) -> None:
    """One writing transaction at a time per process, queued on a lock.

    SQLite allows one writer anyway; a second one otherwise polls its busy handler, which sleeps
    1, 2, 5, 10 … ms between tries — under concurrent messages that sleeping, not the work, is the
    tail latency. The lock is taken at a transaction's first write and released when it ends, so
    readers never wait and a transaction holds it exactly as long as SQLite's own write lock. After
    the busy timeout without the lock (say, a second write transaction opened inside the first) the
    statement goes ahead and SQLite decides, as it would without the lock. Several processes on one
    database file queue the same way on a file lock (``_ProcessLock``)."""
    lock = threading.Lock()
    database = engine.url.database
    between = _ProcessLock(Path(database + ".writer-lock")) if database and database != ":memory:" else None

    def before_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not conn.info.get("sqlite_writer") and statement.lstrip()[:7].upper().startswith(_WRITES) \
                and lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            conn.info["sqlite_writer"] = True
            if between is not None and between.acquire(SQLITE_BUSY_SECONDS):
                conn.info["sqlite_process_writer"] = True

    def end(conn: Any) -> None:
        if conn.info.pop("sqlite_process_writer", False) and between is not None:
            between.release()
        if conn.info.pop("sqlite_writer", False):
            lock.release()

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


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
    def unit_of_work(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

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
