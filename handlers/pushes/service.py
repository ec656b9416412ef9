"""Service pushes: tickets past their SLA."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from crm_core.services.reminders import TicketItem
from handlers.pushes.common import clock
from handlers.reply import Heading, ListBlock, Paragraph, Reply


def _over(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} 分钟"
    return f"{round(hours)} 小时" if hours < 48 else f"{round(hours / 24)} 天"


def tickets_past_sla(items: Sequence[TicketItem], tz: ZoneInfo) -> Reply:
    reply = Reply(intent="push.ticket_sla")
    reply.add(Heading(text=f"工单超时提醒｜{len(items)} 张"))
    reply.add(Paragraph(text="以下工单已超出服务时限，客户还在等待答复：", tone="warning"))
    reply.add(ListBlock(ordered=True, items=[
        f"#{t.number} {t.title}（{t.customer}，{t.priority}，{t.status}）— 时限 {clock(t.sla_due_at, tz)}，"
        f"已超时 {_over(t.hours_over)}" for t in items]))
    reply.add(Paragraph(text="查看详情发送「/工单 编号」。", tone="comment"))
    return reply
