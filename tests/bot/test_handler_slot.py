"""Messages are handled one at a time, except beside a slow one: a slow handler never holds up the rest."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.delivery.addresses import WeComAppUser
from bot.handler_slot import HandlerSlot
from bot.inbound import InboundRunner
from crm_core.db import Database
from handlers.messages import IncomingMessage
from handlers.pipeline import handle
from handlers.reply import Reply
from tests.bot.conftest import Agency, channel_settings
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def _start(slot: HandlerSlot, release: threading.Event, started: threading.Event) -> threading.Thread:
    def work() -> None:
        started.set()
        release.wait(10)

    thread = threading.Thread(target=slot.run, args=(work,))
    thread.start()
    return thread


def test_a_second_handler_waits_for_the_first() -> None:
    slot = HandlerSlot(exclusive_for=10)
    release_a, release_b = threading.Event(), threading.Event()
    started_a, started_b = threading.Event(), threading.Event()
    a = _start(slot, release_a, started_a)
    assert started_a.wait(5)
    b = _start(slot, release_b, started_b)
    assert not started_b.wait(0.3)  # A holds the slot and is not slow yet
    release_a.set()
    assert started_b.wait(5)  # A finished: B starts at once, not after the 10 s
    release_b.set()
    a.join(5), b.join(5)


def test_a_slow_handler_lets_the_next_one_start_beside_it() -> None:
    slot = HandlerSlot(exclusive_for=0.05)
    release_a, release_b = threading.Event(), threading.Event()
    started_a, started_b = threading.Event(), threading.Event()
    a = _start(slot, release_a, started_a)
    assert started_a.wait(5)
    began = time.monotonic()
    b = _start(slot, release_b, started_b)
    assert started_b.wait(5) and not release_a.is_set()  # B runs while A is still busy
    assert time.monotonic() - began < 2
    release_a.set(), release_b.set()
    a.join(5), b.join(5)


def test_no_slot_when_switched_off() -> None:
    slot = HandlerSlot(exclusive_for=0)
    release = threading.Event()
    started = [threading.Event() for _ in range(3)]
    threads = [_start(slot, release, s) for s in started]
    assert all(s.wait(5) for s in started)
    release.set()
    for t in threads:
        t.join(5)


def test_an_error_frees_the_slot() -> None:
    slot = HandlerSlot(exclusive_for=10)

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        slot.run(fail)
    began = time.monotonic()
    assert slot.run(lambda: 7) == 7 and time.monotonic() - began < 1


def _outcomes(agency: Agency, standin: StandIn, exclusive_ms: float) -> tuple[str, str]:
    """A message whose handler hangs (an LLM that does not answer), then an ordinary /帮助 from someone else."""
    release = threading.Event()

    def handler(db: Database, message: IncomingMessage, **kwargs: object) -> Reply:
        if message.text == "慢":
            release.wait(10)
        return handle(db, message, **kwargs)  # type: ignore[arg-type]

    settings = channel_settings(agency.db, standin, handler_exclusive_ms=exclusive_ms)
    runner = InboundRunner(agency.db, settings, handler=handler)

    async def both() -> tuple[str, str]:
        slow = asyncio.ensure_future(runner.run(
            IncomingMessage(channel="wecom", text="慢", sender_id="am1", chat_id="dm:am1", message_id="s1"),
            dedupe_channel="wecom", key="s1", address=WeComAppUser("am1"), passive=lambda m: 1, budget=0.3))
        await asyncio.sleep(0.05)
        fast = await runner.run(
            IncomingMessage(channel="wecom", text="/帮助", sender_id="am2", chat_id="dm:am2", message_id="f1"),
            dedupe_channel="wecom", key="f1", address=WeComAppUser("am2"), passive=lambda m: 1, budget=1.5)
        await asyncio.sleep(0.4)  # the slow one hangs past its budget
        release.set()
        return (await slow).kind, fast.kind

    try:
        return asyncio.run(both())
    finally:
        release.set()
        runner.close()


def test_a_hanging_handler_does_not_hold_up_the_next_message(agency: Agency, standin: StandIn) -> None:
    slow, fast = _outcomes(agency, standin, exclusive_ms=50)
    assert slow == "queued"  # its callback gave up after 0.3 s: the reply goes through the outbox
    assert fast == "passive"  # answered in its own callback although the slow one was still running


def test_without_the_spill_over_the_next_message_waits(agency: Agency, standin: StandIn) -> None:
    # the counter-test: a slot held for its whole duration makes /帮助 miss its budget
    slow, fast = _outcomes(agency, standin, exclusive_ms=60_000)
    assert (slow, fast) == ("queued", "queued")
