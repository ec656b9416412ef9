"""A DingTalk enterprise robot message, however it arrived (HTTP callback or Stream mode).

Fields used: msgId (dedupe), conversationType ("1" 1:1, "2" group), conversationId, senderStaffId,
atUsers, text.content, robotCode, sessionWebhook and sessionWebhookExpiredTime (ms), createAt (ms).
The reply always goes through the outbox: the sessionWebhook while it is valid, the robot OpenAPI
after it expired.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot.delivery.addresses import DingTalkConversation
from bot.inbound import Outcome
from bot.runtime import Runtime
from handlers.messages import IncomingMessage
from handlers.reply import Reply

log = logging.getLogger("crmbot.dingtalk")
ONLY_TEXT = "暂时只能处理文字消息，请 @我 并输入文字。"


class BadMessage(ValueError):
    pass


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return str(value) if value is not None else ""


async def accept(runtime: Runtime, data: dict[str, Any], *, budget: float | None = None) -> Outcome:
    msg_id, conversation_id = _str(data, "msgId"), _str(data, "conversationId")
    if not msg_id or not conversation_id:
        raise BadMessage("消息缺少 msgId 或 conversationId")
    settings = runtime.settings
    conversation_type = _str(data, "conversationType") or "1"
    staff_id = _str(data, "senderStaffId") or None
    webhook = _str(data, "sessionWebhook") or None
    if webhook and not webhook.startswith(settings.dingtalk_oapi_base.rstrip("/") + "/"):
        log.warning("sessionWebhook outside %s ignored", settings.dingtalk_oapi_base)
        webhook = None
    expires = data.get("sessionWebhookExpiredTime")
    text = ""
    if data.get("msgtype", "text") == "text":
        text = str((data.get("text") or {}).get("content", "")).strip()
    mentions = [str(u["staffId"]) for u in data.get("atUsers") or [] if isinstance(u, dict) and u.get("staffId")]
    created = data.get("createAt")
    sent_at = (datetime.fromtimestamp(int(created) / 1000, UTC).astimezone(settings.tz)
               if isinstance(created, int | str) and str(created).isdigit() else None)
    message = IncomingMessage(channel="dingtalk", text=text, sender_id=staff_id, chat_id=conversation_id,
                              is_group=conversation_type == "2", mentions=mentions, message_id=msg_id, sent_at=sent_at)
    address = DingTalkConversation(conversation_id, conversation_type, _str(data, "robotCode") or settings.dingtalk_app_key,
                                   staff_id, webhook, int(expires) if str(expires or "").isdigit() else None)
    return await runtime.runner.run(message, dedupe_channel="dingtalk", key=msg_id, address=address,
                                    budget=budget, answer=None if text else Reply.text(ONLY_TEXT))
