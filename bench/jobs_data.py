"""A large agency for the push-job benchmark, written with SQLAlchemy Core bulk inserts.

At scale 1.0: 2,000 staff in 50 departments, 100,000 customers, 200,000 projects (about 7 % running,
each running one with a bound group robot), 1,000,000 tasks (five per project; 15 % of a running
project's past-due tasks and 0.2 % of old ones still open), 150,000 opportunities (20 % open, the last
follow-up on average 2.5 days ago), 150,000 contracts with 300,000 instalments (a fifth of those due in
the last six weeks unpaid), 500,000 interactions, 100,000 proposals (versions, views, client comments),
100,000 tickets (2 % open) and 500 cases.
Deterministic for a seed; dates are relative to ``today``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from crm_core.models import (
    Case,
    ChatBinding,
    Contract,
    Customer,
    Interaction,
    Opportunity,
    Payment,
    Project,
    Proposal,
    ProposalAnnotation,
    ProposalVersion,
    ProposalView,
    Staff,
    Task,
    Ticket,
)

INDUSTRIES = ("快消", "美妆", "科技", "文旅", "汽车", "餐饮", "教育")
TITLES = ("需求沟通会", "竞品调研", "策略提案", "创意概念", "主视觉设计", "KV延展", "短视频脚本", "拍摄执行", "后期剪辑",
          "媒介排期表", "达人筛选", "达人内容审核", "投放上线", "数据周报", "效果复盘", "结案报告", "落地页开发",
          "活动物料", "发布会场地", "嘉宾邀约", "直播脚本", "社群运营方案", "H5开发", "海报设计", "文案撰写",
          "预算核对", "合同盖章", "发票申请", "舆情监测", "品牌手册")
KINDS = ("策划", "设计", "媒介", "制作", "执行", "数据", "商务", "运营")
BATCH = 20_000


def _stamp(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _rows(conn: Connection, table: Table, rows: Iterator[dict[str, Any]], progress: Callable[[str, int], None]) -> int:
    batch: list[dict[str, Any]] = []
    n = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            n += len(batch)
            batch = []
            progress(table.name, n)
    if batch:
        conn.execute(table.insert(), batch)
        n += len(batch)
    progress(table.name, n)
    return n


def generate(conn: Connection, today: date, *, scale: float = 1.0, seed: int = 7,
             progress: Callable[[str, int], None] = lambda *_: None) -> dict[str, int]:
    rnd = random.Random(seed)
    n_staff, n_customers = max(60, int(2000 * scale)), max(100, int(100_000 * scale))
    n_projects, n_opps = n_customers * 2, int(n_customers * 1.5)
    n_contracts, n_interactions = int(n_customers * 1.5), n_customers * 5
    n_proposals, n_tickets = n_customers, n_customers
    created = datetime(2023, 1, 1, tzinfo=UTC)
    counts: dict[str, int] = {}
    departments = [f"客户{i}部" for i in range(max(3, n_staff // 40))]
    roles: list[tuple[str, str]] = []
    for i in range(n_staff):
        dept = departments[i % len(departments)]
        role = "manager" if i < len(departments) else rnd.choices(
            ("account_manager", "sales", "planner", "designer", "media", "service"), (30, 20, 15, 20, 10, 5))[0]
        roles.append((role, dept))
    counts["staff"] = _rows(conn, Staff.__table__, ({
        "id": i + 1, "ref": f"S{i + 1}", "name": f"员工{i + 1}", "role": role, "department": dept,
        "wecom_userid": f"u{i + 1}", "dingtalk_userid": f"d{i + 1}", "mobile": None, "skills": [], "active": True,
        "created_at": created, "updated_at": created} for i, (role, dept) in enumerate(roles)), progress)
    sellers = [i + 1 for i, (r, _) in enumerate(roles) if r in ("account_manager", "sales")]
    makers = [i + 1 for i, (r, _) in enumerate(roles) if r in ("planner", "designer", "media")]
    service = [i + 1 for i, (r, _) in enumerate(roles) if r == "service"]
    owner_of = [rnd.choice(sellers) for _ in range(n_customers + 1)]

    def customers() -> Iterator[dict[str, Any]]:
        for cid in range(1, n_customers + 1):
            last = today - timedelta(days=int(rnd.expovariate(1 / 30)))
            yield {"id": cid, "ref": f"C{cid}", "name": f"客户{cid}", "industry": rnd.choice(INDUSTRIES),
                   "owner_id": owner_of[cid], "tier": rnd.choices(("战略级", "成长级", "常规级"), (1, 3, 6))[0],
                   "budget_level": rnd.choice(("高", "中", "低")), "custom_fields": {}, "consent": True,
                   "status": "已流失" if rnd.random() < 0.05 else "合作中",
                   "last_contact_at": _stamp(last) if rnd.random() < 0.9 else None, "version": 1,
                   "created_at": created, "updated_at": created}
    counts["customers"] = _rows(conn, Customer.__table__, customers(), progress)

    projects: list[tuple[int, date, date, bool]] = []

    def project_rows() -> Iterator[dict[str, Any]]:
        for pid in range(1, n_projects + 1):
            cid = rnd.randint(1, n_customers)
            start = today - timedelta(days=rnd.randint(0, 1000))
            end = start + timedelta(days=rnd.randint(30, 120))
            running = end >= today
            projects.append((pid, start, end, running))
            yield {"id": pid, "ref": f"P{pid}", "name": f"项目{pid}", "customer_id": cid, "manager_id": owner_of[cid],
                   "status": "进行中" if running else "已完成", "start": start, "end": end, "budget": None,
                   "created_at": _stamp(start), "updated_at": _stamp(start)}
    counts["projects"] = _rows(conn, Project.__table__, project_rows(), progress)
    counts["chat_bindings"] = _rows(conn, ChatBinding.__table__, ({
        "id": pid, "ref": f"G{pid}", "channel": "wecom" if pid % 10 < 7 else "dingtalk", "chat_id": f"grp{pid}",
        "name": f"项目{pid}群", "kind": "project_group", "project_id": pid, "customer_id": None,
        "webhook_url": f"https://robot.example/{pid}", "webhook_secret": None,
        "created_at": created, "updated_at": created} for pid, _, _, running in projects if running), progress)

    def tasks() -> Iterator[dict[str, Any]]:
        tid = 0
        for pid, start, end, _ in projects:
            span = (end - start).days
            for k in range(5):
                tid += 1
                due = start + timedelta(days=span * (k + 1) // 6)
                made = start - timedelta(days=1)
                late = due < today
                done = (rnd.random() < 0.998) if due < today - timedelta(days=14) else (late and rnd.random() < 0.85)
                finished = min(due + timedelta(days=rnd.randint(-3, 4)), today - timedelta(days=1))
                yield {"id": tid, "ref": f"T{tid}", "project_id": pid, "title": rnd.choice(TITLES), "kind": rnd.choice(KINDS),
                       "assignee_id": rnd.choice(makers), "creator_id": None, "due": due,
                       "status": "已完成" if done else rnd.choice(("待办", "进行中")),
                       "completed_at": _stamp(max(finished, made + timedelta(days=1)), 18) if done else None,
                       "version": 1, "created_at": _stamp(made), "updated_at": _stamp(made)}
    counts["tasks"] = _rows(conn, Task.__table__, tasks(), progress)
    projects.clear()

    counts["opportunities"] = _rows(conn, Opportunity.__table__, ({
        "id": oid, "ref": f"O{oid}", "customer_id": (cid := rnd.randint(1, n_customers)), "name": f"商机{oid}",
        "stage": rnd.choices(("需求确认", "方案报价", "合同谈判", "签约成功", "输单"), (8, 7, 5, 50, 30))[0],
        "amount": rnd.randint(5, 500) * 10_000, "owner_id": owner_of[cid], "expected_close": None,
        "last_followup_at": _stamp(today - timedelta(days=min(30, int(rnd.expovariate(1 / 2.5))))), "closed_at": None,
        "version": 1,
        "created_at": created, "updated_at": created} for oid in range(1, n_opps + 1)), progress)

    contract_dates: list[date] = []

    def contracts() -> Iterator[dict[str, Any]]:
        for kid in range(1, n_contracts + 1):
            cid = rnd.randint(1, n_customers)
            signed = today - timedelta(days=rnd.randint(0, 1100))
            contract_dates.append(signed)
            yield {"id": kid, "ref": f"K{kid}", "customer_id": cid, "opportunity_id": None, "owner_id": owner_of[cid],
                   "title": f"合同{kid}", "amount": rnd.randint(10, 800) * 10_000, "signed_at": signed,
                   "start": signed + timedelta(days=3), "end": signed + timedelta(days=365), "status": "履行中",
                   "created_at": created, "updated_at": created}
    counts["contracts"] = _rows(conn, Contract.__table__, contracts(), progress)

    def payments() -> Iterator[dict[str, Any]]:
        pid = 0
        for kid, signed in enumerate(contract_dates, start=1):
            for seq, offset in ((1, 30), (2, 300)):
                pid += 1
                due = signed + timedelta(days=offset)
                paid = due < today - timedelta(days=45) or (due < today and rnd.random() < 0.8)
                yield {"id": pid, "ref": f"PM{pid}", "contract_id": kid, "seq": seq, "due": due, "amount": 100_000,
                       "paid_amount": 100_000 if paid else 0, "paid_at": due + timedelta(days=rnd.randint(-5, 20)) if paid else None,
                       "status": "已收" if paid else "待收", "created_at": created, "updated_at": created}
    counts["payments"] = _rows(conn, Payment.__table__, payments(), progress)
    contract_dates.clear()

    counts["interactions"] = _rows(conn, Interaction.__table__, ({
        "id": i, "ref": None, "customer_id": rnd.randint(1, n_customers), "staff_id": None, "contact_id": None,
        "kind": "电话", "summary": "沟通进展", "channel": None,
        "occurred_at": _stamp(today - timedelta(days=int(rnd.expovariate(1 / 60))))} for i in range(1, n_interactions + 1)),
        progress)
    proposal_days = [today - timedelta(days=rnd.randint(1, 700)) for _ in range(n_proposals)]
    counts["proposals"] = _rows(conn, Proposal.__table__, ({
        "id": i + 1, "ref": f"PR{i + 1}", "customer_id": rnd.randint(1, n_customers), "project_id": None,
        "opportunity_id": None, "owner_id": None, "title": f"方案{i + 1}", "created_at": _stamp(day),
        "updated_at": _stamp(day)} for i, day in enumerate(proposal_days)), progress)
    counts["proposal_versions"] = _rows(conn, ProposalVersion.__table__, ({
        "id": i + 1, "proposal_id": i + 1, "number": 1, "change_note": None, "created_at": _stamp(day)}
        for i, day in enumerate(proposal_days)), progress)
    counts["proposal_views"] = _rows(conn, ProposalView.__table__, ({
        "version_id": i + 1, "contact_id": None, "viewed_at": _stamp(day + timedelta(days=1)), "seconds": 60}
        for i, day in enumerate(proposal_days) if rnd.random() < 0.6), progress)
    counts["proposal_annotations"] = _rows(conn, ProposalAnnotation.__table__, ({
        "version_id": i + 1, "contact_id": None, "text": "请补充竞品案例",
        "created_at": _stamp(day + timedelta(days=rnd.randint(0, 10)))}
        for i, day in enumerate(proposal_days) if rnd.random() < 0.3), progress)
    proposal_days.clear()

    def tickets() -> Iterator[dict[str, Any]]:
        for i in range(1, n_tickets + 1):
            is_open = rnd.random() < 0.02
            made = today - timedelta(days=rnd.randint(0, 3) if is_open else rnd.randint(3, 700))
            sla = _stamp(made, 10) + timedelta(hours=rnd.choice((4, 24, 48)))
            yield {"id": i, "ref": f"TK{i}", "number": 100_000 + i, "customer_id": rnd.randint(1, n_customers),
                   "contact_id": None, "title": rnd.choice(("报告数据对不上", "投诉：排期延误", "发票问题", "素材授权")),
                   "category": rnd.choice(("数据", "投诉", "财务", "版权")), "priority": rnd.choice(("低", "中", "高", "紧急")),
                   "status": rnd.choice(("待处理", "处理中")) if is_open else "已解决",
                   "assignee_id": rnd.choice(service) if service else None, "created_by_staff_id": None, "source": None,
                   "sla_due_at": sla, "resolved_at": None if is_open else sla - timedelta(hours=1), "csat": None,
                   "created_at": _stamp(made), "updated_at": _stamp(made)}
    counts["tickets"] = _rows(conn, Ticket.__table__, tickets(), progress)
    counts["cases"] = _rows(conn, Case.__table__, ({
        "id": i, "ref": f"CASE{i}", "title": f"案例{i}", "industry": rnd.choice(INDUSTRIES), "format": "短视频",
        "channels": ["抖音"], "year": 2025, "period": None, "budget": None, "client": None, "description": None,
        "metrics": {"转化率": f"{(cvr := rnd.uniform(0.5, 9)):.1f}%"}, "metrics_norm": {"cvr": cvr / 100},
        "customer_id": None, "created_at": created, "updated_at": created} for i in range(1, 501)), progress)
    return counts
