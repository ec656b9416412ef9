"""The demo agency (loaded once per session, copied per test) and the small ORM-built agency."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from crm_core.db import Database
from crm_core.demo.loader import load_demo
from handlers.reply import Reply
from tests.talent import world
from tests.talent.devset import DEMO_NOW, DEMO_TODAY

Chat = Callable[..., Reply]


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    load_demo(db, DEMO_TODAY)
    db.dispose()
    return path


@pytest.fixture
def demo(tmp_path: Path, _demo_template: Path) -> Iterator[Database]:
    """青禾互动 (crmbot demo) as of 2026-11-25, on SQLite."""
    path = tmp_path / "demo.db"
    shutil.copy(_demo_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def ask(demo: Database) -> Chat:
    def send(who: str, text: str, now: datetime = DEMO_NOW) -> Reply:
        return world.send(demo, who, text, now)

    return send


@pytest.fixture
def agency(db: Database) -> Database:
    with db.unit_of_work() as s:
        world.build(s)
    return db


@pytest.fixture
def say(agency: Database) -> Chat:
    def send(who: str, text: str, now: datetime = world.NOW) -> Reply:
        return world.send(agency, who, text, now)

    return send
