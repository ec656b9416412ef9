"""The push jobs, end to end: ask ``crm_core`` what is due, keep what was not pushed yet (the ledger),
apply the etiquette (daily limit, quiet hours), render with ``handlers.pushes``, queue in the outbox.

One ``JobRunner.run_job`` call is one run of one job under its lease. Items stream from a read
session; every few hundred recipients the writer commits ledger rows and their outbox rows together,
so a crash loses nothing and repeats nothing: the next run finds exactly the items not yet told.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.delivery.addresses import ConsoleChat, DingTalkConversation, WeComAppUser
from bot.delivery.pushes import address_for
from config import Settings
from crm_core.actor import Actor
from crm_core.db import Database, refresh_statistics
from crm_core.models import ChatBinding, PushRecord, RiskScore, utcnow
from crm_core.risk.model import retrain_if_due
from crm_core.risk.scoring import score_all
from crm_core.services import etiquette, job_leases, notify, outbox, outbox_bulk, push_ledger, reminders
from crm_core.services.push_ledger import CAPPED, SENT, Claim
from crm_core.services.reminders import Group, Notice, Person, Recipient
from handlers.pushes import Rendered, held_only, render

log = logging.getLogger("crmbot.jobs")
T = TypeVar("T")
SYSTEM = Actor.system(channel="jobs", name="定时提醒")
JOB_TITLES = {
    "churn_model": "流失模型训练",
    "churn_risk": "流失风险评分与预警",
    "digest": "每日提醒",
    "overdue_tasks": "逾期任务",
    "due_soon": "即将到期任务",
    "stale_followups": "商机跟进",
    "payments": "回款提醒",
    "ticket_sla": "工单超时",
}
JOB_ORDER = tuple(JOB_TITLES)
PUSH_JOBS = tuple(j for j in JOB_ORDER if j != "churn_model")  # the model job trains; it pushes nothing
FLUSH_RECIPIENTS = 200
PERSON_ITEMS, GROUP_ITEMS = 10, 30  # items listed one by one in a message; the rest in one line
LEDGER_KEEP_DAYS = 120
LIMIT_NOTICE = "daily_limit"  # ledger job name of the one "limit reached" line per person and day


@dataclass
class JobResult:
    job: str
    status: str = "done"  # done | skipped | failed
    messages: int = 0  # outbox messages queued
    items: int = 0  # new items pushed (in those messages)
    already: int = 0  # items pushed before (same job, entity, period): not again
    held: int = 0  # items held back by a person's daily message limit (they go into the next digest)
    deferred: int = 0  # messages waiting for the end of quiet hours
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"job": self.job, "status": self.status, "messages": self.messages, "items": self.items,
                "already": self.already, "held": self.held, "deferred": self.deferred, "note": self.note, **self.extra}

    def summary(self) -> str:
        title = JOB_TITLES.get(self.job, self.job)
        if self.status != "done":
            return f"{title}：{'跳过' if self.status == 'skipped' else '失败'}（{self.note}）"
        if self.job not in PUSH_JOBS:
            return f"{title}：{self.note}"
        parts = [f"{self.messages} 条消息", f"{self.items} 项新提醒"]
        if self.already:
            parts.append(f"{self.already} 项此前已推送")
        if self.held:
            parts.append(f"{self.held} 项因每日上限改由明早日报汇总")
        if self.deferred:
            parts.append(f"{self.deferred} 条在免打扰时段后发送")
        return f"{title}：" + "，".join(parts) + (f"（{self.note}）" if self.note else "")


def person_address(person: Person, settings: Settings) -> WeComAppUser | DingTalkConversation | ConsoleChat:
    """A colleague's 1:1 chat with the bot (``notify.personal_route``, as for every personal message)."""
    route, who = notify.personal_route(settings, person.wecom_userid, person.dingtalk_userid, person.key)
    if route == "wecom_app":
        return WeComAppUser(who)
    if route == "dingtalk":
        return DingTalkConversation(f"dm:{who}", "1", settings.dingtalk_app_key, sender_staff_id=who)
    return ConsoleChat(f"dm:{who}")


class JobRunner:
    def __init__(self, db: Database, settings: Settings, *, kick: Callable[[], None] | None = None,
                 owner: str | None = None, wall_clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.settings, self.kick = db, settings, kick
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wall_clock = wall_clock
        self._moment: _Moment | None = None

    # -- entry points ---------------------------------------------------------------------------
    def run(self, names: Iterable[str] | None = None, now: datetime | None = None) -> list[JobResult]:
        """The wanted jobs (default: all), in order, as of one moment (default: the wall clock now)."""
        wanted = list(names) if names else list(JOB_ORDER)
        unknown = [n for n in wanted if n not in JOB_TITLES]
        if unknown:
            raise ValueError(f"未知任务 {', '.join(unknown)}（可选：{', '.join(JOB_ORDER)}）")
        now = now or self.wall_clock()
        self._moment = _Moment(set(wanted))
        try:
            return [self.run_job(name, now) for name in JOB_ORDER if name in wanted]
        finally:
            self._moment = None

    def run_job(self, name: str, now: datetime | None = None) -> JobResult:
        """One run of ``name`` as of ``now`` (default: the wall clock), if this process gets the lease."""
        now = (now or self.wall_clock()).astimezone(self.settings.tz)
        with self.db.unit_of_work() as session:
            leased = job_leases.acquire(session, name, self.owner, self.settings.jobs_lease_seconds, now=self.wall_clock())
        if not leased:
            log.info("job %s: another process holds the lease, skipped", name)
            return JobResult(name, status="skipped", note="另一个进程正在运行此任务")
        result = JobResult(name)
        error: str | None = None
        try:
            self._execute(name, now, result)
        except Exception as exc:  # the scheduler must keep running; the CLI reports the failure
            log.exception("job %s failed", name)
            result.status, result.note = "failed", f"{type(exc).__name__}: {exc}"[:500]
            error = result.note
        finally:
            with self.db.unit_of_work() as session:
                job_leases.release(session, name, self.owner, as_of=now, status=result.status,
                                   counts=result.as_dict(), error=error, now=self.wall_clock())
        log.info("job %s: %s", name, result.summary())
        if result.messages and self.kick is not None:
            self.kick()
        return result

    # -- one run ----------------------------------------------------------------------------------
    def _execute(self, name: str, now: datetime, result: JobResult) -> None:
        writer = _job_session(self.db)
        churn_after: int | None = None
        try:
            if name == "churn_model":
                retraining = retrain_if_due(writer, now.date(), self.settings.tz,
                                            min_labels=self.settings.churn_model_min_labels)
                writer.commit()
                model = retraining.trained
                result.note = retraining.describe(self.settings.churn_model_min_labels)
                result.extra = {"trained": model is not None, "active": bool(model and model.active),
                                "auc": model.auc if model else None}
                return
            if name == "churn_risk":
                scan = _job_session(self.db)  # whole-table feature reads, streamed while the writer commits per block
                try:
                    run = score_all(writer, SYSTEM, now, self.settings.tz, threshold=self.settings.churn_alert_threshold,
                                    rescore_days=self.settings.churn_rescore_days,
                                    first_scores=self.settings.churn_first_scores_per_run, commit=writer.commit,
                                    reader=scan)
                finally:
                    scan.close()
                writer.commit()
                churn_after = self._told_through(writer, name)
                result.extra = {"scored": run.scored, "insufficient": run.insufficient, "crossed": run.crossed,
                                "waiting": run.waiting, "method": run.method,
                                "told_through": writer.scalar(select(func.max(RiskScore.id))) or 0}
                result.note = (f"评分 {run.scored} 个客户（{'模型' if run.method == 'model' else '规则'}），"
                               f"{run.insufficient} 个数据不足，{run.crossed} 个新超过预警线"
                               + (f"，另有 {run.waiting} 个客户排队等待首次评分" if run.waiting else ""))
            reader = _job_session(self.db)
            try:
                self._deliver(writer, name, self._notices(reader, name, now, churn_after=churn_after), now, result)
            finally:
                reader.close()
            if name == "digest":  # once a day
                push_ledger.prune(writer, now.date() - timedelta(days=LEDGER_KEEP_DAYS))
                if self.db.dialect == "sqlite":
                    refresh_statistics(writer, "push_ledger", "outbox")
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.close()

    def _notices(self, reader: Session, name: str, now: datetime, *,
                 churn_after: int | None = None) -> Iterator[Notice[Any]]:
        s, today = self.settings, now.date()
        moment = self._moment or _Moment(set())
        due_soon = partial(reminders.due_soon, reader, SYSTEM, now, hours=s.task_due_soon_hours,
                           due_time=s.task_due_time_of_day)
        followups = partial(reminders.stale_followups, reader, SYSTEM, now, days=s.followup_stale_days)
        payments = partial(reminders.payments_due, reader, SYSTEM, today, within_days=s.payment_due_soon_days)
        tickets = partial(reminders.tickets_past_sla, reader, SYSTEM, now)
        late = partial(reminders.late_tasks, reader, SYSTEM, today)
        if name == "overdue_tasks":
            return reminders.overdue_tasks(reader, SYSTEM, today, late=moment.share("overdue_tasks", late))
        if name == "due_soon":
            return moment.share("due_soon", due_soon)
        if name == "stale_followups":
            return moment.share("stale_followups", followups)
        if name == "payments":
            return moment.share("payments", payments)
        if name == "ticket_sla":
            return moment.share("ticket_sla", tickets)
        if name == "churn_risk":
            return reminders.churn_alerts(reader, SYSTEM, today, after_id=churn_after)
        if name == "digest":
            # "due within 24 h" is "due today" when today's deadline is the only one ahead (the usual morning)
            today_only = reminders.deadline_days(now, s.task_due_soon_hours, s.task_due_time_of_day) == [today]
            return reminders.digests(
                reader, SYSTEM, now, stale_days=s.followup_stale_days,
                due_today=moment.share("due_soon", due_soon) if today_only and moment.shares("due_soon") else None,
                late=moment.share("overdue_tasks", late),
                followups=moment.share("stale_followups", followups),
                payments=moment.share("payments", payments) if moment.shares("payments") else None,
                tickets=moment.share("ticket_sla", tickets))
        raise ValueError(name)

    def _told_through(self, session: Session, name: str) -> int | None:
        """The last history row this job's previous run had scored when it read the crossings to tell, if that
        run finished: it told every crossing up to there. Otherwise 0 while the ledger holds nothing this job told
        (say, its first run), else None: look at the whole window and check each crossing against the ledger."""
        last = job_leases.last_run(session, name)
        through = (last.last_counts or {}).get("told_through") if last is not None and last.last_status == "done" else None
        if isinstance(through, int):
            return through
        told = session.scalar(select(PushRecord.id).where(PushRecord.job == name).limit(1))
        return None if told is not None else 0

    def _deliver(self, writer: Session, job: str, notices: Iterator[Notice[Any]], now: datetime,
                 result: JobResult) -> None:
        day = now.date()
        state = _PassState(sent_today=push_ledger.alerts_on(writer, day),
                           held_before=push_ledger.capped_on(writer, [day - timedelta(days=1), day])
                           if job == "digest" else Counter(),
                           quiet=etiquette.quiet_until(now, *self.settings.quiet_hours))
        batch: list[list[Notice[Any]]] = []
        for _, group in groupby(notices, key=lambda n: n.recipient.key):
            batch.append(list(group))
            if len(batch) >= FLUSH_RECIPIENTS:
                self._flush(writer, job, batch, now, state, result)
                writer.commit()
                batch = []
        if batch:
            self._flush(writer, job, batch, now, state, result)

    def _flush(self, writer: Session, job: str, batch: Sequence[Sequence[Notice[Any]]], now: datetime,
               state: _PassState, result: JobResult) -> None:
        """Claim a batch of recipients' items in the ledger, then queue one message per recipient for what
        it won. Past a person's daily limit an item is claimed as held (``capped``) — unless it is urgent."""
        day = now.date()
        claims = []
        for notices in batch:
            over = self._limited(job, notices[0].recipient) and \
                state.sent_today[notices[0].recipient.key] >= self.settings.max_alerts_per_person_per_day
            claims.append([Claim(n.job, n.entity, n.period, n.recipient.key, n.urgent,
                                 status=CAPPED if over and not n.urgent else SENT) for n in notices])
        won = push_ledger.claim(writer, [c for cs in claims for c in cs], day=day, now=now)
        chats = {n[0].recipient.chat_id for n in batch if isinstance(n[0].recipient, Group)}
        bindings = {b.chat_id: b for b in writer.scalars(select(ChatBinding).where(ChatBinding.chat_id.in_(chats)))} \
            if chats else {}
        messages: list[tuple[list[outbox.NewMessage], datetime | None]] = []
        counted: list[Claim] = []
        for notices, cs in zip(batch, claims, strict=True):
            fresh = [(n, won[c]) for n, c in zip(notices, cs, strict=True) if c in won and c.status == SENT]
            held = sum(1 for c in cs if c in won and c.status == CAPPED)
            result.already += sum(1 for c in cs if c not in won)
            self._compose(writer, job, notices[0].recipient, fresh, held, now, state, result, bindings, messages,
                          counted)
        push_ledger.claim(writer, counted, day=day, now=now)
        outbox_bulk.enqueue_many(writer, messages, now=now)

    def _limited(self, job: str, recipient: Recipient) -> bool:
        return isinstance(recipient, Person) and job not in push_ledger.UNCAPPED_JOBS

    def _compose(self, writer: Session, job: str, recipient: Recipient, fresh: list[tuple[Notice[Any], int]],
                 held: int, now: datetime, state: _PassState, result: JobResult, bindings: dict[str, ChatBinding],
                 messages: list[tuple[list[outbox.NewMessage], datetime | None]], counted: list[Claim]) -> None:
        """One message for a recipient's new items. Items held back by the daily limit wait for the next
        digest, and one line a day says so. Urgent items ignore the limit and quiet hours."""
        day = now.date()
        result.held += held
        if not fresh:
            if held and push_ledger.claim(writer, [Claim(LIMIT_NOTICE, "limit", day.isoformat(), recipient.key)],
                                          day=day, now=now):
                rendered = held_only(job, held, self.settings)
                key = f"{job}:{recipient.key}:{day.isoformat()}:{LIMIT_NOTICE}"
                messages.append((self._address(recipient, rendered, bindings).messages(rendered.reply, key), state.quiet))
                result.messages += 1
            return
        key = f"{job}:{recipient.key}:{day.isoformat()}:{min(lid for _, lid in fresh)}"
        urgent = any(n.urgent for n, _ in fresh)
        listed, folded = etiquette.fold(fresh, GROUP_ITEMS if isinstance(recipient, Group) else PERSON_ITEMS,
                                        urgent=lambda entry: entry[0].urgent)
        if job == "digest":
            listed[0][0].item.held_yesterday = state.held_before.get(recipient.key, 0)
        rendered = render(job, recipient, [n for n, _ in listed], now=now, settings=self.settings, more=len(folded))
        hold = None if urgent else state.quiet
        messages.append((self._address(recipient, rendered, bindings).messages(rendered.reply, key), hold))
        if self._limited(job, recipient):
            state.sent_today[recipient.key] += 1
            counted.append(Claim(job, push_ledger.MESSAGE, key, recipient.key))  # what the daily limit counts
        result.messages += 1
        result.deferred += hold is not None
        result.items += len(fresh)

    def _address(self, recipient: Recipient, rendered: Rendered, bindings: dict[str, ChatBinding]) -> Any:
        if isinstance(recipient, Group):
            return address_for(bindings.get(recipient.chat_id), recipient.chat_id, rendered.mention_mobiles)
        return person_address(recipient, self.settings)


def _job_session(db: Database) -> Session:
    """A session for a job. On PostgreSQL (``SET LOCAL``: only this session's transactions):

    - no JIT compilation, which costs 50–100 ms on every big aggregate and gains nothing on these scans;
    - cursors planned for reading all their rows: the jobs stream (``yield_per``, a server-side cursor),
      and a cursor is planned for its first tenth by default — nested loops where a hash join over the
      whole result is several times cheaper;
    - no parallel workers: each query of a pass is small, a worker costs more to start than it saves, and
      on a small server they take the cores the chat callbacks need (the rerun pass: 1.8 → 1.4 s);
    - index probes priced as reads of cached pages (``random_page_cost`` 1.1, not the default 4, which
      prices each as a disk seek): a pass reads the same tables every morning, and at 4 the planner hashed all
      300,000 instalments for each churn block rather than probe the 7,500 contracts' (50–70 → 30 ms a block)."""
    session = db.session()
    if db.dialect == "postgresql":
        event.listen(session, "after_begin", lambda _s, _tx, conn: conn.exec_driver_sql(
            "SET LOCAL jit = off; SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL max_parallel_workers_per_gather = 0;"
            " SET LOCAL random_page_cost = 1.1"))
    return session


@dataclass
class _Moment:
    """Reads two jobs of one pass share. The digest, which runs first, lists tasks due today, overdue tasks,
    follow-ups owed, overdue payments and tickets past their SLA: the very rows the jobs after it push, as of
    the same moment.
    Read once, kept as a list (items due, not table rows) until the second job takes it."""

    jobs: set[str]
    kept: dict[str, list[Any]] = field(default_factory=dict)

    def shares(self, job: str) -> bool:
        return "digest" in self.jobs and job in self.jobs

    def share(self, job: str, read: Callable[[], Iterable[T]]) -> Iterator[T]:
        if not self.shares(job):
            return iter(read())
        if job in self.kept:
            return iter(self.kept.pop(job))
        rows = list(read())
        self.kept[job] = rows
        return iter(rows)


@dataclass
class _PassState:
    sent_today: Counter[str]
    held_before: Counter[str]
    quiet: datetime | None
