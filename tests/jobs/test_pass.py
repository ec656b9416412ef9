"""A whole pass at one moment (``crmbot jobs run --once``) shares reads between the digest and the jobs
after it; what it queues must be exactly what the jobs queue when each runs on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from bot.jobs import JOB_ORDER, JobRunner
from crm_core.models import Opportunity, Task, Ticket
from tests.factories import TODAY
from tests.jobs.conftest import MORNING, later, queued, run

STATE = ("push_ledger", "outbox", "job_runs", "customer_risk", "risk_scores", "risk_models")


def _busy_morning(db, agency):
    """Something for every job: a task due today, a silent opportunity, an overdue and an upcoming
    payment (the fixture's), a ticket past its SLA."""
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.ref == "T-2").values(due=TODAY))
        s.execute(update(Opportunity).where(Opportunity.ref == "O-1").values(last_followup_at=MORNING - timedelta(days=9)))
        s.add(Ticket(number=1001, customer_id=agency.world.customers["c1"].id, title="报告数据对不上", priority="中",
                     status="处理中", assignee_id=agency.world.staff["service"].id, sla_due_at=later(MORNING, hours=-3)))


def _outbox(db):
    """What was queued, to whom; the dedupe key without its last part (a ledger id, which a new sequence
    number changes)."""
    return sorted((m.dedupe_key.rsplit(":", 1)[0], m.target, m.text, tuple(m.mentions)) for m in queued(db))


def _forget_pushes(db):
    with db.unit_of_work() as s:
        for table in STATE:
            s.execute(text(f"DELETE FROM {table}"))


def test_one_pass_queues_what_the_jobs_queue_one_by_one(db, agency, settings):
    _busy_morning(db, agency)
    together = JobRunner(db, settings).run(now=MORNING)
    assert {r.job for r in together if r.messages} >= {"digest", "overdue_tasks", "due_soon", "stale_followups",
                                                       "payments", "ticket_sla"}
    whole_pass = _outbox(db)
    digests = {m.target: m.text for m in queued(db, "digest")}
    assert "今天到期的任务（1）" in digests["dm:designer"]
    assert "逾期回款（1）" in digests["dm:am1"] and "待跟进的商机（1）" in digests["dm:am1"]
    assert "超时工单（1）" in digests["dm:service"]

    _forget_pushes(db)
    for job in JOB_ORDER:
        run(db, settings, job, MORNING)
    assert _outbox(db) == whole_pass


def test_a_pass_of_some_jobs_reads_for_itself(db, agency, settings):
    _busy_morning(db, agency)
    [digest] = JobRunner(db, settings).run(["digest"], now=MORNING)
    assert digest.messages == 4  # planner, designer, am1, service
    assert {m.target for m in queued(db, "digest")} == {"dm:planner", "dm:designer", "dm:am1", "dm:service"}
    [followups] = JobRunner(db, settings).run(["stale_followups"], now=MORNING)
    assert followups.messages == 1 and followups.items == 1


def test_the_daily_pass_leaves_sqlite_with_statistics_for_the_tables_it_grew(db, agency, settings):
    """SQLite never analyses by itself; without statistics for the ledger it plans joins as if it were empty."""
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its statistics")
    _busy_morning(db, agency)
    JobRunner(db, settings).run(now=MORNING)
    with db.unit_of_work() as s:
        analysed = {t for (t,) in s.execute(text("SELECT tbl FROM sqlite_stat1"))}
    assert {"push_ledger", "outbox"} <= analysed
