"""The outbox worker: claim due rows, respect each robot's per-minute quota, send, record the outcome.

Run one per process (``crmbot serve`` starts one in the background); any number of processes may
share a database — claims are atomic (see ``crm_core.services.outbox``). ``kick()`` wakes the worker
at once (a reply was just queued), otherwise it polls every ``OUTBOX_POLL_SECONDS``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.delivery.errors import DeliveryError
from bot.delivery.senders import RESEND_WINDOW_SECONDS, RESENDABLE_CHANNELS, Sender
from config import Settings
from crm_core.db import Database
from crm_core.models import OutboxMessage, utcnow
from crm_core.services import outbox

log = logging.getLogger("crmbot.outbox")
RATE_WINDOW = timedelta(minutes=1)


class OutboxWorker:
    def __init__(self, db: Database, settings: Settings, sender: Sender, *, batch: int = 20,
                 clock: Callable[[], datetime] = utcnow, rng: random.Random | None = None) -> None:
        self.db, self.settings, self.sender = db, settings, sender
        self.batch = batch
        self.clock = clock
        self.rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one pass at a time within this process

    # -- one pass ---------------------------------------------------------------------------------
    def run_once(self, max_rounds: int = 50) -> int:
        """Deliver everything due now (including later parts of a reply whose first part just went)."""
        sent = 0
        with self._lock:
            with self.db.unit_of_work() as session:
                requeued, dead = outbox.recover_stale(session, lease_seconds=self.settings.outbox_lease_seconds,
                                                      resendable=RESENDABLE_CHANNELS,
                                                      resend_window_seconds=RESEND_WINDOW_SECONDS, now=self.clock())
            if requeued or dead:
                log.warning("outbox: %d stale rows requeued, %d dead-lettered (worker crashed mid-send)", requeued, dead)
            for _ in range(max_rounds):
                with self.db.unit_of_work() as session:
                    rows = outbox.claim(session, now=self.clock(), limit=self.batch)
                    session.expunge_all()
                if not rows:
                    break
                waiting = {r.id for r in rows}
                for row in rows:
                    waiting.discard(row.id)
                    sent += self._deliver(row, waiting)
        return sent

    def _deliver(self, row: OutboxMessage, not_yet_sent: set[int]) -> int:
        now = self.clock()
        with self.db.unit_of_work() as session:
            if row.rate_key:
                recent = outbox.sends_in_window(session, row.rate_key, now - RATE_WINDOW,
                                                exclude_ids=not_yet_sent | {row.id})
                limit = self.settings.webhook_rate_per_minute
                if len(recent) >= limit:
                    until = recent[-limit] + RATE_WINDOW
                    outbox.defer(session, row, until, f"机器人每分钟最多 {limit} 条，等待到 {until:%H:%M:%S}")
                    log.info("outbox #%d deferred by the per-robot limiter until %s", row.id, until)
                    return 0
            # the batch's earlier sends may have taken a while: hold the lease anew, or let it go
            if not outbox.renew(session, row, now=now):
                log.warning("outbox #%d: claim lost to another worker; not sending", row.id)
                return 0
        try:
            via = self.sender.send(row)
        except DeliveryError as exc:
            status = self._failed(row, str(exc), retryable=exc.retryable, min_delay=exc.min_delay)
            log.warning("outbox #%d %s → %s: %s", row.id, row.channel, status, exc)
            return 0
        except Exception as exc:  # a bug must not stop the worker; the row is retried like a transient error
            log.exception("outbox #%d: unexpected error", row.id)
            self._failed(row, f"内部错误：{type(exc).__name__}: {exc}", retryable=True)
            return 0
        with self.db.unit_of_work() as session:
            outbox.mark_sent(session, row.id, via=via, now=self.clock())
        return 1

    def _failed(self, row: OutboxMessage, error: str, *, retryable: bool, min_delay: float = 0.0) -> str:
        with self.db.unit_of_work() as session:
            return outbox.mark_failed(session, row.id, error, retryable=retryable,
                                      max_attempts=self.settings.outbox_max_attempts,
                                      base=self.settings.outbox_backoff_base_seconds,
                                      cap=self.settings.outbox_backoff_max_seconds, now=self.clock(),
                                      min_delay=min_delay, rng=self.rng, claim_token=row.claim_token)

    # -- background thread ------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="crmbot-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # database briefly unavailable etc.: keep the worker alive
                log.exception("outbox pass failed")
            self._wake.wait(self.settings.outbox_poll_seconds)
