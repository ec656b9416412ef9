"""Churn features per customer, as of a day (point in time: only what was known then).

Set-based: one aggregate query per source table for a whole chunk of customers (an id range for the
nightly pass — index range scans — or an id list for training), grouped in the database so that a
chunk returns about one row per customer and table. When a run scores most customers (the first
pass), ``FeatureStream`` reads each table once instead: the same aggregates over the whole table,
ordered by customer and streamed, taken block by block — a scan per table rather than an index probe
per row and block (customers' rows are spread over the whole table, so 20 blocks read it 20 times).
A value is ``None`` when the data to judge it does not exist: "no proposals" is not "proposals were opened".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Date, Select, and_, case, cast, func, literal, or_, select, text, true
from sqlalchemy import extract as sql_extract
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

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

Scope = tuple[int, int] | Sequence[int] | None  # an id range (inclusive), a list of ids, or None: every customer


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


class _Scan(FunctionElement[Any]):
    """An expression SQLite must not answer from an index (rendered ``+x``, its documented way to say so); the
    whole-table aggregates scan and sort instead of walking an index and seeking every row by rowid."""

    inherit_cache = True
    name = "scan"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_Scan)
def _scan_default(element: _Scan, compiler: Any, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)  # type: ignore[no-any-return]


@compiles(_Scan, "sqlite")
def _scan_sqlite(element: _Scan, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(next(iter(element.clauses)), **kw)


class _Sql:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, session: Session, whole: bool = False) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.whole = whole  # every customer at once: scan the tables, group, order by customer

    def days(self, later: Any, earlier: Any, *, dates: bool = True) -> Any:
        if not self.pg:
            return func.julianday(later) - func.julianday(earlier)
        return later - earlier if dates else sql_extract("epoch", later - earlier) / 86400.0

    def day_of(self, moment: Any) -> Any:
        return cast(moment, Date) if self.pg else func.date(moment)

    def scan(self, column: Any) -> Any:
        """``column``, which in a whole-table query must not steer SQLite to an index."""
        return _Scan(column) if self.whole and not self.pg else column


def _within(column: Any, scope: Scope) -> Any:
    if scope is None:
        return true()
    if isinstance(scope, tuple):
        return column.between(scope[0], scope[1])
    return column.in_(list(scope))


def _queries(sql: _Sql, scope: Scope, as_of: date, end: datetime, *, live: bool) -> dict[str, Select[Any]]:
    """The aggregate queries, by source; each row starts with a customer id. Whole-table: ordered by it."""
    q: dict[str, Select[Any]] = {}
    if not live:
        q["contact"] = (select(Interaction.customer_id, func.max(Interaction.occurred_at))
                        .where(_within(Interaction.customer_id, scope), Interaction.occurred_at < end)
                        .group_by(Interaction.customer_id))
    q["opened"], q["feedback"] = _proposal_queries(sql, scope, end)
    q["service"] = _service_query(sql, scope, end)
    q["payments"] = _payment_query(sql, scope, as_of)
    q["amounts"], q["ending"], q["projects"], q["pipeline"] = _business_queries(sql, scope, as_of, end)
    if sql.whole:
        q = {name: stmt.order_by(stmt.selected_columns[0]) if name != "ending" else stmt for name, stmt in q.items()}
    return q


def _apply(rows: Mapping[str, Iterable[Any]], customers: Sequence[tuple[int, datetime | None]], as_of: date,
           end: datetime, tz: tzinfo, out: dict[int, Features]) -> None:
    _contact(rows.get("contact", ()), customers, as_of, end, tz, out)
    _proposals(rows["opened"], rows["feedback"], out)
    served = _service(rows["service"], out)
    served |= _payments(rows["payments"], as_of, out)
    served |= _business(rows["amounts"], rows["ending"], rows["projects"], rows["pipeline"], as_of, out)
    for cid in served & out.keys():  # zero tickets only means something for a customer we actually serve
        f = out[cid]
        if f.values["tickets_90d"] is None:
            f.values.update(tickets_90d=0.0, complaints_90d=0.0, sla_breaches=0.0)


def _end_of(as_of: date, tz: tzinfo) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=tz)


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
    end = _end_of(as_of, tz)
    rows = {name: list(session.execute(stmt))
            for name, stmt in _queries(_Sql(session), scope, as_of, end, live=live).items()}
    _apply(rows, customers, as_of, end, tz, out)
    return out


class _Ordered:
    """Rows ordered by customer id, taken up to a block's last id."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows: Iterator[Any] = iter(rows)
        self._next = next(self._rows, None)

    def take(self, lo: int, hi: int) -> list[Any]:
        out = []
        while self._next is not None and self._next[0] <= hi:
            if self._next[0] >= lo:
                out.append(self._next)
            self._next = next(self._rows, None)
        return out


class FeatureStream:
    """Live features for every customer, block by block in id order, from one streamed whole-table aggregate
    per source: the same values ``extract(..., live=True)`` gives each block (``reader`` should be a session
    of its own — its cursors stay open while the caller writes and commits). Memory: a block's rows at a time."""

    def __init__(self, reader: Session, as_of: date, tz: tzinfo, *, batch: int = 5000) -> None:
        self.as_of, self.tz, self.end = as_of, tz, _end_of(as_of, tz)
        sql = _Sql(reader, whole=True)
        if sql.pg:  # whole tables: price pages as the sequential reads they are, and hash in memory, not on disk
            reader.execute(text("SET LOCAL random_page_cost = 4; SET LOCAL work_mem = '32MB'"))
        self._sources: dict[str, _Ordered] = {}
        for name, stmt in _queries(sql, None, as_of, self.end, live=True).items():
            result = reader.execute(stmt.execution_options(yield_per=batch))
            self._sources[name] = _Ordered(result)

    def extract(self, customers: Sequence[tuple[int, datetime | None]], lo: int, hi: int) -> dict[int, Features]:
        """Features of ``customers`` (ids ``lo``–``hi``, in blocks of ascending ids; skipped ids are dropped)."""
        out = {cid: Features(cid) for cid, _ in customers}
        rows = {name: source.take(lo, hi) for name, source in self._sources.items()}
        _apply(rows, customers, self.as_of, self.end, self.tz, out)
        return out


def _contact(rows: Iterable[Any], customers: Sequence[tuple[int, datetime | None]], as_of: date,
             end: datetime, tz: tzinfo, out: dict[int, Features]) -> None:
    last: dict[int, datetime] = {}
    for cid, when in rows:
        if cid in out:
            last[cid] = when
    for cid, stamp in customers:  # a contact recorded on the customer without an interaction row
        if stamp is not None and stamp < end and (cid not in last or stamp > last[cid]):
            last[cid] = stamp
    for cid, when in last.items():
        day = when.astimezone(tz).date()
        out[cid].values["days_since_contact"] = float(max(0, (as_of - day).days))
        out[cid].facts["last_contact"] = day.isoformat()


def _proposal_queries(sql: _Sql, scope: Scope, end: datetime) -> tuple[Select[Any], Select[Any]]:
    rank = func.row_number().over(partition_by=sql.scan(Proposal.customer_id),
                                  order_by=(Proposal.created_at.desc(), Proposal.id.desc()))
    latest = (select(Proposal.customer_id.label("cid"), Proposal.id.label("pid"), rank.label("rn"))
              .where(_within(Proposal.customer_id, scope), Proposal.created_at < end).subquery())
    if sql.whole:  # every proposal at once: the proposals viewed by then, once, joined to the last three
        seen = (select(ProposalVersion.proposal_id.label("pid")).join(ProposalView, ProposalView.version_id == ProposalVersion.id)
                .where(ProposalView.viewed_at < end).group_by(ProposalVersion.proposal_id).subquery())
        rate = (select(latest.c.cid, func.count(), func.count(seen.c.pid)).outerjoin(seen, seen.c.pid == latest.c.pid)
                .where(latest.c.rn <= LAST_PROPOSALS).group_by(latest.c.cid))
    else:
        # "opened" for the last three only, one index probe each: a scalar subquery with LIMIT 1, because PostgreSQL
        # turns an EXISTS here into a hash of every view joined to every version, once per block
        opened = (select(literal(1)).select_from(ProposalVersion)
                  .join(ProposalView, ProposalView.version_id == ProposalVersion.id)
                  .where(ProposalVersion.proposal_id == latest.c.pid, ProposalView.viewed_at < end)
                  .limit(1).scalar_subquery()).is_not(None)
        rate = (select(latest.c.cid, func.count(), func.sum(case((opened, 1), else_=0)))
                .where(latest.c.rn <= LAST_PROPOSALS).group_by(latest.c.cid))
    first = (select(Proposal.customer_id.label("cid"), ProposalVersion.created_at.label("sent"),
                    func.min(ProposalAnnotation.created_at).label("answered"))
             .join(ProposalVersion, ProposalVersion.proposal_id == Proposal.id)
             .join(ProposalAnnotation, ProposalAnnotation.version_id == ProposalVersion.id)
             .where(_within(Proposal.customer_id, scope), ProposalVersion.created_at >= end - timedelta(days=366),
                    ProposalAnnotation.created_at < end)
             .group_by(ProposalVersion.id, Proposal.customer_id, ProposalVersion.created_at).subquery())
    wait = sql.days(first.c.answered, first.c.sent, dates=False)
    feedback = select(first.c.cid, func.avg(wait)).where(first.c.answered >= first.c.sent).group_by(first.c.cid)
    return rate, feedback


def _proposals(rate: Iterable[Any], feedback: Iterable[Any], out: dict[int, Features]) -> None:
    for cid, n, n_open in rate:
        if cid in out and n >= 2:  # one unopened proposal is an anecdote, not a rate
            out[cid].values["proposal_open_rate"] = int(n_open) / int(n)
            out[cid].facts["proposals"] = [int(n), int(n_open)]
    for cid, avg in feedback:
        if cid in out and avg is not None:
            out[cid].values["feedback_days"] = round(float(avg), 1)


def _service_query(sql: _Sql, scope: Scope, end: datetime) -> Select[Any]:
    since = end - timedelta(days=91)
    recent = Ticket.created_at >= since
    complaint = or_(*(Ticket.category.contains(w) for w in COMPLAINT_WORDS), *(Ticket.title.contains(w) for w in COMPLAINT_WORDS))
    late = and_(or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= end), Ticket.sla_due_at < end)
    customer = sql.scan(Ticket.customer_id)
    return (select(customer, func.sum(case((recent, 1), else_=0)),
                   func.sum(case((and_(recent, complaint), 1), else_=0)), func.sum(case((late, 1), else_=0)))
            .where(_within(Ticket.customer_id, scope), Ticket.created_at < end).group_by(customer))


def _service(rows: Iterable[Any], out: dict[int, Features]) -> set[int]:
    served = set()
    for cid, n, complaints, breaches in rows:
        if cid not in out:
            continue
        served.add(cid)
        f = out[cid]
        f.values.update(tickets_90d=float(n or 0), complaints_90d=float(complaints or 0), sla_breaches=float(breaches or 0))
        f.facts.update(tickets=int(n or 0), complaints=int(complaints or 0), sla=int(breaches or 0))
    return served


def _payment_query(sql: _Sql, scope: Scope, as_of: date) -> Select[Any]:
    unpaid_then = or_(Payment.paid_at > as_of, and_(Payment.paid_at.is_(None), Payment.status != "已收"))
    overdue = and_(unpaid_then, Payment.due < as_of)
    paid_recently = and_(Payment.paid_at <= as_of, Payment.paid_at >= as_of - timedelta(days=365))
    delay = sql.days(Payment.paid_at, Payment.due)
    customer, due = sql.scan(Contract.customer_id), sql.scan(Payment.due)
    stmt = (select(customer, func.sum(case((overdue, 1), else_=0)), func.min(case((overdue, Payment.due))),
                   func.avg(case((paid_recently, case((delay > 0, delay), else_=0))))))
    # whole table: every instalment in storage order, each with its contract by primary key
    return (stmt.select_from(Contract).join(Payment, sql.scan(Payment.contract_id) == Contract.id)
            .where(_within(Contract.customer_id, scope), due <= as_of, due >= as_of - timedelta(days=730))
            .group_by(customer))


def _payments(rows: Iterable[Any], as_of: date, out: dict[int, Features]) -> set[int]:
    served = set()
    for cid, n_late, earliest, avg_delay in rows:
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


def _business_queries(sql: _Sql, scope: Scope, as_of: date, end: datetime) -> tuple[Select[Any], ...]:
    year, half = timedelta(days=365), timedelta(days=182)
    begun = func.coalesce(Contract.signed_at, Contract.start)
    contract_customer = sql.scan(Contract.customer_id)
    amounts = (select(contract_customer, func.sum(case((begun > as_of - year, Contract.amount), else_=0)),
                      func.sum(case((and_(begun <= as_of - year, begun > as_of - 2 * year), Contract.amount), else_=0)),
                      func.max(begun))
               .where(_within(Contract.customer_id, scope), begun <= as_of).group_by(contract_customer))
    # per customer the earliest end first (the one a reason names), then the lowest id
    ending = (select(Contract.customer_id, Contract.title, Contract.end, Contract.id)
              .where(_within(Contract.customer_id, scope), begun <= as_of, Contract.end >= as_of,
                     Contract.end <= as_of + timedelta(days=RENEWAL_WINDOW_DAYS))
              .order_by(*([sql.scan(Contract.customer_id)] if sql.whole else []), Contract.end, Contract.id))
    start = func.coalesce(Project.start, sql.day_of(Project.created_at))
    projects = (select(Project.customer_id, func.sum(case((start > as_of - half, 1), else_=0)),
                       func.sum(case((and_(start <= as_of - half, start > as_of - 2 * half), 1), else_=0)))
                .where(_within(Project.customer_id, scope), start <= as_of).group_by(Project.customer_id))
    opportunity_customer = sql.scan(Opportunity.customer_id)
    pipeline = (select(opportunity_customer)
                .where(_within(Opportunity.customer_id, scope), Opportunity.created_at < end,
                       or_(Opportunity.stage.in_(OPEN_STAGES), Opportunity.closed_at >= end))
                .group_by(opportunity_customer))
    return amounts, ending, projects, pipeline


def _business(amount_rows: Iterable[Any], ending_rows: Iterable[Any], project_rows: Iterable[Any],
              pipeline_rows: Iterable[Any], as_of: date, out: dict[int, Features]) -> set[int]:
    amounts = {cid: (float(a or 0), float(b or 0), last) for cid, a, b, last in amount_rows}
    ending: dict[int, tuple[str, date]] = {}
    for cid, title, finish, _ in ending_rows:
        ending.setdefault(cid, (title, finish))
    projects = {cid: (int(a or 0), int(b or 0)) for cid, a, b in project_rows}
    pipeline = {cid for (cid,) in pipeline_rows}
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
