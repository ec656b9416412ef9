"""DingTalk robot APIs: the new OpenAPI (api.dingtalk.com) for 1:1 and group robot messages, and
plain webhook posts (``sessionWebhook``, custom robots) on oapi."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.channels.wecom.api import post_json
from bot.delivery.errors import Permanent, RateLimited, Transient
from bot.delivery.tokens import TokenCache

WEBHOOK_RATE_LIMIT_ERRORS = {130101, 410100}  # 发送太快 / 机器人限流 (a custom robot is paused ~10 minutes)
WEBHOOK_BUSY_ERRORS = {-1}
TOKEN_CODES = {"InvalidAuthentication", "invalidAuthentication"}


def check_webhook_response(data: dict[str, Any], what: str) -> None:
    code = int(data.get("errcode", 0) or 0)
    if code == 0:
        return
    message = f"{what} errcode={code} {data.get('errmsg', '')}".strip()
    if code in WEBHOOK_RATE_LIMIT_ERRORS:
        raise RateLimited(message, min_delay=600.0)
    if code in WEBHOOK_BUSY_ERRORS:
        raise Transient(message)
    raise Permanent(message)


def post_webhook(client: httpx.Client, url: str, body: dict[str, Any], what: str) -> None:
    status, data = post_json(client, url, body, what)
    if status >= 400:
        raise Permanent(f"{what} HTTP {status} {data}")
    check_webhook_response(data, what)


class DingTalkApi:
    def __init__(self, base: str, app_key: str, app_secret: str, client: httpx.Client, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base = base.rstrip("/")
        self.app_key, self.app_secret = app_key, app_secret
        self.client = client
        self.tokens = TokenCache(self._fetch_token, clock=clock)

    def _fetch_token(self) -> tuple[str, float]:
        if not (self.app_key and self.app_secret):
            raise Permanent("未配置 DINGTALK_APP_KEY / DINGTALK_APP_SECRET，无法调用钉钉接口")
        status, data = post_json(self.client, f"{self.base}/v1.0/oauth2/accessToken",
                                 {"appKey": self.app_key, "appSecret": self.app_secret}, "oauth2/accessToken")
        if status >= 400 or "accessToken" not in data:
            raise Permanent(f"获取钉钉 accessToken 失败：HTTP {status} {data.get('code', '')} {data.get('message', '')}")
        return str(data["accessToken"]), float(data.get("expireIn", 7200))

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self.tokens.get()
            status, data = post_json(self.client, f"{self.base}{path}", body, path,
                                     headers={"x-acs-dingtalk-access-token": token})
            if status < 400:
                return data
            code = str(data.get("code", ""))
            if (status == 401 or code in TOKEN_CODES) and attempt == 1:
                self.tokens.invalidate(token)
                continue
            message = f"{path} HTTP {status} {code} {data.get('message', '')}".strip()
            if "Throttling" in code or "QpsLimit" in code:
                raise RateLimited(message)
            if status == 401:
                raise Transient(message)
            raise Permanent(message)
        raise AssertionError("unreachable")

    def send_to_users(self, robot_code: str, user_ids: list[str], title: str, markdown: str) -> dict[str, Any]:
        """A robot 1:1 message (``/v1.0/robot/oToMessages/batchSend``)."""
        return self.call("/v1.0/robot/oToMessages/batchSend", {
            "robotCode": robot_code, "userIds": user_ids, "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": title, "text": markdown}, ensure_ascii=False)})

    def send_to_group(self, robot_code: str, open_conversation_id: str, title: str, markdown: str) -> dict[str, Any]:
        """A robot group message (``/v1.0/robot/groupMessages/send``)."""
        return self.call("/v1.0/robot/groupMessages/send", {
            "robotCode": robot_code, "openConversationId": open_conversation_id, "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": title, "text": markdown}, ensure_ascii=False)})
