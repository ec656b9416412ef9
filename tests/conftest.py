"""Shared fixtures. Database-facing tests take ``db``: SQLite always, PostgreSQL too when
CRMBOT_TEST_POSTGRES_URL is set (.ci/run sets it to a fresh database it creates and drops)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from config import reset_settings
from crm_core.db import Database
from crm_core.models import Base
from crm_core.schema import upgrade

PG_URL = os.environ.get("CRMBOT_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's environment or writes under ./var."""
    for key in list(os.environ):
        if key.startswith("CRMBOT_") and key != "CRMBOT_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRMBOT_JOBS_SCHEDULER", "false")  # no app under test fires scheduled pushes by the wall clock
    monkeypatch.chdir(tmp_path)
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[Database]:
    if not PG_URL:
        pytest.skip("CRMBOT_TEST_POSTGRES_URL not set")
    db = Database(PG_URL)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    yield db
    db.dispose()


def _truncate(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database."""
    if request.param == "sqlite":
        path = tmp_path / "crm.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("_pg_database")
        _truncate(database)
        yield database
        _truncate(database)


@pytest.fixture
def sqlite_db(tmp_path: Path, _sqlite_template: Path) -> Iterator[Database]:
    """SQLite only, for tests about the CLI or the default engine."""
    path = tmp_path / "crm.db"
    shutil.copy(_sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()
