"""``/wecom/callback``: the WeCom self-built app (企业微信自建应用) callback.

GET verifies the URL (answer the decrypted ``echostr``). POST carries an encrypted XML message or
event. Text is handled once per MsgId and answered passively (encrypted text) when the reply is
ready within ``WECOM_REPLY_BUDGET_SECONDS``; otherwise the answer is empty and the reply goes out
through the app message API via the outbox. Events are deduplicated by FromUserName+CreateTime:
``subscribe`` gets the help text, ``enter_agent`` a greeting at most once a day, ``change_contact``
updates staff bindings (a departed member loses access), ``kf_msg_or_event`` (微信客服) starts a
``kf/sync_msg`` pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.http import Refusal, read_body
from bot.channels.wecom.crypto import (
    BadXml,
    CallbackCrypto,
    CryptoError,
    encrypted_xml,
    parse_xml,
    text_reply_xml,
)
from bot.channels.wecom.kf import KfSync
from bot.delivery.addresses import WeComAppUser
from bot.inbound import Outcome
from bot.runtime import Runtime
from crm_core.services import inbound
from crm_core.services.outbox import NewMessage
from handlers.messages import IncomingMessage
from handlers.reply import Reply

log = logging.getLogger("crmbot.wecom")
ONLY_TEXT = "暂时只能处理文字消息，请直接输入问题，或发送 /帮助 查看可用命令。"
GREETING = "你好！我是客户助手。直接用中文提问（例如「星屿科技最近怎么样」），或发送 /帮助 查看全部命令。"


def app_crypto(runtime: Runtime) -> CallbackCrypto:
    s = runtime.settings
    if not (s.wecom_token and s.wecom_aes_key and s.wecom_corp_id):
        raise Refusal(403, "未配置 WECOM_TOKEN / WECOM_AES_KEY / WECOM_CORP_ID，拒绝回调")
    crypto = runtime.extras.get("wecom_app_crypto")
    if crypto is None:
        crypto = runtime.extras["wecom_app_crypto"] = CallbackCrypto(s.wecom_token, s.wecom_aes_key, s.wecom_corp_id)
    return crypto


def verify_url(crypto: CallbackCrypto, request: Request) -> PlainTextResponse:
    q = request.query_params
    echostr = q.get("echostr")
    if not echostr:
        raise Refusal(400, "缺少 echostr")
    if not crypto.verify(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), echostr):
        raise Refusal(403, "URL 验证签名不匹配")
    try:
        return PlainTextResponse(crypto.decrypt(echostr))
    except CryptoError as exc:
        raise Refusal(403, f"echostr {exc}") from None


async def decrypt_xml_request(crypto: CallbackCrypto, request: Request, limit: int) -> dict[str, str]:
    """Body → outer XML → signature → decrypt → inner XML, refusing with 413/400/403 on the way."""
    body = await read_body(request, limit)
    try:
        outer = parse_xml(body)
    except BadXml as exc:
        raise Refusal(400, str(exc)) from None
    encrypt = outer.get("Encrypt")
    if not encrypt:
        raise Refusal(400, "XML 中没有 Encrypt")
    q = request.query_params
    if not crypto.verify(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), encrypt):
        raise Refusal(403, "消息签名不匹配")
    try:
        plain = crypto.decrypt(encrypt)
    except CryptoError as exc:
        raise Refusal(403, str(exc)) from None
    try:
        return parse_xml(plain)
    except BadXml as exc:
        raise Refusal(400, f"解密后的 {exc}") from None


def _sent_at(create_time: str, runtime: Runtime) -> datetime | None:
    if not create_time.isdigit():
        return None
    return datetime.fromtimestamp(int(create_time), UTC).astimezone(runtime.settings.tz)


def _passive_rows(messages: Sequence[NewMessage]) -> int:
    """The callback's answer can carry the first message (one passive text answer)."""
    return 1 if "passive_text" in messages[0].payload else 0


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter()
    settings = runtime.settings
    kf = KfSync(runtime)

    def answer(outcome: Outcome, user: str) -> Response:
        if outcome.kind != "passive":
            return PlainTextResponse("")
        text = str(outcome.rows[0]["payload"]["passive_text"])
        return Response(encrypted_xml(app_crypto(runtime), text_reply_xml(user, settings.wecom_corp_id, text)),
                        media_type="application/xml")

    async def converse(user: str, text: str, key: str, dedupe: str, sent_at: datetime | None,
                       answer_with: Reply | None = None) -> Response:
        message = IncomingMessage(channel="wecom", text=text, sender_id=user, chat_id=f"dm:{user}",
                                  message_id=key, sent_at=sent_at)
        outcome = await runtime.runner.run(message, dedupe_channel=dedupe, key=key, address=WeComAppUser(user),
                                           passive=_passive_rows, budget=settings.wecom_reply_budget_seconds,
                                           answer=answer_with)
        return answer(outcome, user)

    @api.get("/wecom/callback")
    async def wecom_verify(request: Request) -> Response:
        return verify_url(app_crypto(runtime), request)

    @api.post("/wecom/callback")
    async def wecom_message(request: Request) -> Response:
        msg = await decrypt_xml_request(app_crypto(runtime), request, settings.callback_max_body_bytes)
        user = msg.get("FromUserName", "")
        kind = msg.get("MsgType", "")
        create_time = msg.get("CreateTime", "")
        if not kind:
            raise Refusal(400, "消息缺少 MsgType")
        sent_at = _sent_at(create_time, runtime)
        if kind != "event":
            msg_id = msg.get("MsgId")
            if not user or not msg_id:
                raise Refusal(400, "消息缺少 FromUserName 或 MsgId")
            if kind == "text":
                return await converse(user, msg.get("Content", ""), msg_id, "wecom", sent_at)
            return await converse(user, "", msg_id, "wecom", sent_at, Reply.text(ONLY_TEXT))
        event = msg.get("Event", "")
        if event == "kf_msg_or_event":  # 微信客服: no sender; the Token is unique per event
            if await asyncio.to_thread(_claim, runtime, "wecom_event", f"kf:{msg.get('Token') or create_time}"):
                kf.schedule(msg.get("Token", ""), msg.get("OpenKfId", ""))
            return PlainTextResponse("")
        if not user:
            raise Refusal(400, "事件缺少 FromUserName")
        key = f"{user}:{create_time}"
        if event == "subscribe":
            return await converse(user, "/帮助", key, "wecom_event", sent_at)
        if event == "enter_agent":
            day = (sent_at or datetime.now(settings.tz)).date().isoformat()
            if not await asyncio.to_thread(_claim, runtime, "wecom_event", key):
                return PlainTextResponse("")
            return await converse(user, "", f"{user}:{day}", "wecom_greeting", sent_at, Reply.text(GREETING))
        if event == "change_contact":  # sent by "sys"; several changes can share one second
            key += f":{msg.get('ChangeType', '')}:{msg.get('UserID') or msg.get('Id') or ''}"
        if not await asyncio.to_thread(_claim, runtime, "wecom_event", f"{key}:{event}"):
            return PlainTextResponse("")
        if event == "change_contact":
            done = await asyncio.to_thread(_directory_change, runtime, msg)
            if done:
                log.info("通讯录变更：%s", done)
        return PlainTextResponse("")

    return api


def _claim(runtime: Runtime, channel: str, key: str) -> bool:
    return inbound.claim(runtime.db, channel, key)


def _directory_change(runtime: Runtime, msg: dict[str, str]) -> str | None:
    change = msg.get("ChangeType", "")
    user_id = msg.get("UserID", "")
    if change not in ("delete_user", "update_user") or not user_id:
        return None
    with runtime.db.unit_of_work() as session:
        return inbound.apply_directory_change(session, "wecom", change, user_id, msg.get("NewUserID") or None)
