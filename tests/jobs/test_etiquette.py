"""Exactly once per (job, entity, period), across runs, restarts and processes; quiet hours; the daily limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from bot.delivery.worker import OutboxWorker
from bot.jobs import JOB_ORDER, JobRunner
from bot.runtime import Runtime
from config.settings import load_settings
from crm_core.db import Database
from crm_core.models import Contract, Opportunity, OutboxMessage, Payment, Ticket
from tests.factories import TODAY
from tests.jobs.conftest import GROUP, MORNING, TZ, at, later, queued, run


def test_a_second_run_in_the_same_period_sends_nothing(db, agency, settings):
    first = JobRunner(db, settings).run(now=MORNING)
    assert sum(r.messages for r in first) >= 4
    before = [m.dedupe_key for m in queued(db)]
    again = JobRunner(db, settings).run(now=later(MORNING, minutes=30))
    assert [m.dedupe_key for m in queued(db)] == before
    assert sum(r.messages for r in again) == 0 and sum(r.already for r in again) == sum(r.items for r in first)


def test_nothing_is_sent_twice_after_a_restart(db, agency, settings):
    JobRunner(db, settings).run(now=MORNING)
    count = len(queued(db))
    fresh = Database(db.url)  # a new process: its own engine, its own runner identity
    try:
        JobRunner(fresh, load_settings(nlu_embeddings=False)).run(now=MORNING)
    finally:
        fresh.dispose()
    assert len(queued(db)) == count


def test_every_job_is_listed_and_runs_on_an_empty_database(db, settings):
    results = JobRunner(db, settings).run(now=MORNING)
    assert [r.job for r in results] == list(JOB_ORDER)
    assert all(r.status == "done" and r.messages == 0 for r in results)
    assert queued(db) == []


def _worker(db, settings, clock):
    return OutboxWorker(db, settings, Runtime.build(settings, db).sender, clock=lambda: clock[0])


def test_quiet_hours_defer_non_urgent_pushes_until_morning(db, agency, settings):
    night = at(TODAY, "23:00")
    run(db, settings, "overdue_tasks", night)
    [row] = queued(db, "overdue_tasks")
    assert row.next_attempt_at.astimezone(TZ) == at(TODAY + timedelta(days=1), "08:00")
    clock = [later(night, minutes=30)]
    worker = _worker(db, settings, clock)
    assert worker.run_once() == 0 and queued(db, "overdue_tasks")[0].status == "pending"
    clock[0] = at(TODAY + timedelta(days=1), "08:00")
    assert worker.run_once() == 1 and queued(db, "overdue_tasks")[0].status == "sent"


def test_urgent_tickets_are_not_held_for_the_morning(db, agency, settings):
    night = at(TODAY, "23:00")
    with db.unit_of_work() as s:
        for n, priority in ((1, "紧急"), (2, "低")):
            s.add(Ticket(number=n, customer_id=agency.world.customers["c1"].id, title=f"工单{n}", priority=priority,
                         status="待处理", assignee_id=agency.world.staff["service"].id if n == 1 else
                         agency.world.staff["sales1"].id, sla_due_at=later(night, hours=-2)))
    run(db, settings, "ticket_sla", night)
    urgent, routine = queued(db, "ticket_sla", target="dm:service"), queued(db, "ticket_sla", target="dm:sales1")
    assert urgent[0].next_attempt_at.astimezone(TZ) == night
    assert routine[0].next_attempt_at.astimezone(TZ) == at(TODAY + timedelta(days=1), "08:00")


def test_quiet_hours_can_lie_within_a_day(db, agency):
    settings = load_settings(nlu_embeddings=False, quiet_hours_start="12:00", quiet_hours_end="13:30")
    run(db, settings, "overdue_tasks", at(TODAY, "12:10"))
    assert queued(db, "overdue_tasks")[0].next_attempt_at.astimezone(TZ) == at(TODAY, "13:30")


def _many_payments(db, n: int) -> None:
    with db.unit_of_work() as s:
        contract = s.scalars(select(Contract).where(Contract.ref == "K-1")).one()
        for i in range(n):
            s.add(Payment(ref=f"PX-{i}", contract_id=contract.id, seq=10 + i, due=TODAY - timedelta(days=10 + i),
                          amount=Decimal(10000)))


def test_a_long_list_is_folded_into_one_line(db, agency, settings):
    _many_payments(db, 14)  # am1: 15 overdue instalments and 1 due soon
    run(db, settings, "payments", MORNING)
    [owner] = queued(db, "payments", target="dm:am1")
    assert owner.text.count("期｜") == 10 and "另有 6 项未逐条列出，查看全部请发送「/回款」" in owner.text


def test_daily_limit_per_person_holds_the_rest_for_the_digest(db, agency):
    settings = load_settings(nlu_embeddings=False, max_alerts_per_person_per_day=2)
    with db.unit_of_work() as s:
        s.execute(update(Opportunity).values(last_followup_at=MORNING - timedelta(days=5)))
        s.add_all(Ticket(number=n, customer_id=agency.world.customers["c1"].id, title=f"发票问题{n}", priority="中",
                         status="待处理", assignee_id=agency.world.staff["am1"].id, sla_due_at=later(MORNING, hours=1 + n))
                  for n in (1, 2))
    run(db, settings, "payments", MORNING)
    run(db, settings, "stale_followups", MORNING)
    assert len(queued(db, target="dm:am1")) == 2
    run(db, settings, "ticket_sla", later(MORNING, hours=2, minutes=30))  # the third message of the day: held
    [notice] = queued(db, "ticket_sla", target="dm:am1")
    assert "今天给你的提醒已达上限（每天 2 条）" in notice.text and "发票问题1" not in notice.text
    run(db, settings, "ticket_sla", later(MORNING, hours=3, minutes=30))  # held silently: one notice a day
    assert len(queued(db, "ticket_sla", target="dm:am1")) == 1
    run(db, settings, "digest", at(TODAY + timedelta(days=1), "08:30"))
    [digest] = queued(db, "digest", target="dm:am1")
    assert "昨天另有 2 条提醒因每日上限没有逐条推送" in digest.text and "超时工单（2）" in digest.text
    with db.unit_of_work() as s:  # a new day, a new allowance (held items stay with the digest)
        s.add(Ticket(number=3, customer_id=agency.world.customers["c1"].id, title="素材授权", priority="中",
                     status="待处理", assignee_id=agency.world.staff["am1"].id, sla_due_at=at(TODAY + timedelta(days=1))))
    run(db, settings, "ticket_sla", at(TODAY + timedelta(days=1), "10:00"))
    latest = queued(db, "ticket_sla", target="dm:am1")[-1].text
    assert "#3 素材授权" in latest and "发票问题" not in latest


def test_urgent_alerts_ignore_the_daily_limit(db, agency):
    settings = load_settings(nlu_embeddings=False, max_alerts_per_person_per_day=1)
    run(db, settings, "payments", MORNING)
    with db.unit_of_work() as s:
        s.add(Ticket(number=7, customer_id=agency.world.customers["c1"].id, title="投放事故", priority="紧急",
                     status="待处理", assignee_id=agency.world.staff["am1"].id, sla_due_at=later(MORNING, hours=-1)))
    run(db, settings, "ticket_sla", MORNING)
    [alert] = queued(db, "ticket_sla", target="dm:am1")
    assert "#7 投放事故" in alert.text


def test_group_reminders_do_not_count_against_anyones_limit(db, agency):
    settings = load_settings(nlu_embeddings=False, max_alerts_per_person_per_day=1)
    run(db, settings, "overdue_tasks", MORNING)
    assert len(queued(db, "overdue_tasks", target=GROUP)) == 1
    with db.unit_of_work() as s:
        s.execute(update(Payment).where(Payment.ref == "PM-2").values(status="已收"))
    run(db, settings, "payments", MORNING)
    [owner] = queued(db, "payments", target="dm:am1")
    assert "已逾期 5 天" in owner.text and "上限" not in owner.text
    with db.unit_of_work() as s:
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.target == "dm:planner")) is None
