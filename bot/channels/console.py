"""The console channel: `crmbot chat` and the web console speak to the bot through it."""

from __future__ import annotations

from datetime import datetime

from config import Settings
from crm_core.db import Database
from handlers.messages import IncomingMessage
from handlers.pipeline import handle
from handlers.reply import Reply


def send(db: Database, text: str, *, sender: str | None, chat: str | None = None, external: bool = False,
         now: datetime | None = None, settings: Settings | None = None) -> Reply:
    """One message as ``sender``; a chat id other than ``dm:…``/``kf:…`` is a group chat."""
    is_group = bool(chat) and not str(chat).startswith(("dm:", "kf:"))
    message = IncomingMessage(channel="console", text=text, sender_id=sender, chat_id=chat or f"dm:{sender}",
                              is_group=is_group, external=external, sent_at=now)
    return handle(db, message, settings=settings, now=now)
