"""Push messages as channel-neutral ``Reply``s: one function per job, given the new items for one
recipient (a project group or a person). ``render`` picks the right one; ``bot`` addresses and queues
the result. Group messages carry ``Reply.mentions`` in the group's messenger ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config import Settings
from crm_core.services.reminders import Group, Notice, Person, Recipient
from handlers.pushes import churn, digest, sales, service, tasks
from handlers.pushes.common import held_line, more_line
from handlers.reply import Reply

SEE_ALL = {
    "overdue_tasks": "「/任务 逾期」", "due_soon": "「/任务 我的」", "stale_followups": "「/商机 我的」",
    "payments": "「/回款」", "ticket_sla": "「/工单 我的」", "churn_risk": "「/风险 我的」",
}


@dataclass
class Rendered:
    reply: Reply
    mention_mobiles: list[str] = field(default_factory=list)


def render(job: str, recipient: Recipient, notices: Sequence[Notice[Any]], *, now: datetime, settings: Settings,
           more: int = 0) -> Rendered:
    """The message for ``notices`` (all for ``recipient``); ``more``: further new items not listed one by one."""
    items = [n.item for n in notices]
    tz = settings.tz
    mobiles: list[str] = []
    if job == "overdue_tasks" and isinstance(recipient, Group):
        reply, mobiles = tasks.overdue_group(recipient, items)
    elif job == "overdue_tasks":
        reply = tasks.overdue_personal(items)
    elif job == "due_soon":
        reply = tasks.due_soon(items, settings.task_due_time_of_day, settings.task_due_soon_hours)
    elif job == "stale_followups":
        reply = sales.stale_followups(items, settings.followup_stale_days, tz)
    elif job == "payments":
        reply = sales.payments(items)
    elif job == "ticket_sla":
        reply = service.tickets_past_sla(items, tz)
    elif job == "churn_risk" and isinstance(recipient, Person):
        reply = churn.churn_alerts(recipient, items, settings.churn_alert_threshold)
    elif job == "digest":
        reply = digest.digest(items[0], now.date(), tz)
    else:
        raise ValueError(f"no push renderer for job {job!r}")
    if more:
        reply.add(more_line(more, SEE_ALL.get(job, "「/帮助」")))
    return Rendered(reply, mobiles)


def held_only(job: str, held: int, settings: Settings) -> Rendered:
    """The one line a day that says the daily limit is reached and the rest waits for the digest."""
    reply = Reply(intent=f"push.{job}")
    reply.add(held_line(held, settings.max_alerts_per_person_per_day, SEE_ALL.get(job, "「/帮助」")))
    return Rendered(reply)
