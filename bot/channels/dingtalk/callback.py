"""``/dingtalk/callback`` (enterprise robot, HTTP mode) and ``/dingtalk/events`` (event subscription).

The robot callback is signed, not encrypted: headers ``timestamp`` (ms) and ``sign``; refused with
403 when the signature is wrong or missing or the timestamp is more than an hour off. Event
subscriptions are encrypted (same AES scheme as WeCom); they are decrypted with ``dingtalk-sdk``'s
crypto. We use them for one thing: a member who leaves the organisation (``user_leave_org``) loses
access at once. The answer to an event is the encrypted word "success".
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from dingtalk.core.exceptions import InvalidSignatureException
from dingtalk.crypto import DingTalkCrypto
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.dingtalk import robot
from bot.channels.dingtalk.signature import check_callback
from bot.channels.http import Refusal, read_body
from bot.runtime import Runtime
from crm_core.services import inbound

log = logging.getLogger("crmbot.dingtalk")


def _json(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, f"{what}不是合法 JSON") from None
    if not isinstance(value, dict):
        raise Refusal(400, f"{what}不是 JSON 对象")
    return value


def event_crypto(runtime: Runtime) -> DingTalkCrypto:
    s = runtime.settings
    if not (s.dingtalk_event_token and s.dingtalk_event_aes_key and s.dingtalk_app_key):
        raise Refusal(403, "未配置 DINGTALK_EVENT_TOKEN / DINGTALK_EVENT_AES_KEY / DINGTALK_APP_KEY，拒绝事件推送")
    crypto = runtime.extras.get("dingtalk_event_crypto")
    if crypto is None:
        crypto = runtime.extras["dingtalk_event_crypto"] = DingTalkCrypto(
            s.dingtalk_event_token, s.dingtalk_event_aes_key, s.dingtalk_app_key)
    return crypto


def _apply_event(runtime: Runtime, event: dict[str, Any]) -> list[str]:
    kind = str(event.get("EventType", ""))
    users = event.get("UserId") or event.get("UserIds") or []
    if isinstance(users, str):
        users = [users]
    key = f"{kind}:{event.get('TimeStamp', '')}:{','.join(sorted(map(str, users)))}"
    done: list[str] = []
    with runtime.db.unit_of_work() as session:
        if not inbound.claim_message(session, "dingtalk_event", key):
            return done
        if kind == "user_leave_org":
            for uid in users:
                result = inbound.apply_directory_change(session, "dingtalk", "delete_user", str(uid))
                if result:
                    done.append(result)
    return done


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter()
    settings = runtime.settings

    @api.post("/dingtalk/callback")
    async def dingtalk_robot(request: Request) -> Response:
        body = await read_body(request, settings.callback_max_body_bytes)
        reason = check_callback(request.headers.get("timestamp"), request.headers.get("sign"),
                                settings.dingtalk_app_secret, window_seconds=settings.dingtalk_sign_window_seconds)
        if reason:
            raise Refusal(403, reason)
        data = _json(body, "请求体")
        try:
            await robot.accept(runtime, data, budget=settings.wecom_reply_budget_seconds)
        except robot.BadMessage as exc:
            raise Refusal(400, str(exc)) from None
        return JSONResponse({})

    @api.post("/dingtalk/events")
    async def dingtalk_events(request: Request) -> Response:
        crypto = event_crypto(runtime)
        envelope = _json(await read_body(request, settings.callback_max_body_bytes), "请求体")
        if not isinstance(envelope.get("encrypt"), str):
            raise Refusal(400, "请求体中没有 encrypt")
        q = request.query_params
        signature, timestamp, nonce = q.get("signature") or q.get("msg_signature"), q.get("timestamp"), q.get("nonce")
        if not (signature and timestamp and nonce):
            raise Refusal(403, "缺少 signature / timestamp / nonce")
        try:
            plain = crypto.decrypt_message(envelope, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise Refusal(403, "事件签名不匹配") from None
        except Exception as exc:
            raise Refusal(403, f"事件解密失败：{type(exc).__name__}") from None
        event = _json(plain, "解密后的事件")
        done = await asyncio.to_thread(_apply_event, runtime, event)
        for line in done:
            log.info("钉钉通讯录变更：%s", line)
        return JSONResponse(crypto.encrypt_message("success"))

    return api
