"""Acknowledge, then work: one inbound message from any messenger, handled exactly once.

1. ``inbound.claim`` records the message key, committed in a transaction of its own; a retry, a
   redelivery or another process's copy finds the key taken and stops there.
2. The handler (``handlers.pipeline.handle``) runs in a worker thread; its reply is rendered for the
   message's address and written to the outbox in the handler's own transaction, so the handler's
   writes and its answer commit together or not at all (a handler that fails is apologised for,
   in a transaction of its own that also marks the message failed).
3. A channel that can answer in the callback's own response (``passive``) gets the reply there if it
   is ready within the budget: those rows are written as already sent (``delivered_via="passive"``)
   and returned to the callback; later parts of a long reply stay in the outbox for the worker.
   If the budget runs out first, the callback answers empty at once and every row goes to the
   outbox worker (the channel's send API). A small handshake decides which of the two happens, so a
   reply is never both answered and queued, nor neither.

The event loop does not go on reading other requests while a handler starts: it blocks on the
handler for up to ``HANDLER_EXCLUSIVE_MS`` (the handler slot's own grace, ``bot/handler_slot.py``; 0.1 s
at most), and only a handler still running then is awaited asynchronously. Most messages are answered
within that wait, so the loop thread does not trade the GIL with the handler thread at every socket and
database call, as it did while reading the next requests beside it (a ``/客户`` callback's server CPU 5.6 →
4.9 times the bare endpoint's in alternating runs, docs/benchmarks.md, "Channels"). Requests that arrive
meanwhile wait in the socket's buffer, as they would wait for the slot anyway.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.handler_slot import HandlerSlot
from config import Settings
from crm_core.db import Database
from crm_core.models import OutboxMessage
from crm_core.services import inbound, outbox
from crm_core.services.outbox import NewMessage
from handlers.messages import IncomingMessage
from handlers.pipeline import handle
from handlers.reply import Reply

log = logging.getLogger("crmbot.inbound")
LOOP_WAIT_CAP = 0.1  # seconds the event loop blocks on a handler at most, whatever HANDLER_EXCLUSIVE_MS says
APOLOGY = "抱歉，处理这条消息时出了点问题，请稍后再试；如果一直这样，请联系管理员。"

# How many leading rows of a reply the callback can carry in its own response (0: none).
Passive = Callable[[Sequence[NewMessage]], int]


class Address(Protocol):
    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]: ...


@dataclass
class Outcome:
    kind: str  # duplicate | passive | queued
    reply: Reply | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # the passive rows' text and payload


class Handoff:
    """Between the callback waiting for a reply and the thread producing it: whoever moves first wins.

    The thread calls ``answer_passively()`` when the reply is ready; the callback calls ``give_up()``
    when its budget ran out. After ``give_up()`` returned True the reply goes to the outbox; after
    ``answer_passively()`` returned True the callback waits (milliseconds) for it and answers with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "waiting"  # waiting | passive | abandoned

    def answer_passively(self) -> bool:
        with self._lock:
            if self._state == "waiting":
                self._state = "passive"
            return self._state == "passive"

    def give_up(self) -> bool:
        with self._lock:
            if self._state == "waiting":
                self._state = "abandoned"
            return self._state == "abandoned"


class InboundRunner:
    def __init__(self, db: Database, settings: Settings, *, kick: Callable[[], None] = lambda: None,
                 threads: int = 8, handler: Callable[..., Reply] = handle) -> None:
        self.db, self.settings = db, settings
        self.kick = kick
        self.handler = handler
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="crmbot-handle")
        self.slot = HandlerSlot(settings.handler_exclusive_ms / 1000)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)

    def claim(self, dedupe_channel: str, key: str) -> bool:
        return inbound.claim(self.db, dedupe_channel, key)

    def process(self, message: IncomingMessage, dedupe_channel: str, key: str, address: Address, *,
                passive: Passive | None = None, handoff: Handoff | None = None,
                answer: Reply | None = None) -> Outcome:
        """Claim, handle and record one delivery of a message (blocking; runs in a worker thread).
        Never raises for a handler failure: that is apologised for. ``answer``: a fixed reply
        (greeting, unsupported message type) instead of the pipeline. Waits for the handler slot
        (``bot/handler_slot.py``) first."""
        return self.slot.run(lambda: self._process(message, dedupe_channel, key, address, passive=passive,
                                                   handoff=handoff, answer=answer))

    def _process(self, message: IncomingMessage, dedupe_channel: str, key: str, address: Address, *,
                 passive: Passive | None, handoff: Handoff | None, answer: Reply | None) -> Outcome:
        if not self.claim(dedupe_channel, key):
            log.info("duplicate %s %s ignored", dedupe_channel, key)
            return Outcome("duplicate")

        def record(session: Session, reply: Reply) -> tuple[list[OutboxMessage], int]:
            # a reply to a callback is not a push: the console needs no HTML of it
            messages = address.messages(reply, f"reply:{dedupe_channel}:{key}", html=False) if reply.blocks else []
            carried = passive(messages) if passive is not None and messages else 0
            if carried and not (handoff is not None and handoff.answer_passively()):
                carried = 0
            return outbox.enqueue(session, messages, passive=carried), carried

        recorded: tuple[list[OutboxMessage], int] | None = None

        def finish(session: Session, reply: Reply) -> None:  # the reply commits with the handler's writes
            nonlocal recorded
            recorded = record(session, reply)

        failed = False
        try:
            reply = answer if answer is not None else self.handler(self.db, message, settings=self.settings,
                                                                   finish=finish)
        except Exception:
            log.exception("handler failed for %s %s", dedupe_channel, key)
            reply, failed, recorded = Reply.text(APOLOGY, tone="warning"), True, None  # rolled back with it
        if recorded is None:
            with self.db.unit_of_work() as session:
                recorded = record(session, reply)
                if failed:
                    inbound.mark_message(session, dedupe_channel, key, "failed")
        rows, carried = recorded
        if len(rows) > carried:
            self.kick()
        if carried:
            return Outcome("passive", reply, [{"text": r.text, "payload": r.payload} for r in rows[:carried]])
        return Outcome("queued", reply)

    async def run(self, message: IncomingMessage, *, dedupe_channel: str, key: str, address: Address,
                  passive: Passive | None = None, budget: float | None = None,
                  answer: Reply | None = None) -> Outcome:
        """Handle one delivery of a message from an async callback. With ``passive``, wait up to
        ``budget`` seconds for a reply the callback can answer with; without, give the reply that long
        a head start and answer (the reply goes through the outbox either way)."""
        handoff = Handoff() if passive is not None else None
        started = time.monotonic()
        work = self.executor.submit(self.process, message, dedupe_channel, key, address, passive=passive,
                                    handoff=handoff, answer=answer)
        wait = self.settings.wecom_reply_budget_seconds if budget is None else budget
        try:  # the event loop itself waits, for the first moments: see the module docstring
            return work.result(timeout=min(self.slot.exclusive_for, LOOP_WAIT_CAP, wait))
        except concurrent.futures.TimeoutError:
            pass
        future = asyncio.wrap_future(work)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, wait - (time.monotonic() - started)))
        except TimeoutError:
            if handoff is None or handoff.give_up():
                log.info("%s %s not ready within %.3f s: answered empty, the reply goes through the outbox",
                         dedupe_channel, key, wait)
                return Outcome("queued")
            return await future  # the thread is writing the passive answer right now
