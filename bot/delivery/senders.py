"""Send one outbox row to its messenger. Returns how it went out; raises a ``DeliveryError``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.channels.dingtalk.api import DingTalkApi, post_webhook
from bot.channels.dingtalk.signature import signed_webhook_url
from bot.channels.wecom.api import WECOM_DUPLICATE_CHECK_SECONDS, WeComApi, check_errcode, post_json
from bot.delivery.errors import Permanent
from crm_core.db import Database
from crm_core.models import ChatBinding, OutboxMessage

SESSION_WEBHOOK_MARGIN_MS = 60_000  # do not start a request on a sessionWebhook in its last minute
# Channels where a second copy never reaches the person: the console (nothing is sent) and WeCom's
# message/send, which drops a message identical to one sent within duplicate_check_interval (30
# minutes). Rows of other channels that a crash left unconfirmed are dead-lettered, never resent.
RESENDABLE_CHANNELS = ("console", "wecom_app")
RESEND_WINDOW_SECONDS = WECOM_DUPLICATE_CHECK_SECONDS - 300


class Sender:
    def __init__(self, db: Database, client: httpx.Client, wecom: WeComApi, dingtalk: DingTalkApi, *,
                 now_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.db, self.client, self.wecom, self.dingtalk = db, client, wecom, dingtalk
        self.now_ms = now_ms

    def send(self, row: OutboxMessage) -> str:
        handler = getattr(self, f"_send_{row.channel}", None)
        if handler is None:
            raise Permanent(f"未知渠道 {row.channel}")
        return str(handler(row, row.payload or {}))

    def _send_console(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        return "console"  # the web console reads the row itself

    def _send_wecom_app(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        self.wecom.send_app_message(row.target, payload.get("msgtype", row.msg_type or "markdown"), row.text)
        return "wecom_app"

    def _send_wecom_appchat(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        self.wecom.send_appchat_message(row.target, payload.get("msgtype", row.msg_type or "markdown"), row.text)
        return "wecom_appchat"

    def _send_wecom_kf(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        self.wecom.kf_send_text(row.target, str(payload["open_kfid"]), row.text, msgid=f"crmbot_{row.id}")
        return "wecom_kf"

    def _send_wecom_robot(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        if not payload.get("response_url"):
            raise Permanent("智能机器人消息没有可用的 response_url，无法补发回复")
        status, data = post_json(self.client, str(payload["response_url"]),
                                 {"msgtype": "markdown", "markdown": {"content": row.text}}, "aibot response_url")
        if status >= 400:
            raise Permanent(f"response_url HTTP {status}")
        check_errcode(data, "aibot response_url")
        return "response_url"

    def _binding(self, payload: dict[str, Any]) -> ChatBinding:
        with self.db.unit_of_work() as session:
            binding = session.get(ChatBinding, int(payload.get("binding_id") or 0))
            if binding is None or not binding.webhook_url:
                raise Permanent("群聊绑定不存在或没有配置机器人 webhook")
            session.expunge(binding)
            return binding

    def _send_wecom_webhook(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        binding = self._binding(payload)
        status, data = post_json(self.client, str(binding.webhook_url), payload["body"], "webhook/send")
        if status >= 400:
            raise Permanent(f"webhook/send HTTP {status}")
        check_errcode(data, "webhook/send")
        return "wecom_webhook"

    def _send_dingtalk_webhook(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        binding = self._binding(payload)
        url = signed_webhook_url(str(binding.webhook_url), binding.webhook_secret, now_ms=self.now_ms())
        post_webhook(self.client, url, payload["body"], "robot/send")
        return "dingtalk_webhook"

    def _send_dingtalk(self, row: OutboxMessage, payload: dict[str, Any]) -> str:
        title = str(payload.get("title") or "客户助手")
        webhook, expires = payload.get("session_webhook"), payload.get("session_expires_ms")
        if webhook and expires and self.now_ms() < int(expires) - SESSION_WEBHOOK_MARGIN_MS:
            body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": title, "text": row.text}}
            if row.mentions:
                body["at"] = {"atUserIds": list(row.mentions), "isAtAll": False}
            post_webhook(self.client, str(webhook), body, "sessionWebhook")
            return "session_webhook"
        robot_code = str(payload.get("robot_code") or self.dingtalk.app_key)
        if payload.get("conversation_type") == "2":
            self.dingtalk.send_to_group(robot_code, row.target, title, row.text)
        else:
            staff_id = payload.get("sender_staff_id")
            if not staff_id:
                raise Permanent("单聊会话已过期且没有发送者 staffId，无法通过开放接口补发")
            self.dingtalk.send_to_users(robot_code, [str(staff_id)], title, row.text)
        return "openapi"
