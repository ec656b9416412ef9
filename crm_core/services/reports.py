"""Reports for chat: sales funnel, LTV by industry, RFM tiers, payments, tickets, performance, utilisation.

Every figure is computed from records the actor may see. A report is rows of (label, value,
display text) plus notes on how it was computed; the chat renders them as a small text chart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from statistics import median
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.errors import InvalidInput
from crm_core.models import (
    OPEN_STAGES,
    OPEN_TASK_STATUSES,
    OPEN_TICKET_STATUSES,
    STAGES,
    TICKET_STATUSES,
    Contract,
    Customer,
    Interaction,
    Opportunity,
    Payment,
    Staff,
    Task,
    Ticket,
)
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services.opportunities import opportunity_scope
from crm_core.services.tickets import ticket_scope
from crm_core.services.work import task_scope

ReportKey = Literal["funnel", "ltv", "rfm", "payments", "tickets", "performance", "utilization"]
REPORT_TITLES: dict[str, str] = {
    "funnel": "销售漏斗", "ltv": "各行业客户 LTV", "rfm": "客户 RFM 分层", "payments": "回款情况",
    "tickets": "工单统计", "performance": "销售业绩", "utilization": "人员饱和度",
}
TASK_CAPACITY = 5  # open tasks due within two weeks that count as a full plate
UTILIZATION_DAYS = 14


@dataclass
class ReportRow:
    label: str
    value: float
    display: str


@dataclass
class Report:
    key: str
    title: str
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _wan(amount: Decimal | float | int) -> str:
    value = Decimal(amount)
    if abs(value) >= 10000:
        return f"{(value / 10000):.1f}".rstrip("0").rstrip(".") + "万"
    return f"{value:,.0f}元"


def _visible_customers(actor: Actor):  # type: ignore[no-untyped-def]
    return select(Customer.id).where(customer_scope(actor))


def funnel(session: Session, actor: Actor, today: date) -> Report:
    stmt = select(Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount), 0)).where(
        opportunity_scope(actor)).group_by(Opportunity.stage)
    found = {s: (int(n), Decimal(a)) for s, n, a in session.execute(stmt)}
    report = Report("funnel", REPORT_TITLES["funnel"])
    for stage in STAGES:
        n, amount = found.get(stage, (0, Decimal(0)))
        report.rows.append(ReportRow(stage, float(n), f"{n} 个 · {_wan(amount)}"))
    won, lost = found.get("签约成功", (0, 0))[0], found.get("输单", (0, 0))[0]
    open_n = sum(found.get(s, (0, 0))[0] for s in OPEN_STAGES)
    if won + lost:
        report.notes.append(f"赢单率 {won / (won + lost):.0%}（签约 {won} / 已关闭 {won + lost}），在跟 {open_n} 个。")
    report.notes.append("按当前阶段统计，范围为你可以查看的客户。")
    return report


def ltv(session: Session, actor: Actor, today: date) -> Report:
    stmt = select(Customer.industry, Customer.id, func.coalesce(func.sum(Contract.amount), 0)).outerjoin(
        Contract, Contract.customer_id == Customer.id).where(customer_scope(actor)).group_by(Customer.industry,
                                                                                           Customer.id)
    per: dict[str, list[Decimal]] = defaultdict(list)
    for industry, _, total in session.execute(stmt):
        per[industry or "未分类"].append(Decimal(total))
    report = Report("ltv", REPORT_TITLES["ltv"])
    for industry, totals in sorted(per.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        avg = sum(totals) / len(totals)
        report.rows.append(ReportRow(industry, float(avg), f"户均 {_wan(avg)}（{len(totals)} 家，累计 {_wan(sum(totals))}）"))
    report.notes.append("LTV = 客户至今签约合同总额；户均按行业内客户数平均。")
    return report


def rfm(session: Session, actor: Actor, today: date) -> Report:
    since = datetime.combine(today - timedelta(days=365), time(), tzinfo=UTC)
    customers = list(session.scalars(select(Customer).where(customer_scope(actor))))
    if not customers:
        return Report("rfm", REPORT_TITLES["rfm"], notes=["没有可统计的客户。"])
    ids = [c.id for c in customers]
    freq = dict(session.execute(select(Interaction.customer_id, func.count()).where(
        Interaction.customer_id.in_(ids), Interaction.occurred_at >= since).group_by(Interaction.customer_id)).all())
    money = dict(session.execute(select(Contract.customer_id, func.sum(Contract.amount)).where(
        Contract.customer_id.in_(ids)).group_by(Contract.customer_id)).all())
    m_values = [Decimal(money.get(c.id) or 0) for c in customers]
    f_values = [int(freq.get(c.id) or 0) for c in customers]
    m_mid, f_mid = median(m_values), median(f_values)
    segments: dict[str, list[str]] = defaultdict(list)
    for c, m, f in zip(customers, m_values, f_values, strict=True):
        days = (today - c.last_contact_at.date()).days if c.last_contact_at else 9999
        recent, frequent, valuable = days <= 60, f >= max(f_mid, 1), m >= m_mid and m > 0
        name = ("重要价值" if recent and frequent and valuable else "重要保持" if valuable and not recent
                else "重要发展" if valuable else "潜力客户" if recent else "一般维持")
        segments[name].append(c.name)
    report = Report("rfm", REPORT_TITLES["rfm"])
    for name in ("重要价值", "重要保持", "重要发展", "潜力客户", "一般维持"):
        names = segments.get(name, [])
        shown = "、".join(names[:3]) + ("等" if len(names) > 3 else "")
        report.rows.append(ReportRow(name, float(len(names)), f"{len(names)} 家" + (f"（{shown}）" if names else "")))
    report.notes.append("R=距上次跟进天数（60 天内为近），F=近一年跟进次数，M=合同总额；F、M 以中位数为界。")
    return report


def payments(session: Session, actor: Actor, today: date) -> Report:
    start = date(today.year, 1, 1)
    stmt = select(Payment).join(Contract).where(Contract.customer_id.in_(_visible_customers(actor)),
                                                 Payment.due >= start, Payment.due <= date(today.year, 12, 31))
    due_by: dict[int, Decimal] = defaultdict(Decimal)
    paid_by: dict[int, Decimal] = defaultdict(Decimal)
    overdue = Decimal(0)
    for p in session.scalars(stmt):
        due_by[p.due.month] += Decimal(p.amount)
        paid_by[p.due.month] += Decimal(p.paid_amount or 0)
        if p.status != "已收" and p.due < today:
            overdue += Decimal(p.amount) - Decimal(p.paid_amount or 0)
    report = Report("payments", REPORT_TITLES["payments"])
    for month in sorted(due_by):
        due, paid = due_by[month], paid_by[month]
        rate = float(paid / due) if due else 0.0
        report.rows.append(ReportRow(f"{month}月", rate, f"应收 {_wan(due)} · 已收 {_wan(paid)}（{rate:.0%}）"))
    report.notes.append(f"{today.year} 年按计划到期月份统计；当前逾期未收 {_wan(overdue)}。")
    return report


def tickets(session: Session, actor: Actor, today: date) -> Report:
    counts = dict(session.execute(select(Ticket.status, func.count()).where(ticket_scope(actor))
                                  .group_by(Ticket.status)).all())
    report = Report("tickets", REPORT_TITLES["tickets"])
    for status in TICKET_STATUSES:
        n = int(counts.get(status) or 0)
        report.rows.append(ReportRow(status, float(n), f"{n} 张"))
    now = datetime.combine(today, time())
    late = sum(1 for (sla,) in session.execute(select(Ticket.sla_due_at).where(
        ticket_scope(actor), Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.sla_due_at.is_not(None)))
        if sla.replace(tzinfo=None) < now)
    csat = session.scalar(select(func.avg(Ticket.csat)).where(ticket_scope(actor), Ticket.csat.is_not(None)))
    report.notes.append(f"未关闭且超出服务时限 {late} 张；满意度均分 {float(csat):.1f}/5。" if csat is not None
                        else f"未关闭且超出服务时限 {late} 张；暂无满意度评分。")
    return report


def performance(session: Session, actor: Actor, today: date) -> Report:
    stmt = select(Opportunity.owner_id, Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount), 0)) \
        .where(opportunity_scope(actor)).group_by(Opportunity.owner_id, Opportunity.stage)
    won: dict[int | None, Decimal] = defaultdict(Decimal)
    pipeline: dict[int | None, Decimal] = defaultdict(Decimal)
    for owner, stage, _, amount in session.execute(stmt):
        if stage == "签约成功":
            won[owner] += Decimal(amount)
        elif stage in OPEN_STAGES:
            pipeline[owner] += Decimal(amount)
    names = {s.id: s.name for s in session.scalars(select(Staff).where(Staff.id.in_(set(won) | set(pipeline))))}
    report = Report("performance", REPORT_TITLES["performance"])
    for owner in sorted(set(won) | set(pipeline), key=lambda o: (-won[o], -pipeline[o])):
        report.rows.append(ReportRow(names.get(owner or -1, "未分配"), float(won[owner]),
                                     f"签约 {_wan(won[owner])} · 在跟 {_wan(pipeline[owner])}"))
    report.notes.append("签约 = 阶段为签约成功的商机金额；在跟 = 未关闭商机金额。")
    return report


def utilization(session: Session, actor: Actor, today: date, department: str | None = None) -> Report:
    horizon = today + timedelta(days=UTILIZATION_DAYS)
    staff_q = select(Staff).where(Staff.active.is_(True), Staff.role.in_(("planner", "designer", "media", "service",
                                                                             "account_manager", "sales")))
    if department:
        staff_q = staff_q.where(Staff.department == department)
    people = list(session.scalars(staff_q.order_by(Staff.department, Staff.name)))
    report = Report("utilization", REPORT_TITLES["utilization"] + (f"｜{department}" if department else ""))
    if not people:
        report.notes.append(f"没有找到部门「{department}」的人员。" if department else "没有可统计的人员。")
        return report
    rows = session.execute(select(Task.assignee_id, Task.due).where(
        task_scope(actor), Task.assignee_id.in_([p.id for p in people]), Task.status.in_(OPEN_TASK_STATUSES)))
    soon: dict[int, int] = defaultdict(int)
    late: dict[int, int] = defaultdict(int)
    for assignee, due in rows:
        if due is None or due <= horizon:
            soon[assignee] += 1
        if due is not None and due < today:
            late[assignee] += 1
    for p in sorted(people, key=lambda p: -soon[p.id]):
        load = soon[p.id] / TASK_CAPACITY
        report.rows.append(ReportRow(p.name, load, f"{load:.0%}（两周内 {soon[p.id]} 项" +
                                     (f"，逾期 {late[p.id]}" if late[p.id] else "") + "）"))
    report.notes.append(f"饱和度 = 两周内到期的未完成任务数 / {TASK_CAPACITY}（按任务估算，不含会议和临时工作）。")
    return report


def build_report(session: Session, actor: Actor, key: str, today: date, *, department: str | None = None) -> Report:
    require(actor, Cap.report_read)
    if key == "utilization":
        return utilization(session, actor, today, department)
    builders = {"funnel": funnel, "ltv": ltv, "rfm": rfm, "payments": payments, "tickets": tickets,
                "performance": performance}
    if key not in builders:
        raise InvalidInput(f"未知报表「{key}」（可选：{'、'.join(REPORT_TITLES.values())}）")
    return builders[key](session, actor, today)
