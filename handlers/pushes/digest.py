"""The morning digest: one message per person with what is on their plate today."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from crm_core.services.reminders import Digest
from handlers.format import day, money
from handlers.pushes.common import clock, short_day
from handlers.reply import Heading, ListBlock, Paragraph, Reply


def _more(shown: int, total: int) -> list[str]:
    return [f"……另有 {total - shown} 项"] if total > shown else []


def digest(d: Digest, today: date, tz: ZoneInfo) -> Reply:
    reply = Reply(intent="push.digest")
    reply.add(Heading(text=f"每日提醒｜{short_day(today)}"))
    reply.add(Paragraph(text=f"{d.person.name}，早上好！今天需要关注的事项："))
    if d.due_today.count:
        reply.add(ListBlock(title=f"今天到期的任务（{d.due_today.count}）：", ordered=True, items=[
            f"{t.title}" + (f"「{t.ref}」" if t.ref else "") + (f"（{t.project}）" if t.project else "")
            for t in d.due_today.items] + _more(len(d.due_today.items), d.due_today.count)))
    if d.overdue_tasks.count:
        reply.add(ListBlock(title=f"已逾期的任务（{d.overdue_tasks.count}）：", ordered=True, items=[
            f"{t.title}" + (f"「{t.ref}」" if t.ref else "") + f" — 已逾期 {t.days_overdue} 天"
            for t in d.overdue_tasks.items] + _more(len(d.overdue_tasks.items), d.overdue_tasks.count)))
    if d.overdue_payments.count:
        reply.add(ListBlock(title=f"逾期回款（{d.overdue_payments.count}）：", ordered=True, items=[
            f"{p.customer}｜{p.contract} 第{p.seq}期｜{money(p.outstanding)} — 已逾期 {p.overdue_days} 天"
            for p in d.overdue_payments.items] + _more(len(d.overdue_payments.items), d.overdue_payments.count)))
    if d.tickets.count:
        reply.add(ListBlock(title=f"超时工单（{d.tickets.count}）：", ordered=True, items=[
            f"#{t.number} {t.title}（{t.customer}）— 时限 {clock(t.sla_due_at, tz)}"
            for t in d.tickets.items] + _more(len(d.tickets.items), d.tickets.count)))
    if d.followups.count:
        reply.add(ListBlock(title=f"待跟进的商机（{d.followups.count}）：", ordered=True, items=[
            f"{o.name}（{o.customer}）— 上次跟进 {day(o.last_touch, tz)}，已 {o.days_silent} 天"
            for o in d.followups.items] + _more(len(d.followups.items), d.followups.count)))
    if d.held_yesterday:
        reply.add(Paragraph(text=f"昨天另有 {d.held_yesterday} 条提醒因每日上限没有逐条推送，仍未处理的已包含在上面。",
                            tone="comment"))
    reply.add(Paragraph(text="发送「/任务 我的」「/回款」「/商机 我的」查看详情。", tone="comment"))
    return reply
