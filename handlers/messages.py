"""The channel-neutral inbound message every adapter produces."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class IncomingMessage(BaseModel):
    channel: str  # wecom | dingtalk | console
    text: str
    sender_id: str | None = None
    chat_id: str | None = None
    is_group: bool = False
    external: bool = False  # sent by a client (external contact / 微信客服)
    mentions: list[str] = Field(default_factory=list)
    message_id: str | None = None
    sent_at: datetime | None = None  # message time; relative dates resolve against it
