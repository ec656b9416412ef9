"""Pushes go out through the outbox to the real messenger protocols (a local stand-in): a failing
endpoint delays a reminder, never drops or doubles it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.delivery.worker import OutboxWorker
from bot.runtime import Runtime
from config.settings import load_settings
from crm_core.models import ChatBinding
from tests.bot.standin import StandIn
from tests.jobs.conftest import GROUP, MORNING, queued, run

WEBHOOK = "/cgi-bin/webhook/send"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


def test_a_failing_group_robot_gets_the_reminder_later_exactly_once(db, agency, standin):
    settings = load_settings(nlu_embeddings=False, wecom_api_base=standin.url, http_timeout_seconds=3)
    with db.unit_of_work() as s:
        s.execute(update(ChatBinding).where(ChatBinding.chat_id == GROUP)
                  .values(webhook_url=f"{standin.url}{WEBHOOK}?key=grp-key"))
    run(db, settings, "overdue_tasks", MORNING)
    [row] = queued(db, "overdue_tasks")
    assert row.channel == "wecom_webhook"
    standin.fail(WEBHOOK, status=502, times=2)
    clock = [MORNING]
    runtime = Runtime.build(settings, db)
    worker = OutboxWorker(db, settings, runtime.sender, clock=lambda: clock[0])
    try:
        assert worker.run_once() == 0
        assert queued(db, "overdue_tasks")[0].status == "pending"  # kept, to be retried
        clock[0] += timedelta(seconds=1)
        worker.run_once()  # still inside the backoff: nothing is attempted
        assert len(standin.calls(WEBHOOK)) == 1
        for minute in range(1, 30):
            clock[0] = MORNING + timedelta(minutes=minute)
            worker.run_once()
        run(db, settings, "overdue_tasks", MORNING + timedelta(minutes=40))  # the job runs again meanwhile
    finally:
        runtime.stop()
    [row] = queued(db, "overdue_tasks")
    assert (row.status, row.attempts) == ("sent", 3)
    calls = standin.calls(WEBHOOK)
    assert len(calls) == 3 and calls[0].json == calls[-1].json
    body = calls[-1].json
    assert body["msgtype"] == "text" and set(body["text"]["mentioned_list"]) == {"planner", "am1"}
    assert "品牌策略提案" in body["text"]["content"] and "@策划甲" in body["text"]["content"]
