"""WeCom server API (qyapi): access token, app messages, 微信客服 sync_msg / send_msg."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.delivery.errors import Permanent, RateLimited, Transient
from bot.delivery.tokens import TokenCache

TOKEN_ERRORS = {40014, 42001, 42009}  # invalid / expired access_token
RATE_LIMIT_ERRORS = {45009, 45033, 45011, 45047}  # API frequency / concurrency / minute quota
BUSY_ERRORS = {-1}  # 系统繁忙
WECOM_DUPLICATE_CHECK_SECONDS = 1800  # message/send drops an identical message within this (its default)


def check_errcode(data: dict[str, Any], what: str) -> dict[str, Any]:
    code = int(data.get("errcode", 0) or 0)
    if code == 0:
        return data
    message = f"{what} errcode={code} {data.get('errmsg', '')}".strip()
    if code in RATE_LIMIT_ERRORS:
        raise RateLimited(message)
    if code in BUSY_ERRORS or code in TOKEN_ERRORS:
        raise Transient(message)
    raise Permanent(message)


def post_json(client: httpx.Client, url: str, body: dict[str, Any], what: str, *,
              params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST JSON; network errors and 5xx/429 become Transient/RateLimited. Returns (status, json)."""
    try:
        response = client.post(url, json=body, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise Transient(f"{what} 网络错误：{type(exc).__name__} {exc}") from None
    if response.status_code == 429:
        raise RateLimited(f"{what} HTTP 429")
    if response.status_code >= 500:
        raise Transient(f"{what} HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        if response.status_code >= 400:
            raise Permanent(f"{what} HTTP {response.status_code}") from None
        raise Transient(f"{what} 返回的不是 JSON") from None
    return response.status_code, data if isinstance(data, dict) else {"data": data}


class WeComApi:
    def __init__(self, base: str, corp_id: str, secret: str, agent_id: str, client: httpx.Client, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base = base.rstrip("/")
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.client = client
        self.tokens = TokenCache(self._fetch_token, clock=clock)

    def _fetch_token(self) -> tuple[str, float]:
        if not (self.corp_id and self.secret):
            raise Permanent("未配置 WECOM_CORP_ID / WECOM_SECRET，无法调用企业微信接口")
        try:
            response = self.client.get(f"{self.base}/cgi-bin/gettoken",
                                       params={"corpid": self.corp_id, "corpsecret": self.secret})
        except httpx.HTTPError as exc:
            raise Transient(f"gettoken 网络错误：{type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Transient(f"gettoken HTTP {response.status_code}")
        data = check_errcode(response.json(), "gettoken")
        return str(data["access_token"]), float(data.get("expires_in", 7200))

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; an invalid/expired token is refreshed and the call made once more."""
        for attempt in (1, 2):
            token = self.tokens.get()
            _, data = post_json(self.client, f"{self.base}{path}", body, path, params={"access_token": token})
            if int(data.get("errcode", 0) or 0) in TOKEN_ERRORS and attempt == 1:
                self.tokens.invalidate(token)
                continue
            return check_errcode(data, path)
        raise AssertionError("unreachable")

    def send_app_message(self, touser: str, msgtype: str, content: str) -> dict[str, Any]:
        """An app message to one member (``message/send``); WeCom drops an identical one sent within
        ``duplicate_check_interval``, which makes a resend after a crash harmless."""
        body: dict[str, Any] = {"touser": touser, "msgtype": msgtype, "agentid": int(self.agent_id or 0),
                                msgtype: {"content": content}, "enable_duplicate_check": 1,
                                "duplicate_check_interval": WECOM_DUPLICATE_CHECK_SECONDS}
        return self.call("/cgi-bin/message/send", body)

    def send_appchat_message(self, chatid: str, msgtype: str, content: str) -> dict[str, Any]:
        return self.call("/cgi-bin/appchat/send", {"chatid": chatid, "msgtype": msgtype, msgtype: {"content": content}})

    def kf_sync(self, cursor: str, token: str, open_kfid: str, limit: int = 1000) -> dict[str, Any]:
        body: dict[str, Any] = {"cursor": cursor, "token": token, "limit": limit, "open_kfid": open_kfid}
        return self.call("/cgi-bin/kf/sync_msg", {k: v for k, v in body.items() if v not in ("", None)})

    def kf_send_text(self, touser: str, open_kfid: str, content: str, msgid: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"touser": touser, "open_kfid": open_kfid, "msgtype": "text", "text": {"content": content}}
        if msgid:
            body["msgid"] = msgid
        return self.call("/cgi-bin/kf/send_msg", body)
