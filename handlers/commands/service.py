"""/工单"""

from __future__ import annotations

import re

from handlers.actions.resolve import customer_ref
from handlers.commands.base import apply, usage
from handlers.registry import Context, registry
from handlers.reply import Reply

_NEW = re.compile(r"^(新建|新|建|开|提|create|new)\s+")


@registry.command("工单", intent="ticket.status", summary="新建工单、查进度、看我的工单", aliases=("ticket", "gd"),
                  usage="/工单 新建 <客户> <问题> | /工单 <编号> | /工单",
                  examples=("/工单 新建 星屿科技 报告数据对不上", "/工单 1003", "/工单"), group="服务")
def ticket(ctx: Context, args: str) -> Reply:
    text = args.strip()
    m = _NEW.match(text)
    if m:
        rest = text[m.end():].strip()
        if ctx.actor.kind == "external":
            return apply(ctx, "ticket.create", {"summary": rest}) if rest else \
                usage("ticket.create", "请描述一下遇到的问题，例如：/工单 新建 报告数据对不上")
        parts = rest.split(None, 1)
        if len(parts) < 2:
            return usage("ticket.create", "用法：/工单 新建 <客户> <问题描述>")
        return apply(ctx, "ticket.create", {"customer": customer_ref(ctx, parts[0]), "summary": parts[1].strip()})
    number = re.sub(r"^(#|TK-?)", "", text, flags=re.IGNORECASE)
    if number and not number.isdigit():
        return usage("ticket.status", "用法：/工单 <编号>，新建请用 /工单 新建 <客户> <问题>")
    return apply(ctx, "ticket.status", {"ticket": number} if number else {})
