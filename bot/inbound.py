"""Acknowledge, then work: one inbound message from any messenger, handled exactly once.

1. ``claim_message`` records the message key; a retry, a redelivery or another process's copy
   finds the key taken and stops there.
2. The handler runs in a worker thread (``handlers.pipeline.handle``); its reply is rendered for
   the message's address and written to the outbox at once — held until the callback's deadline,
   so a crash after handling still delivers it.
3. If the reply is ready within the budget and the channel can answer passively, the callback takes
   the held rows (``pending → sent`` in one conditional update) and answers in its response.
   Otherwise the rows are released to the outbox worker and the callback answers empty. The
   conditional update makes the two paths exclusive: never answered twice, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from config import Settings
from crm_core.db import Database
from crm_core.models import OutboxMessage, utcnow
from crm_core.services import inbound, outbox
from crm_core.services.outbox import NewMessage
from handlers.messages import IncomingMessage
from handlers.pipeline import handle
from handlers.reply import Reply

log = logging.getLogger("crmbot.inbound")
APOLOGY = "抱歉，处理这条消息时出了点问题，请稍后再试；如果一直这样，请联系管理员。"
HOLD_MARGIN = timedelta(seconds=3)


class Address(Protocol):
    def messages(self, reply: Reply, dedupe_key: str | None = None) -> list[NewMessage]: ...


@dataclass
class Outcome:
    kind: str  # duplicate | passive | queued
    reply: Reply | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # the outbox rows' payload/text when passive


class InboundRunner:
    def __init__(self, db: Database, settings: Settings, *, kick: Callable[[], None] = lambda: None,
                 threads: int = 8, handler: Callable[..., Reply] = handle) -> None:
        self.db, self.settings = db, settings
        self.kick = kick
        self.handler = handler
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="crmbot-handle")

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)

    # -- the steps --------------------------------------------------------------------------------
    def claim(self, dedupe_channel: str, key: str) -> bool:
        with self.db.unit_of_work() as session:
            return inbound.claim_message(session, dedupe_channel, key)

    def work(self, message: IncomingMessage, dedupe_channel: str, key: str, address: Address,
             hold: bool, answer: Reply | None = None) -> tuple[Reply, list[OutboxMessage]]:
        """Handle (in a worker thread) and queue the reply. Never raises: a failure is apologised for.
        ``answer``: a fixed reply (greeting, unsupported message type) instead of the pipeline."""
        try:
            reply = answer if answer is not None else self.handler(self.db, message, settings=self.settings)
            status = "answered"
        except Exception:
            log.exception("handler failed for %s %s", dedupe_channel, key)
            reply, status = Reply.text(APOLOGY, tone="warning"), "failed"
        hold_until = utcnow() + timedelta(seconds=self.settings.wecom_reply_budget_seconds) + HOLD_MARGIN if hold else None
        rows: list[OutboxMessage] = []
        if reply.blocks:
            with self.db.unit_of_work() as session:
                rows = outbox.enqueue(session, address.messages(reply, f"reply:{dedupe_channel}:{key}"),
                                      hold_until=hold_until)
                inbound.mark_message(session, dedupe_channel, key, status)
                session.expunge_all()
        if not hold:
            self.kick()
        return reply, rows

    def take_passive(self, rows: list[OutboxMessage]) -> bool:
        with self.db.unit_of_work() as session:
            return outbox.take_for_passive_reply(session, [r.id for r in rows])

    def release(self, rows: list[OutboxMessage]) -> None:
        if rows:
            with self.db.unit_of_work() as session:
                outbox.release(session, [r.id for r in rows])
        self.kick()

    # -- the whole flow ---------------------------------------------------------------------------
    async def run(self, message: IncomingMessage, *, dedupe_channel: str, key: str, address: Address,
                  passive: Callable[[list[OutboxMessage]], bool] | None = None,
                  budget: float | None = None, answer: Reply | None = None) -> Outcome:
        """Handle one delivery of a message. ``passive(rows)`` says whether these rows can be the
        callback's own answer; None means the channel never answers passively (always the outbox)."""
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(self.executor, self.claim, dedupe_channel, key):
            log.info("duplicate %s %s ignored", dedupe_channel, key)
            return Outcome("duplicate")
        hold = passive is not None
        future = loop.run_in_executor(self.executor, self.work, message, dedupe_channel, key, address, hold, answer)
        if not hold:
            if budget:  # give the reply a head start before answering, but answer within the budget
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), budget)
            return Outcome("queued")
        try:
            reply, rows = await asyncio.wait_for(asyncio.shield(future), budget or self.settings.wecom_reply_budget_seconds)
        except TimeoutError:
            future.add_done_callback(lambda f: self._release_later(f))
            log.info("%s %s not ready within the budget: answered empty, reply goes through the outbox",
                     dedupe_channel, key)
            return Outcome("queued")
        assert passive is not None
        if rows and passive(rows) and await loop.run_in_executor(self.executor, self.take_passive, rows):
            return Outcome("passive", reply=reply, rows=[{"text": r.text, "payload": r.payload} for r in rows])
        await loop.run_in_executor(self.executor, self.release, rows)
        return Outcome("queued", reply=reply)

    def _release_later(self, future: asyncio.Future[tuple[Reply, list[OutboxMessage]]]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        _, rows = future.result()
        self.executor.submit(self.release, rows)
