"""Push-job tests: the factories' agency (tests/factories.py) with a console project group, a
controlled business clock, and helpers to run one job and read what it queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.jobs import JobResult, JobRunner
from config import Settings
from config.settings import load_settings
from crm_core.db import Database
from crm_core.models import ChatBinding, OutboxMessage
from tests.factories import TODAY, World, build_world

TZ = ZoneInfo("Asia/Shanghai")
GROUP = "grp_p1"


def at(day: date, hhmm: str = "09:00") -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=TZ)


MORNING = at(TODAY)  # Wednesday 2026-11-25 09:00


@dataclass
class Agency:
    db: Database
    world: World

    def ids(self, *keys: str) -> list[int]:
        return [self.world.staff[k].id for k in keys]


@pytest.fixture
def settings() -> Settings:
    """Defaults, but every customer's churn score recomputed on every run (the default is weekly)."""
    return load_settings(nlu_embeddings=False, churn_rescore_days=1)


@pytest.fixture
def agency(db: Database) -> Agency:
    """Two customers, each with a project; 星屿科技's project (T-1 overdue since 11-23) has a console group."""
    with db.unit_of_work() as session:
        world = build_world(session)
        session.add(ChatBinding(ref="CB-1", channel="wecom", chat_id=GROUP, name="星屿品牌升级项目群",
                                kind="project_group", project_id=world.projects["p1"].id))
    return Agency(db, world)


def run(db: Database, settings: Settings, job: str, now: datetime, **kw: Any) -> JobResult:
    result = JobRunner(db, settings, **kw).run_job(job, now)
    assert result.status == "done", result.note
    return result


def queued(db: Database, job: str | None = None, target: str | None = None) -> list[OutboxMessage]:
    with db.unit_of_work() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if job:
            stmt = stmt.where(OutboxMessage.dedupe_key.like(f"{job}:%"))
        if target:
            stmt = stmt.where(OutboxMessage.target == target)
        rows = list(session.scalars(stmt))
        session.expunge_all()
        return rows


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
