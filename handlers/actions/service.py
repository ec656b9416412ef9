"""Service tickets: open one, look one up, list mine."""

from __future__ import annotations

import re

from pydantic import Field

from crm_core.errors import InvalidInput
from crm_core.permissions import Cap
from crm_core.services import customers as customer_svc
from crm_core.services import tickets as svc
from handlers.actions.base import Args, action
from handlers.format import day, page_note
from handlers.registry import Context
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply

_URGENT = re.compile(r"紧急|加急|尽快|马上|立刻|十万火急|urgent", re.IGNORECASE)


class TicketCreateArgs(Args):
    customer: str | None = Field(default=None, description="客户 ref（客户本人提问时自动为其所属客户）")
    summary: str = Field(min_length=2, max_length=300, description="问题描述")


def _priority(text: str) -> str:
    return "高" if _URGENT.search(text) else "中"


def _ticket_preview(ctx: Context, args: TicketCreateArgs) -> list[str]:
    if ctx.actor.kind == "external":
        name = "你的公司"
    elif args.customer:
        name = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer).name
    else:
        raise InvalidInput("请说明是哪个客户的问题，例如：/工单 新建 星屿科技 报告数据对不上")
    return [f"为「{name}」新建工单：{args.summary}", f"优先级：{_priority(args.summary)}"]


@action("ticket.create", title="新建工单", summary="为客户新建服务工单（问题描述）", args=TicketCreateArgs,
        cap=Cap.ticket_create, write=True, external=True, preview=_ticket_preview)
def ticket_create(ctx: Context, args: TicketCreateArgs) -> Reply:
    customer = None
    if ctx.actor.kind != "external":
        if not args.customer:
            raise InvalidInput("请说明是哪个客户的问题，例如：/工单 新建 星屿科技 报告数据对不上")
        customer = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    ticket = svc.create_ticket(ctx.session, ctx.actor, customer, args.summary, priority=_priority(args.summary),
                               now=ctx.now)
    hours = svc.SLA_HOURS.get(ticket.priority, 24)
    return Reply.text(f"已新建工单 {ticket.number}（{ticket.priority}优先级）：{ticket.title}。服务时限 {hours} 小时内处理。",
                      intent="ticket.create",
                      actions=[{"action": "ticket.create", "status": "done", "target": ticket.ref,
                                "number": ticket.number}])


class TicketStatusArgs(Args):
    ticket: str | None = Field(default=None, description="工单号；不填则列出我的工单")


@action("ticket.status", title="工单进度", summary="查看一张工单的状态，或列出我的工单", args=TicketStatusArgs,
        cap=Cap.ticket_read, external=True)
def ticket_status(ctx: Context, args: TicketStatusArgs) -> Reply:
    tz = ctx.settings.tz
    if args.ticket:
        digits = re.sub(r"\D", "", args.ticket)
        if not digits:
            raise InvalidInput(f"「{args.ticket}」不是有效的工单号。")
        t = svc.get_ticket(ctx.session, ctx.actor, int(digits))
        reply = Reply(intent="ticket.status")
        reply.add(Heading(text=f"工单 {t.number}｜{t.title}"))
        pairs = [("状态", t.status), ("优先级", t.priority), ("客户", t.customer.name),
                 ("处理人", t.assignee.name if t.assignee else "待分配"), ("创建", day(t.created_at, tz))]
        if t.sla_due_at and t.status in ("待处理", "处理中"):
            pairs.append(("时限", t.sla_due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")))
        reply.add(Fields(pairs=pairs))
        notes = [n for n in t.notes if ctx.actor.kind == "staff" or not n.internal]
        if notes:
            reply.add(ListBlock(title="最近进展：", items=[f"{day(n.created_at, tz)} {n.text}" for n in notes[-3:]]))
        return reply
    size = ctx.settings.page_size
    page = svc.list_tickets_page(ctx.session, ctx.actor, mine=True, offset=(args.page - 1) * size, limit=size)
    reply = Reply(intent="ticket.status")
    if not page.total:
        return reply.add(Paragraph(text="你没有相关的工单。"))
    reply.add(Heading(text=f"我的工单（{page.total}）"))
    reply.add(ListBlock(ordered=True, items=[f"{t.number}｜{t.title}｜{t.status}｜{day(t.created_at, tz)}"
                                             for t in page.items]))
    note = page_note(page.offset, len(page.items), page.total)
    if note:
        reply.add(Paragraph(text=note, tone="comment"))
    return reply
