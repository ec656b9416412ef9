"""``/wecom/robot/callback``: the WeCom smart robot (智能机器人), @-mentioned in internal groups or
talked to 1:1.

Same crypto as the app with receive id "" and its own Token/EncodingAESKey, but JSON: the request
body is ``{"encrypt": …}`` and the answer ``{"encrypt", "msgsignature", "timestamp", "nonce"}``.
A text message is answered passively as a finished stream message (markdown) when the reply is
ready within the budget; otherwise the answer is empty and the reply is posted once to the
message's ``response_url`` through the outbox.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.http import Refusal, read_body
from bot.channels.wecom.app_callback import verify_url
from bot.channels.wecom.crypto import CallbackCrypto, CryptoError, encrypted_json
from bot.delivery.addresses import WeComRobotChat
from bot.runtime import Runtime
from handlers.messages import IncomingMessage
from handlers.reply import Reply

log = logging.getLogger("crmbot.wecom.robot")
LEADING_MENTION = re.compile(r"^\s*@\S+\s*")
WELCOME = "你好！我是客户助手。在群里 @我 并输入问题或命令（例如 /客户 星屿科技），发送 /帮助 查看全部命令。"
ONLY_TEXT = "暂时只能处理文字消息，请 @我 并输入文字。"


def robot_crypto(runtime: Runtime) -> CallbackCrypto:
    s = runtime.settings
    if not (s.wecom_robot_token and s.wecom_robot_aes_key):
        raise Refusal(403, "未配置 WECOM_ROBOT_TOKEN / WECOM_ROBOT_AES_KEY，拒绝回调")
    crypto = runtime.extras.get("wecom_robot_crypto")
    if crypto is None:
        crypto = runtime.extras["wecom_robot_crypto"] = CallbackCrypto(s.wecom_robot_token, s.wecom_robot_aes_key, "")
    return crypto


def _json(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, f"{what}不是合法 JSON") from None
    if not isinstance(value, dict):
        raise Refusal(400, f"{what}不是 JSON 对象")
    return value


def message_text(msg: dict[str, Any]) -> str | None:
    """The text of a text or mixed (图文混排) message, without the leading @robot; None otherwise."""
    if msg.get("msgtype") == "text":
        content = str((msg.get("text") or {}).get("content", ""))
    elif msg.get("msgtype") == "mixed":
        items = (msg.get("mixed") or {}).get("msg_item") or []
        content = " ".join(str((i.get("text") or {}).get("content", "")) for i in items if i.get("msgtype") == "text")
    else:
        return None
    return LEADING_MENTION.sub("", content, count=1).strip() if msg.get("chattype") == "group" else content.strip()


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter()
    settings = runtime.settings

    def encrypted(plain: dict[str, Any]) -> JSONResponse:
        return JSONResponse(encrypted_json(robot_crypto(runtime), json.dumps(plain, ensure_ascii=False)))

    @api.get("/wecom/robot/callback")
    async def robot_verify(request: Request) -> Response:
        return verify_url(robot_crypto(runtime), request)

    @api.post("/wecom/robot/callback")
    async def robot_message(request: Request) -> Response:
        crypto = robot_crypto(runtime)
        envelope = _json(await read_body(request, settings.callback_max_body_bytes), "请求体")
        encrypt = envelope.get("encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise Refusal(400, "请求体中没有 encrypt")
        q = request.query_params
        if not crypto.verify(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), encrypt):
            raise Refusal(403, "消息签名不匹配")
        try:
            msg = _json(crypto.decrypt(encrypt), "解密后的消息")
        except CryptoError as exc:
            raise Refusal(403, str(exc)) from None
        kind = msg.get("msgtype")
        if kind == "event":
            event = (msg.get("event") or {}).get("eventtype")
            if event == "enter_chat":
                return encrypted({"msgtype": "text", "text": {"content": WELCOME}})
            return PlainTextResponse("")
        if kind == "stream":  # refresh of a stream we never leave unfinished
            return PlainTextResponse("")
        msgid, user = msg.get("msgid"), (msg.get("from") or {}).get("userid")
        if not msgid or not user:
            raise Refusal(400, "消息缺少 msgid 或 from.userid")
        group = msg.get("chattype") == "group"
        chat = str(msg.get("chatid") or "") if group else f"dm:{user}"
        response_url = str(msg.get("response_url") or "")
        if response_url and not response_url.startswith(settings.wecom_api_base.rstrip("/") + "/"):
            log.warning("response_url outside %s ignored", settings.wecom_api_base)
            response_url = ""
        text = message_text(msg)
        message = IncomingMessage(channel="wecom", text=text or "", sender_id=str(user), chat_id=chat,
                                  is_group=group, message_id=str(msgid))
        outcome = await runtime.runner.run(
            message, dedupe_channel="wecom_robot", key=str(msgid), address=WeComRobotChat(chat, response_url),
            passive=lambda messages: 1, budget=settings.wecom_reply_budget_seconds,
            answer=None if text else Reply.text(ONLY_TEXT))
        if outcome.kind != "passive":
            return PlainTextResponse("")
        return encrypted({"msgtype": "stream",
                          "stream": {"id": uuid.uuid4().hex, "finish": True, "content": outcome.rows[0]["text"]}})

    return api

