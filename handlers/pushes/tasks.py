"""Task pushes: overdue tasks into the project group (with @ and a reference from history), and
overdue / soon-due tasks to the assignee."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from crm_core.services.reminders import Group, Reference, TaskItem
from handlers.pushes.common import Mentions, days_text, short_day
from handlers.reply import Heading, ListBlock, Paragraph, Reply


def reference_text(ref: Reference | None) -> str:
    if ref is None:
        return "暂无历史相似任务可参考"
    return f"历史相似任务平均耗时 {days_text(ref.days)}（近 {ref.samples} 个{ref.basis}）"


def _tag(item: TaskItem) -> str:
    return f"「{item.ref}」" if item.ref else ""


def overdue_group(group: Group, items: Sequence[TaskItem]) -> tuple[Reply, list[str]]:
    """One message for the group: each overdue task @-mentions its assignee; the account managers are
    @-mentioned once at the end. Returns the reply and the mobiles to @ (people without a messenger id)."""
    mentions = Mentions(group.channel)
    projects = list(dict.fromkeys(i.project for i in items if i.project))
    lines = [f"{i.title}{_tag(i)} — {mentions.at(i.assignee)}，截止 {short_day(i.due)}，已逾期 {i.days_overdue} 天；"
             f"{reference_text(i.reference)}" for i in items]
    managers = list(dict.fromkeys(i.account_manager for i in items if i.account_manager))
    reply = Reply(intent="push.overdue_tasks")
    reply.add(Heading(text="逾期任务提醒" + (f"｜{'、'.join(projects)}" if projects else "")))
    reply.add(Paragraph(text=f"以下 {len(items)} 项任务已逾期，请尽快处理或更新进度：", tone="warning"))
    reply.add(ListBlock(ordered=True, items=lines))
    if managers:
        reply.add(Paragraph(text="客户经理 " + " ".join(mentions.at(m) for m in managers) + " 请关注进度。"))
    example = next((i.ref for i in items if i.ref), None)
    if example:
        reply.add(Paragraph(text=f"完成后在群里发送「/完成 {example}」即可关闭任务。", tone="comment"))
    reply.mentions = mentions.ids
    return reply, mentions.mobiles


def overdue_personal(items: Sequence[TaskItem]) -> Reply:
    reply = Reply(intent="push.overdue_tasks")
    reply.add(Heading(text=f"逾期任务提醒｜{len(items)} 项"))
    reply.add(ListBlock(ordered=True, items=[
        f"{i.title}{_tag(i)}" + (f"（{i.project}）" if i.project else "") + f" — 截止 {short_day(i.due)}，"
        f"已逾期 {i.days_overdue} 天；{reference_text(i.reference)}" for i in items]))
    reply.add(Paragraph(text="处理完成后发送「/完成 任务编号」，查看全部发送「/任务 逾期」。", tone="comment"))
    return reply


def due_soon(items: Sequence[TaskItem], due_time: time, hours: int) -> Reply:
    reply = Reply(intent="push.due_soon")
    reply.add(Heading(text=f"任务即将到期｜{len(items)} 项"))
    reply.add(Paragraph(text=f"以下任务将在 {hours} 小时内到期："))
    reply.add(ListBlock(ordered=True, items=[
        f"{i.title}{_tag(i)}" + (f"（{i.project}）" if i.project else "") + f" — 截止 {short_day(i.due)} {due_time:%H:%M}"
        for i in items]))
    reply.add(Paragraph(text="完成后发送「/完成 任务编号」，查看我的任务发送「/任务 我的」。", tone="comment"))
    return reply
