"""Pushes into chats (reminders, alerts, digests): the entry point for scheduled jobs.

A job asks ``crm_core`` what is due, builds a ``Reply`` with ``handlers``, and calls ``push`` with
a dedupe key per (job, entity, period): the outbox stores it once, however often the job runs.
The chat's binding decides the route: its WeCom group robot or DingTalk custom robot webhook, or —
for chats without a webhook — the web console.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.delivery.addresses import ConsoleChat, DingTalkGroupRobot, WeComGroupRobot
from crm_core.models import ChatBinding, OutboxMessage
from crm_core.services import outbox
from crm_core.services.inbound import binding_for_chat
from handlers.reply import Reply

Address = ConsoleChat | WeComGroupRobot | DingTalkGroupRobot


def address_for(binding: ChatBinding | None, chat_id: str, mention_mobiles: list[str] | None = None) -> Address:
    mobiles = list(mention_mobiles or [])
    if binding is not None and binding.webhook_url:
        if binding.channel == "dingtalk":
            return DingTalkGroupRobot(binding.chat_id, binding.id, binding.webhook_url, mobiles)
        return WeComGroupRobot(binding.chat_id, binding.id, binding.webhook_url, mobiles)
    return ConsoleChat(chat_id)


def push(session: Session, chat_id: str, reply: Reply, *, dedupe_key: str,
         mention_mobiles: list[str] | None = None, now: datetime | None = None) -> list[OutboxMessage]:
    """Queue ``reply`` for the chat (``reply.mentions`` are the messenger user ids to @)."""
    address = address_for(binding_for_chat(session, chat_id), chat_id, mention_mobiles)
    return outbox.enqueue(session, address.messages(reply, dedupe_key), now=now)
