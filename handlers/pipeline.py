"""Handle one message end to end: resolve the sender, route, call services, return a Reply.

Commands (``/客户 …``) are parsed by their typed handlers and applied directly; anything else is
plain language (``handlers.conversation``). Both end in ``handlers.dispatch.perform`` with the
sender's Actor, so permissions cannot be bypassed by phrasing. The conversation state (pending
confirmation, numbered choice, context) is saved in the same transaction, after the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings, get_settings
from crm_core.db import Database
from crm_core.errors import CrmError, PermissionDenied
from crm_core.permissions import require
from crm_core.services.identity import resolve_actor
from handlers import actions, commands  # noqa: F401  (registers actions and commands)
from handlers.actions.base import NeedChoice, get_action
from handlers.conversation import converse
from handlers.dialogue import Conversation, Pending
from handlers.dispatch import choice_reply
from handlers.messages import IncomingMessage
from handlers.registry import Context, registry, split_command
from handlers.reply import Reply

log = logging.getLogger(__name__)

GUEST_REPLY = (
    "你好！我是客户助手。你的账号还没有和公司员工档案绑定，暂时无法查询客户资料。"
    "请联系管理员执行 `crmbot staff bind <员工编号> --wecom <你的账号>` 完成绑定后再试。"
)
EXTERNAL_GUEST_REPLY = (
    "您好！我是客户助手。您的微信还没有登记为我们客户的联系人，暂时无法查询项目进度和工单。"
    "请联系为您服务的客户经理，把您的微信绑定到贵司的联系人资料上，之后就可以直接在这里咨询了。"
)


def guest_reply(message: IncomingMessage) -> str:
    """How an unbound sender gets access: a client asks their account manager; staff ask an admin to
    bind their id (given, so the admin can copy it)."""
    if message.external:
        return EXTERNAL_GUEST_REPLY
    flag = "--dingtalk" if message.channel == "dingtalk" else "--wecom"
    text = GUEST_REPLY.replace("--wecom <你的账号>", f"{flag} <你的账号>")
    return text + (f"你的账号：{message.sender_id}" if message.sender_id else "")


def run_command(ctx: Context, text: str) -> Reply:
    parsed = split_command(text)
    if parsed is None:
        return converse(ctx, text)
    name, args = parsed
    cmd = registry.get(name)
    if cmd is None:
        return Reply.text(f"没有「/{name}」这个命令。发送 /帮助 查看全部命令。")
    ctx.source = "command"
    try:
        act = get_action(cmd.intent)
        if act is not None and not act.allowed(ctx.actor):  # before reading arguments: reveal nothing
            if act.cap is not None:
                require(ctx.actor, act.cap)
            raise PermissionDenied("抱歉，这项操作仅限公司内部同事使用。你可以咨询服务问题、查询工单或项目进度。")
        return cmd.handler(ctx, args)
    except NeedChoice as exc:  # an argument named several records: ask, then re-run with the choice
        ctx.session.rollback()
        conv: Conversation = ctx.cache["conversation"]
        conv.ask(Pending(kind="choose", intent=cmd.intent, slot=exc.slot, options=exc.candidates, text=text,
                         source="command", extras={"choices": dict(ctx.cache.get("choices", {}))}, created=ctx.now))
        return choice_reply(cmd.intent, str(exc), exc.candidates)
    except CrmError as exc:
        ctx.session.rollback()
        return Reply.text(str(exc), tone="warning", intent=cmd.intent)


def handle(db: Database, message: IncomingMessage, settings: Settings | None = None,
           now: datetime | None = None, finish: Callable[[Session, Reply], None] | None = None) -> Reply:
    """``finish``: called with the handler's session and its reply before they commit (the inbound
    runner writes the reply's outbox rows there, in the same transaction)."""
    settings = settings or get_settings()
    now = (now or message.sent_at or datetime.now(settings.tz)).astimezone(settings.tz)
    with db.unit_of_work(snapshot=True) as session:
        reply = _handle(session, message, settings, now)
        if finish is not None:
            finish(session, reply)
        return reply


def _handle(session: Session, message: IncomingMessage, settings: Settings, now: datetime) -> Reply:
    actor = resolve_actor(session, message.channel, message.sender_id, message.external)
    parsed = split_command(message.text)
    if actor.kind == "guest":
        return Reply.text(guest_reply(message), intent="help" if parsed and parsed[0] in ("帮助", "help") else None)
    ctx = Context(session=session, actor=actor, message=message, now=now, settings=settings)
    conv = Conversation(session, message.channel, message.chat_id or f"dm:{message.sender_id}",
                        message.sender_id or "", now, settings)
    ctx.cache["conversation"] = conv
    try:
        reply = run_command(ctx, message.text) if parsed else converse(ctx, message.text)
    except CrmError as exc:
        session.rollback()
        reply = Reply.text(str(exc), tone="warning")
    conv.save()
    return reply
