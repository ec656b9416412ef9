"""Churn features per customer, as of a day (point in time: only what was known then).

Set-based: one aggregate query per source table for a whole chunk of customers (an id range for the
nightly pass — index range scans — or an id list for training), grouped in the database so that a
chunk returns about one row per customer and table. A value is ``None`` when the data to judge it
does not exist: "no proposals" is not "proposals were opened".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, or_, select
from sqlalchemy import extract as sql_extract
from sqlalchemy.orm import Session

from crm_core.models import (
    OPEN_STAGES,
    Contract,
    Interaction,
    Opportunity,
    Payment,
    Project,
    Proposal,
    ProposalAnnotation,
    ProposalVersion,
    ProposalView,
    Ticket,
)

FEATURES = (
    "days_since_contact", "proposal_open_rate", "feedback_days", "complaints_90d", "tickets_90d", "sla_breaches",
    "overdue_payments", "max_days_late", "avg_payment_delay", "budget_trend", "project_trend", "renewal_gap",
)
# Which evidence a feature rests on; a score needs at least MIN_KNOWN_GROUPS of them.
GROUPS = {
    "contact": ("days_since_contact",),
    "proposals": ("proposal_open_rate", "feedback_days"),
    "service": ("complaints_90d", "tickets_90d", "sla_breaches"),
    "payments": ("overdue_payments", "max_days_late", "avg_payment_delay"),
    "trend": ("budget_trend", "project_trend"),
    "renewal": ("renewal_gap",),
}
MIN_KNOWN_GROUPS = 2
LAST_PROPOSALS = 3
RENEWAL_WINDOW_DAYS = 60
COMPLAINT_WORDS = ("投诉", "不满", "索赔")

Scope = tuple[int, int] | Sequence[int]  # an id range (inclusive) or a list of ids


@dataclass
class Features:
    customer_id: int
    values: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(FEATURES))
    facts: dict[str, Any] = field(default_factory=dict)  # dates, counts and titles the reasons quote

    @property
    def known_groups(self) -> list[str]:
        return [g for g, names in GROUPS.items() if any(self.values[n] is not None for n in names)]

    @property
    def sufficient(self) -> bool:
        return len(self.known_groups) >= MIN_KNOWN_GROUPS


def _trend(recent: float, before: float) -> float | None:
    if recent == 0 and before == 0:
        return None
    if before == 0:
        return 1.0
    return (recent - before) / before


class _Sql:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, session: Session) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"

    def days(self, later: Any, earlier: Any, *, dates: bool = True) -> Any:
        if not self.pg:
            return func.julianday(later) - func.julianday(earlier)
        return later - earlier if dates else sql_extract("epoch", later - earlier) / 86400.0

    def day_of(self, moment: Any) -> Any:
        return cast(moment, Date) if self.pg else func.date(moment)


def _within(column: Any, scope: Scope) -> Any:
    if isinstance(scope, tuple):
        return column.between(scope[0], scope[1])
    return column.in_(list(scope))


def extract(session: Session, customers: Sequence[tuple[int, datetime | None]], as_of: date, tz: tzinfo,
            scope: Scope | None = None, *, live: bool = False) -> dict[int, Features]:
    """Features for (customer id, customer.last_contact_at) pairs as of the end of ``as_of``. ``scope``
    (default: the ids themselves) says which rows the queries read: an id range covering ``customers``.
    ``live``: as of today, so the customer's own ``last_contact_at`` (kept up to date by every follow-up and
    import) stands for its interactions; a point in the past (training) reads the interactions themselves."""
    out = {cid: Features(cid) for cid, _ in customers}
    if not out:
        return out
    scope = scope if scope is not None else [cid for cid, _ in customers]
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=tz)
    sql = _Sql(session)
    _contact(session, None if live else scope, customers, as_of, end, tz, out)
    _proposals(session, sql, scope, end, out)
    served = _service(session, scope, end, out)
    served |= _payments(session, sql, scope, as_of, out)
    served |= _business(session, sql, scope, as_of, end, out)
    for cid in served & out.keys():  # zero tickets only means something for a customer we actually serve
        f = out[cid]
        if f.values["tickets_90d"] is None:
            f.values.update(tickets_90d=0.0, complaints_90d=0.0, sla_breaches=0.0)
    return out



def _contact(session: Session, scope: Scope | None, customers: Sequence[tuple[int, datetime | None]], as_of: date,
             end: datetime, tz: tzinfo, out: dict[int, Features]) -> None:
    last: dict[int, datetime] = {}
    if scope is not None:
        for cid, when in session.execute(select(Interaction.customer_id, func.max(Interaction.occurred_at))
                                         .where(_within(Interaction.customer_id, scope), Interaction.occurred_at < end)
                                         .group_by(Interaction.customer_id)):
            if cid in out:
                last[cid] = when
    for cid, stamp in customers:  # a contact recorded on the customer without an interaction row
        if stamp is not None and stamp < end and (cid not in last or stamp > last[cid]):
            last[cid] = stamp
    for cid, when in last.items():
        day = when.astimezone(tz).date()
        out[cid].values["days_since_contact"] = float(max(0, (as_of - day).days))
        out[cid].facts["last_contact"] = day.isoformat()


def _proposals(session: Session, sql: _Sql, scope: Scope, end: datetime, out: dict[int, Features]) -> None:
    rank = func.row_number().over(partition_by=Proposal.customer_id,
                                  order_by=(Proposal.created_at.desc(), Proposal.id.desc()))
    latest = (select(Proposal.customer_id.label("cid"), Proposal.id.label("pid"), rank.label("rn"))
              .where(_within(Proposal.customer_id, scope), Proposal.created_at < end).subquery())
    # "opened" for the last three only, one index probe each: a scalar subquery with LIMIT 1, because PostgreSQL
    # turns an EXISTS here into a hash of every view joined to every version, once per block
    opened = (select(literal(1)).select_from(ProposalVersion)
              .join(ProposalView, ProposalView.version_id == ProposalVersion.id)
              .where(ProposalVersion.proposal_id == latest.c.pid, ProposalView.viewed_at < end)
              .limit(1).scalar_subquery()).is_not(None)
    for cid, n, n_open in session.execute(select(latest.c.cid, func.count(), func.sum(case((opened, 1), else_=0)))
                                          .where(latest.c.rn <= LAST_PROPOSALS).group_by(latest.c.cid)):
        if cid in out and n >= 2:  # one unopened proposal is an anecdote, not a rate
            out[cid].values["proposal_open_rate"] = int(n_open) / int(n)
            out[cid].facts["proposals"] = [int(n), int(n_open)]
    first = (select(Proposal.customer_id.label("cid"), ProposalVersion.created_at.label("sent"),
                    func.min(ProposalAnnotation.created_at).label("answered"))
             .join(ProposalVersion, ProposalVersion.proposal_id == Proposal.id)
             .join(ProposalAnnotation, ProposalAnnotation.version_id == ProposalVersion.id)
             .where(_within(Proposal.customer_id, scope), ProposalVersion.created_at >= end - timedelta(days=366),
                    ProposalAnnotation.created_at < end)
             .group_by(ProposalVersion.id, Proposal.customer_id, ProposalVersion.created_at).subquery())
    wait = sql.days(first.c.answered, first.c.sent, dates=False)
    for cid, avg in session.execute(select(first.c.cid, func.avg(wait)).where(first.c.answered >= first.c.sent)
                                    .group_by(first.c.cid)):
        if cid in out and avg is not None:
            out[cid].values["feedback_days"] = round(float(avg), 1)


def _service(session: Session, scope: Scope, end: datetime, out: dict[int, Features]) -> set[int]:
    since = end - timedelta(days=91)
    recent = Ticket.created_at >= since
    complaint = or_(*(Ticket.category.contains(w) for w in COMPLAINT_WORDS), *(Ticket.title.contains(w) for w in COMPLAINT_WORDS))
    late = and_(or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= end), Ticket.sla_due_at < end)
    served = set()
    for cid, n, complaints, breaches in session.execute(
            select(Ticket.customer_id, func.sum(case((recent, 1), else_=0)),
                   func.sum(case((and_(recent, complaint), 1), else_=0)), func.sum(case((late, 1), else_=0)))
            .where(_within(Ticket.customer_id, scope), Ticket.created_at < end).group_by(Ticket.customer_id)):
        if cid not in out:
            continue
        served.add(cid)
        f = out[cid]
        f.values.update(tickets_90d=float(n or 0), complaints_90d=float(complaints or 0), sla_breaches=float(breaches or 0))
        f.facts.update(tickets=int(n or 0), complaints=int(complaints or 0), sla=int(breaches or 0))
    return served


def _payments(session: Session, sql: _Sql, scope: Scope, as_of: date, out: dict[int, Features]) -> set[int]:
    unpaid_then = or_(Payment.paid_at > as_of, and_(Payment.paid_at.is_(None), Payment.status != "已收"))
    overdue = and_(unpaid_then, Payment.due < as_of)
    paid_recently = and_(Payment.paid_at <= as_of, Payment.paid_at >= as_of - timedelta(days=365))
    delay = sql.days(Payment.paid_at, Payment.due)
    stmt = (select(Contract.customer_id, func.sum(case((overdue, 1), else_=0)), func.min(case((overdue, Payment.due))),
                   func.avg(case((paid_recently, case((delay > 0, delay), else_=0))))))
    stmt = (stmt.select_from(Contract).join(Payment, Payment.contract_id == Contract.id)
            .where(_within(Contract.customer_id, scope), Payment.due <= as_of, Payment.due >= as_of - timedelta(days=730))
            .group_by(Contract.customer_id))
    served = set()
    for cid, n_late, earliest, avg_delay in session.execute(stmt):
        if cid not in out:
            continue
        served.add(cid)
        f = out[cid]
        if isinstance(earliest, str):  # SQLite hands MIN() of a date back as text
            earliest = date.fromisoformat(earliest)
        worst = (as_of - earliest).days if earliest is not None else 0
        f.values.update(overdue_payments=float(n_late or 0), max_days_late=float(worst))
        if avg_delay is not None:
            f.values["avg_payment_delay"] = round(float(avg_delay), 1)
        f.facts.update(overdue=int(n_late or 0), max_late=worst)
    return served


def _business(session: Session, sql: _Sql, scope: Scope, as_of: date, end: datetime, out: dict[int, Features]) -> set[int]:
    year, half = timedelta(days=365), timedelta(days=182)
    begun = func.coalesce(Contract.signed_at, Contract.start)
    amounts = {cid: (float(a or 0), float(b or 0), last) for cid, a, b, last in session.execute(
        select(Contract.customer_id, func.sum(case((begun > as_of - year, Contract.amount), else_=0)),
               func.sum(case((and_(begun <= as_of - year, begun > as_of - 2 * year), Contract.amount), else_=0)),
               func.max(begun))
        .where(_within(Contract.customer_id, scope), begun <= as_of).group_by(Contract.customer_id))}
    ending: dict[int, tuple[str, date]] = {}
    for cid, title, finish in session.execute(
            select(Contract.customer_id, Contract.title, Contract.end)
            .where(_within(Contract.customer_id, scope), begun <= as_of, Contract.end >= as_of,
                   Contract.end <= as_of + timedelta(days=RENEWAL_WINDOW_DAYS))
            .order_by(Contract.end)):
        ending.setdefault(cid, (title, finish))
    start = func.coalesce(Project.start, sql.day_of(Project.created_at))
    projects = {cid: (int(a or 0), int(b or 0)) for cid, a, b in session.execute(
        select(Project.customer_id, func.sum(case((start > as_of - half, 1), else_=0)),
               func.sum(case((and_(start <= as_of - half, start > as_of - 2 * half), 1), else_=0)))
        .where(_within(Project.customer_id, scope), start <= as_of).group_by(Project.customer_id))}
    pipeline = {cid for (cid,) in session.execute(
        select(Opportunity.customer_id).where(_within(Opportunity.customer_id, scope), Opportunity.created_at < end,
                                              or_(Opportunity.stage.in_(OPEN_STAGES), Opportunity.closed_at >= end))
        .distinct())}
    for cid, (recent, before, last) in amounts.items():
        if cid not in out:
            continue
        f = out[cid]
        trend = _trend(recent, before)
        if trend is not None:
            f.values["budget_trend"] = round(trend, 3)
            f.facts["amounts"] = [recent, before]
        if isinstance(last, str):
            last = date.fromisoformat(last)
        renewed = last is not None and last > as_of - timedelta(days=30)  # a new contract began: the renewal
        gap = cid in ending and cid not in pipeline and not renewed
        f.values["renewal_gap"] = 1.0 if gap else 0.0
        if gap:
            title, finish = ending[cid]
            f.facts["renewal"] = [title, finish.isoformat()]
    for cid, (p_recent, p_before) in projects.items():
        if cid in out:
            p_trend = _trend(p_recent, p_before)
            if p_trend is not None:
                out[cid].values["project_trend"] = round(p_trend, 3)
                out[cid].facts["projects"] = [p_recent, p_before]
    return set(amounts) | set(projects)
