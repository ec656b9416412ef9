"""Sales pushes: opportunities waiting for a follow-up, payments due soon or overdue."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from crm_core.services.reminders import FollowupItem, PaymentItem
from handlers.format import day, money
from handlers.pushes.common import short_day
from handlers.reply import Heading, ListBlock, Paragraph, Reply


def stale_followups(items: Sequence[FollowupItem], days: int, tz: ZoneInfo) -> Reply:
    reply = Reply(intent="push.stale_followups")
    reply.add(Heading(text=f"商机跟进提醒｜{len(items)} 个"))
    reply.add(Paragraph(text=f"以下商机已超过 {days} 天没有跟进："))
    reply.add(ListBlock(ordered=True, items=[
        f"{i.name}（{i.customer}，{i.stage}" + (f"，{money(i.amount)}" if i.amount else "") + "）"
        f" — 已 {i.days_silent} 天未跟进（上次 {day(i.last_touch, tz)}）" for i in items]))
    first = items[0].customer if items else "客户名"
    reply.add(Paragraph(text=f"跟进后发送「/跟进 {first} 沟通内容」记录，商机推进发送「/推进 …」。", tone="comment"))
    return reply


def _payment_line(p: PaymentItem, with_owner: bool) -> str:
    when = f"已逾期 {p.overdue_days} 天（应收 {short_day(p.due)}）" if p.overdue_days else f"{short_day(p.due)} 到期"
    owner = f"，负责人 {p.owner.name}" if with_owner and p.owner else ""
    return f"{p.customer}｜{p.contract} 第{p.seq}期｜{money(p.outstanding)} — {when}{owner}"


def payments(items: Sequence[PaymentItem]) -> Reply:
    """To the owner (upcoming and overdue), or to a manager (overdue ones of their team)."""
    escalated = [p for p in items if p.escalated]
    own = [p for p in items if not p.escalated]
    late = [p for p in own if p.overdue_days]
    soon = [p for p in own if not p.overdue_days]
    reply = Reply(intent="push.payments")
    reply.add(Heading(text=f"回款提醒｜{len(items)} 笔"))
    if late:
        reply.add(ListBlock(title="已逾期：", ordered=True, items=[_payment_line(p, False) for p in late]))
    if soon:
        reply.add(ListBlock(title="即将到期：", ordered=True, items=[_payment_line(p, False) for p in soon]))
    if escalated:
        total = sum((p.outstanding for p in escalated), start=escalated[0].outstanding * 0)
        reply.add(ListBlock(title=f"团队逾期回款（合计 {money(total)}）：", ordered=True,
                            items=[_payment_line(p, True) for p in escalated]))
    if late or escalated:
        reply.add(Paragraph(text="逾期回款请尽快与客户确认付款时间，必要时升级处理。", tone="warning"))
    reply.add(Paragraph(text="查看全部发送「/回款」，某个客户发送「/回款 客户名」。", tone="comment"))
    return reply
