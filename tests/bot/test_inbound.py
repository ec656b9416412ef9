"""The hand-off between a callback waiting for its reply and the thread producing it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.delivery.addresses import WeComAppUser
from bot.inbound import Handoff, InboundRunner
from bot.runtime import Runtime
from crm_core.models import OutboxMessage, ProcessedMessage
from handlers.messages import IncomingMessage
from tests.bot.conftest import Agency, channel_settings
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def test_first_mover_wins() -> None:
    late = Handoff()
    assert late.give_up() and not late.answer_passively() and late.give_up()
    quick = Handoff()
    assert quick.answer_passively() and not quick.give_up() and quick.answer_passively()


def test_concurrent_handoffs_pick_exactly_one_side() -> None:
    for _ in range(200):
        h, results = Handoff(), {}
        barrier = threading.Barrier(2)

        def side(name: str, h: Handoff = h, results: dict[str, bool] = results, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            results[name] = h.answer_passively() if name == "thread" else h.give_up()

        threads = [threading.Thread(target=side, args=(n,)) for n in ("thread", "callback")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["thread"] != results["callback"]


def test_process_without_a_waiting_callback_queues_everything(agency: Agency, standin: StandIn) -> None:
    runtime = Runtime.build(channel_settings(agency.db, standin), agency.db)
    runner: InboundRunner = runtime.runner
    try:
        message = IncomingMessage(channel="wecom", text="/客户 星屿科技", sender_id="am1", chat_id="dm:am1", message_id="m1")
        first = runner.process(message, "wecom", "m1", WeComAppUser("am1"), passive=lambda msgs: 1)
        again = runner.process(message, "wecom", "m1", WeComAppUser("am1"), passive=lambda msgs: 1)
    finally:
        runtime.stop()
    assert (first.kind, again.kind) == ("queued", "duplicate")  # no hand-off: nobody to answer passively
    with agency.db.unit_of_work() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert row.status == "pending" and row.dedupe_key == "reply:wecom:m1" and "html" not in row.payload
        assert session.scalars(select(ProcessedMessage.status)).all() == ["received"]
