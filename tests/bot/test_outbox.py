"""The outbox worker against the stand-in: retries with backoff and jitter, rate limits, dead letters,
leases across crashes, and never a second copy of a delivered message."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.delivery.addresses import WeComAppUser
from bot.delivery.pushes import push
from bot.delivery.worker import OutboxWorker
from bot.runtime import Runtime
from config import Settings
from crm_core.models import OutboxMessage, utcnow
from crm_core.services import outbox
from crm_core.services.outbox import backoff_delay
from handlers.reply import Heading, ListBlock, Reply
from tests.bot.conftest import Agency, channel_settings
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres
WEBHOOK = "/cgi-bin/webhook/send"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=5)  # rows queued by the test (real time) are due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def runtime(agency: Agency, standin: StandIn) -> Iterator[Runtime]:
    settings = channel_settings(agency.db, standin, outbox_max_attempts=4, outbox_backoff_base_seconds=2,
                                outbox_lease_seconds=120)
    rt = Runtime.build(settings, agency.db)
    yield rt
    rt.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def worker(runtime: Runtime, clock: Clock, settings: Settings | None = None) -> OutboxWorker:
    return OutboxWorker(runtime.db, settings or runtime.settings, runtime.sender, clock=clock, rng=random.Random(1))


def queue(runtime: Runtime, chat: str, text: str, key: str, **kw: object) -> list[OutboxMessage]:
    with runtime.db.unit_of_work() as session:
        rows = push(session, chat, Reply.text(text, **kw), dedupe_key=key)  # type: ignore[arg-type]
        session.expunge_all()
        return rows


def row(runtime: Runtime, row_id: int) -> OutboxMessage:
    with runtime.db.unit_of_work() as session:
        found = session.get_one(OutboxMessage, row_id)
        session.expunge(found)
        return found


def test_transient_failures_back_off_exponentially_then_deliver(runtime: Runtime, clock: Clock,
                                                                standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "明天 10 点提案", "job:t:1")
    standin.fail(WEBHOOK, status=503, times=1)
    standin.fail(WEBHOOK, drop=True, times=1)  # then the connection is dropped mid-request
    w = worker(runtime, clock)
    assert w.run_once() == 0
    first = row(runtime, msg.id)
    assert first.status == "pending" and first.attempts == 1 and "503" in (first.last_error or "")
    delay1 = (first.next_attempt_at - clock.now).total_seconds()
    assert 1.0 <= delay1 <= 2.0  # base 2 s, half of it random
    assert w.run_once() == 0 and len(standin.calls(WEBHOOK)) == 1  # not due yet
    clock.advance(delay1 + 0.01)
    assert w.run_once() == 0
    second = row(runtime, msg.id)
    assert second.attempts == 2 and "网络错误" in (second.last_error or "")
    assert 2.0 <= (second.next_attempt_at - clock.now).total_seconds() <= 4.0
    clock.advance(4.01)
    assert w.run_once() == 1
    assert row(runtime, msg.id).status == "sent" and len(standin.calls(WEBHOOK)) == 3


def test_backoff_is_jittered_and_capped() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(5, 2, 600, rng) for _ in range(50)]
    assert all(16 <= d <= 32 for d in delays) and len({round(d, 3) for d in delays}) > 40
    assert all(300 <= backoff_delay(20, 2, 600, rng) <= 600 for _ in range(20))


def test_rate_limit_answer_waits_at_least_a_minute(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "限流测试", "job:t:2")
    standin.fail(WEBHOOK, body={"errcode": 45009, "errmsg": "api freq out of limit"})
    worker(runtime, clock).run_once()
    failed = row(runtime, msg.id)
    assert failed.status == "pending" and (failed.next_attempt_at - clock.now).total_seconds() >= 60


def test_dead_letter_after_the_last_attempt_and_manual_retry(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "一直失败的提醒", "job:t:3")
    standin.fail(WEBHOOK, status=500, times=4)
    w = worker(runtime, clock)
    for _ in range(4):
        w.run_once()
        clock.advance(600)
    dead = row(runtime, msg.id)
    assert dead.status == "dead" and dead.attempts == 4 and "HTTP 500" in (dead.last_error or "")
    with runtime.db.unit_of_work() as session:
        assert [r.id for r in outbox.list_messages(session, failed=True)] == [msg.id]
        outbox.retry(session, msg.id, now=clock.now)
    assert w.run_once() == 1 and row(runtime, msg.id).status == "sent"


def test_permanent_error_is_dead_at_once(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "webhook 失效", "job:t:4")
    standin.fail(WEBHOOK, body={"errcode": 93000, "errmsg": "invalid webhook url"})
    worker(runtime, clock).run_once()
    dead = row(runtime, msg.id)
    assert dead.status == "dead" and dead.attempts == 1 and "93000" in (dead.last_error or "")


def test_twenty_messages_a_minute_per_robot(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    for i in range(25):
        queue(runtime, "wrgroup_p1", f"第 {i + 1} 条提醒", f"job:burst:{i}")
    for i in range(3):
        queue(runtime, "cidDtGroupP2", f"钉钉群提醒 {i + 1}", f"job:dt:{i}")
    w = worker(runtime, clock)
    w.run_once()
    assert len(standin.calls(WEBHOOK)) == 20
    assert len(standin.calls("/robot/send")) == 3  # another robot has its own quota
    clock.advance(30)
    assert w.run_once() == 0
    clock.advance(31)
    assert w.run_once() == 5
    texts = [r.json["markdown"]["content"] for r in standin.calls(WEBHOOK)]
    assert texts == [f"第 {i + 1} 条提醒" for i in range(25)]  # in order, none twice


def test_crash_between_send_and_mark_never_sends_a_webhook_twice(runtime: Runtime, clock: Clock,
                                                                 standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "只能发一次的提醒", "job:t:5")
    with runtime.db.unit_of_work() as session:  # worker A claims, starts sending, sends ...
        [claimed] = outbox.claim(session, now=clock.now)
        assert outbox.renew(session, claimed, now=clock.now)
        session.expunge(claimed)
    runtime.sender.send(claimed)
    # ... and dies before it records the send. A restarted worker finds the row after the lease:
    clock.advance(121)
    restarted = worker(runtime, clock)
    assert restarted.run_once() == 0
    left = row(runtime, msg.id)
    assert left.status == "dead" and "crmbot outbox retry" in (left.last_error or "")
    assert len(standin.calls(WEBHOOK)) == 1


def test_crash_before_an_app_message_was_marked_is_resent_and_dropped_by_wecom(runtime: Runtime, clock: Clock,
                                                                               standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        [msg] = outbox.enqueue(session, WeComAppUser("am1").messages(Reply.text("你的任务明天到期"), "job:t:6"),
                               now=clock.now)
        [claimed] = outbox.claim(session, now=clock.now)
        assert outbox.renew(session, claimed, now=clock.now)
        session.expunge_all()
    runtime.sender.send(claimed)
    clock.advance(121)
    assert worker(runtime, clock).run_once() == 1
    assert row(runtime, msg.id).status == "sent"
    requests = standin.calls("/cgi-bin/message/send")
    assert len(requests) == 2 and requests[0].json == requests[1].json
    assert requests[1].json["enable_duplicate_check"] == 1
    assert len(standin.app_inbox) == 1  # the member sees it once


def test_a_worker_that_lost_its_lease_does_not_send(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    rows = [queue(runtime, "wrgroup_p1", f"批量 {i}", f"job:lease:{i}")[0] for i in range(2)]
    slow = worker(runtime, clock)
    with runtime.db.unit_of_work() as session:
        claimed = outbox.claim(session, now=clock.now)
        session.expunge_all()
    assert {c.id for c in claimed} == {r.id for r in rows}
    clock.advance(121)  # worker A was stuck longer than the lease before it began sending
    # worker B takes the rows over: claimed but never begun, so safe to send
    assert worker(runtime, clock).run_once() == 2
    assert slow._deliver(claimed[0], set()) == 0  # A wakes up: its claim is gone, it sends nothing
    assert [r.json["markdown"]["content"] for r in standin.calls(WEBHOOK)] == ["批量 0", "批量 1"]
    assert {row(runtime, r.id).status for r in rows} == {"sent"}


def test_a_row_claimed_by_a_crashed_worker_but_never_sent_is_sent(runtime: Runtime, clock: Clock,
                                                                  standin: StandIn) -> None:
    [msg] = queue(runtime, "wrgroup_p1", "领取后进程退出", "job:t:8")
    with runtime.db.unit_of_work() as session:
        outbox.claim(session, now=clock.now)
    clock.advance(121)
    assert worker(runtime, clock).run_once() == 1
    assert row(runtime, msg.id).status == "sent" and len(standin.calls(WEBHOOK)) == 1


def test_delivered_messages_are_not_sent_again_after_a_restart(agency: Agency, standin: StandIn) -> None:
    settings = channel_settings(agency.db, standin)
    first = Runtime.build(settings, agency.db)
    queue(first, "wrgroup_p1", "重启前已发送", "job:t:7")
    assert first.worker.run_once() == 1
    first.stop()
    second = Runtime.build(settings, agency.db)
    try:
        assert second.worker.run_once() == 0
        queue(second, "wrgroup_p1", "重启前已发送", "job:t:7")  # the job runs again: same dedupe key
        assert second.worker.run_once() == 0
    finally:
        second.stop()
    assert len(standin.calls(WEBHOOK)) == 1


def test_two_workers_on_one_database_send_each_message_once(agency: Agency, standin: StandIn) -> None:
    settings = channel_settings(agency.db, standin, webhook_rate_per_minute=100)
    runtimes = [Runtime.build(settings, agency.db) for _ in range(2)]
    try:
        for i in range(30):
            queue(runtimes[0], "wrgroup_p1" if i % 2 else "cidDtGroupP2", f"并发 {i}", f"job:par:{i}")
        threads = [threading.Thread(target=rt.worker.run_once) for rt in runtimes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for rt in runtimes:
            rt.stop()
    sent = [r.json for r in standin.calls(WEBHOOK)] + [r.json for r in standin.calls("/robot/send")]
    texts = [(b["markdown"].get("content") or b["markdown"]["text"]).strip() for b in sent]
    assert sorted(texts) == sorted(f"并发 {i}" for i in range(30))


def test_long_reply_is_delivered_in_numbered_parts_in_order(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    reply = Reply(blocks=[Heading(text="本周任务汇总"),
                          ListBlock(items=[f"任务 {i}：整理「星屿科技品牌升级」第 {i} 批素材并同步给设计组" for i in range(150)])])
    with runtime.db.unit_of_work() as session:
        rows = push(session, "wrgroup_p1", reply, dedupe_key="digest:1", now=clock.now)
    assert len(rows) >= 3
    w = worker(runtime, clock)
    while w.run_once():
        pass
    contents = [r.json["markdown"]["content"] for r in standin.calls(WEBHOOK)]
    total = len(rows)
    assert [c.split("\n", 1)[0] for c in contents] == [f"（{i}/{total}）" for i in range(1, total + 1)]
    assert all(len(c.encode("utf-8")) <= 4096 for c in contents)
    joined = "\n".join(c.split("\n", 1)[1] for c in contents)
    assert all(f"任务 {i}：" in joined for i in range(150))


def test_later_parts_wait_for_a_dead_first_part(runtime: Runtime, clock: Clock, standin: StandIn) -> None:
    reply = Reply(blocks=[ListBlock(items=[f"第 {i} 行，说明文字说明文字说明文字说明文字" for i in range(200)])])
    with runtime.db.unit_of_work() as session:
        rows = push(session, "wrgroup_p1", reply, dedupe_key="digest:2", now=clock.now)
        ids = [r.id for r in rows]
    standin.fail(WEBHOOK, body={"errcode": 93000, "errmsg": "invalid webhook url"})
    w = worker(runtime, clock)
    w.run_once()
    with runtime.db.unit_of_work() as session:
        statuses = [session.get_one(OutboxMessage, i).status for i in ids]
    assert statuses == ["dead"] * len(ids) and len(standin.calls(WEBHOOK)) == 1
    with runtime.db.unit_of_work() as session:
        assert [r.id for r in outbox.retry(session, ids[0], now=clock.now)] == ids
    while w.run_once():
        pass
    assert len(standin.calls(WEBHOOK)) == 1 + len(ids)
    with runtime.db.unit_of_work() as session:
        assert set(session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids)))) == {"sent"}


def test_the_rows_enqueue_returns_are_what_was_stored(runtime: Runtime, clock: Clock) -> None:
    """The returned rows are snapshots, not loaded rows: every column must still equal the stored one."""
    reply = Reply(blocks=[Heading(text="本周任务汇总"), ListBlock(items=[f"任务 {i}：同步素材给设计组" for i in range(150)])])
    with runtime.db.unit_of_work() as session:
        rows = outbox.enqueue(session, WeComAppUser("am1").messages(reply, "digest:snap"), now=clock.now, passive=1)
    assert len(rows) >= 2 and rows[0].status == "sent" and rows[1].after_id == rows[0].id
    columns = [c.key for c in OutboxMessage.__table__.c]
    for returned in rows:
        stored = row(runtime, returned.id)
        assert {k: getattr(returned, k) for k in columns} == {k: getattr(stored, k) for k in columns}
