"""Two runners in parallel against one PostgreSQL database — two server processes firing the same
schedule — produce each push once. Runs in CI (``CI`` set) or fails there; skipped locally without
``CRMBOT_TEST_POSTGRES_URL``."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.jobs import JOB_ORDER, JobResult, JobRunner
from config.settings import load_settings
from crm_core.db import Database
from crm_core.models import ChatBinding, Project, PushRecord, Task
from crm_core.services import push_ledger
from tests.conftest import PG_URL, _truncate
from tests.factories import TODAY, build_world
from tests.jobs.conftest import MORNING, queued


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Database]:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the concurrent-runner test: set CRMBOT_TEST_POSTGRES_URL")
        pytest.skip("CRMBOT_TEST_POSTGRES_URL not set")
    db = request.getfixturevalue("_pg_database")
    _truncate(db)
    yield db
    _truncate(db)


def _busy_agency(db: Database) -> None:
    """The factories' agency plus ten project groups with three overdue tasks each."""
    with db.unit_of_work() as s:
        world = build_world(s)
        for i in range(10):
            project = Project(name=f"项目{i}", customer_id=world.customers["c1"].id, manager_id=world.staff["am1"].id)
            s.add(project)
            s.flush()
            s.add(ChatBinding(channel="wecom", chat_id=f"grp_{i}", kind="project_group", project_id=project.id))
            s.add_all(Task(project_id=project.id, title=f"任务{i}-{k}", assignee_id=world.staff["designer"].id,
                           due=TODAY - timedelta(days=k + 1), status="待办") for k in range(3))


def _in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = calls[i]()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def _one_push_per_item(db: Database) -> None:
    with db.unit_of_work() as s:
        ledger = Counter(s.execute(select(PushRecord.job, PushRecord.entity, PushRecord.period, PushRecord.recipient)))
    assert ledger and max(ledger.values()) == 1
    rows = queued(db)
    assert len({r.dedupe_key for r in rows}) == len(rows)
    groups = Counter(r.target for r in queued(db, "overdue_tasks"))
    assert groups == Counter({**{f"grp_{i}": 1 for i in range(10)}, "dm:planner": 1})
    assert sum(r.text.count("已逾期 ") for r in queued(db, "overdue_tasks")) == 10 * 3 + 1


def test_two_servers_running_the_same_schedule_push_once(pg):
    _busy_agency(pg)
    settings = load_settings(nlu_embeddings=False)
    other = Database(PG_URL)  # the second process has its own engine and connections
    try:
        first, second = _in_parallel(lambda: JobRunner(pg, settings).run(now=MORNING),
                                     lambda: JobRunner(other, settings).run(now=MORNING))
    finally:
        other.dispose()
    _one_push_per_item(pg)
    for job in JOB_ORDER:
        mine, theirs = (next(r for r in results if r.job == job) for results in (first, second))
        assert {mine.status, theirs.status} <= {"done", "skipped"}
        assert mine.items + theirs.items == max(mine.items, theirs.items)  # one of them did the work


def test_even_without_the_lease_the_ledger_lets_one_runner_win_each_item(pg, monkeypatch):
    """Both runners past the lease (say it expired under a slow run): they meet at the ledger insert."""
    _busy_agency(pg)
    settings = load_settings(nlu_embeddings=False)
    meet = threading.Barrier(2)
    real_claim = push_ledger.claim

    def claim_together(*args: Any, **kw: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):  # a lone claim (the other runner is done)
            meet.wait(timeout=5)
        return real_claim(*args, **kw)

    monkeypatch.setattr(push_ledger, "claim", claim_together)
    other = Database(PG_URL)

    def unleased(db: Database) -> JobResult:
        result = JobResult("overdue_tasks")
        JobRunner(db, settings)._execute("overdue_tasks", MORNING, result)
        return result

    try:
        a, b = _in_parallel(lambda: unleased(pg), lambda: unleased(other))
    finally:
        other.dispose()
    assert a.items + b.items == 31  # every overdue task told once, by whichever runner won it
    assert a.already + b.already == 31  # … and the other runner found it already told
    with pg.unit_of_work() as s:
        told = select(func.count()).select_from(PushRecord).where(PushRecord.entity != push_ledger.MESSAGE)
        assert s.scalar(told) == 31
    _one_push_per_item(pg)
