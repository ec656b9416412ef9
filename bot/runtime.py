"""Everything a running bot process shares: settings, database, the HTTP client and messenger API
clients (with their token caches), the outbox sender and worker, and the inbound runner."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.channels.dingtalk.api import DingTalkApi
from bot.channels.wecom.api import WeComApi
from bot.delivery.senders import Sender
from bot.delivery.worker import OutboxWorker
from bot.inbound import InboundRunner
from config import Settings
from crm_core.db import Database

log = logging.getLogger("crmbot")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    http: httpx.Client
    wecom: WeComApi
    dingtalk: DingTalkApi
    sender: Sender
    worker: OutboxWorker
    runner: InboundRunner
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, db: Database, *, http: httpx.Client | None = None) -> Runtime:
        client = http or httpx.Client(timeout=settings.http_timeout_seconds, follow_redirects=False,
                                      headers={"User-Agent": "crmbot/0.1"})
        wecom = WeComApi(settings.wecom_api_base, settings.wecom_corp_id, settings.wecom_secret,
                         settings.wecom_agent_id, client)
        dingtalk = DingTalkApi(settings.dingtalk_api_base, settings.dingtalk_app_key, settings.dingtalk_app_secret, client)
        sender = Sender(db, client, wecom, dingtalk)
        worker = OutboxWorker(db, settings, sender)
        runner = InboundRunner(db, settings, kick=worker.kick)
        return cls(settings, db, client, wecom, dingtalk, sender, worker, runner)

    def start(self, *, worker: bool = True) -> None:
        if worker:
            self.worker.start()
            log.info("outbox worker started")

    def stop(self) -> None:
        self.worker.stop()
        self.runner.close()
        self.http.close()
