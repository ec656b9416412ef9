"""Handle one message end to end: resolve the sender, route, call services, return a Reply."""

from __future__ import annotations

import logging
from datetime import datetime

from config import Settings, get_settings
from crm_core.db import Database
from crm_core.errors import Ambiguous, CrmError
from crm_core.services.identity import resolve_actor
from handlers import commands  # noqa: F401  (registers the commands)
from handlers.messages import IncomingMessage
from handlers.registry import Context, registry, split_command
from handlers.reply import ListBlock, Paragraph, Reply

log = logging.getLogger(__name__)

GUEST_REPLY = (
    "你好！我是客户助手。你的账号还没有和公司员工档案绑定，暂时无法查询客户资料。"
    "请联系管理员执行 `crmbot staff bind <员工编号> --wecom <你的账号>` 完成绑定后再试。"
)
NOT_UNDERSTOOD = "抱歉，我没听懂。可以发送 /帮助 查看我能做什么，例如：/客户 星屿科技。"


def handle(db: Database, message: IncomingMessage, settings: Settings | None = None,
           now: datetime | None = None) -> Reply:
    settings = settings or get_settings()
    now = (now or message.sent_at or datetime.now(settings.tz)).astimezone(settings.tz)
    with db.unit_of_work() as session:
        actor = resolve_actor(session, message.channel, message.sender_id, message.external)
        ctx = Context(session=session, actor=actor, message=message, now=now, settings=settings)
        parsed = split_command(message.text)
        if actor.kind == "guest":
            return Reply.text(GUEST_REPLY, intent="help" if parsed and parsed[0] in ("帮助", "help") else None)
        if parsed is None:
            return Reply.text(NOT_UNDERSTOOD)
        name, args = parsed
        cmd = registry.get(name)
        if cmd is None:
            return Reply.text(f"没有「/{name}」这个命令。发送 /帮助 查看全部命令。")
        try:
            return cmd.handler(ctx, args)
        except Ambiguous as exc:
            session.rollback()
            return Reply(intent=cmd.intent, blocks=[
                Paragraph(text=str(exc)),
                ListBlock(items=[f"{label}（{ref}）" for ref, label in exc.candidates], ordered=True),
            ])
        except CrmError as exc:
            session.rollback()
            return Reply.text(str(exc), tone="warning", intent=cmd.intent)
