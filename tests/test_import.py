"""The importer against a real database: upsert by ref, row-level all-or-nothing, audit, idempotence.

Every test runs on SQLite, and on PostgreSQL too when CRMBOT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core import audit
from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.errors import InvalidInput, PermissionDenied
from crm_core.importing import KINDS, ImportReport, import_path, import_rows, rows_from_dicts
from crm_core.importing.base import RowError
from crm_core.models import (
    AuditLog,
    CalendarBlock,
    Case,
    ChatBinding,
    Contact,
    Customer,
    CustomerTag,
    Interaction,
    KBArticle,
    Lead,
    Opportunity,
    Payment,
    Project,
    ProjectMember,
    Proposal,
    Staff,
    Tag,
    TalentProfile,
    Task,
    Ticket,
)
from crm_core.services.identity import resolve_actor

FIXTURES = Path(__file__).parent / "fixtures" / "import"
WORLD = FIXTURES / "world"
EVALS = Path(__file__).resolve().parents[2] / "shared" / "evals"
PG_URL = os.environ.get("CRMBOT_TEST_POSTGRES_URL", "")
SYSTEM = Actor.system(channel="cli", name="cli")
WORLD_COUNTS = {"staff": 6, "customers": 2, "contacts": 2, "leads": 2, "opportunities": 2, "projects": 2,
                "chat_bindings": 2, "tasks": 3, "talents": 2, "contracts": 1, "payments": 2, "proposals": 1,
                "interactions": 2, "tickets": 2, "cases": 1, "kb": 1}
needs_evals = pytest.mark.skipif(not EVALS.is_dir(), reason="shared/evals not beside the repository")


def load(db: Database, kind: str, path: Path | str | None = None, actor: Actor = SYSTEM) -> ImportReport:
    return import_path(db, path or WORLD / f"{kind}.jsonl", kind, actor)


def load_world(db: Database) -> dict[str, ImportReport]:
    return {kind: load(db, kind) for kind in KINDS}


def rows(db: Database, kind: str, records: list[dict], actor: Actor = SYSTEM) -> ImportReport:
    with db.unit_of_work() as s:
        return import_rows(s, kind, rows_from_dicts(kind, records, source="test"), actor)


def count(db: Database, model: type) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def by_ref(s, model, ref):
    return s.scalars(select(model).where(model.ref == ref)).one()


def updated_stamps(s) -> set[tuple[str, str, datetime]]:
    return {(m.__tablename__, r, v) for m in (Staff, Customer, Project, Task, Opportunity)
            for r, v in s.execute(select(m.ref, m.updated_at))}


def staff_actor(db: Database, wecom_userid: str) -> Actor:
    with db.unit_of_work() as s:
        return resolve_actor(s, "console", wecom_userid)


# --- the contract's acceptance cases -----------------------------------------------------------


@needs_evals
def test_world_a_in_readme_order_then_reimport_writes_nothing(db):
    order = [("staff", Staff, 12), ("customers", Customer, 15), ("projects", Project, 10), ("tasks", Task, 30),
             ("opportunities", Opportunity, 10)]
    for kind, model, n in order:
        report = load(db, kind, EVALS / "nlu" / f"{kind}.jsonl")
        assert (report.created, report.failed, report.errors) == (n, 0, [])
        assert count(db, model) == n
    with db.unit_of_work() as s:
        customer = by_ref(s, Customer, "C-A01")
        assert customer.owner.ref == "S-A01" and customer.tier == "战略级" and customer.industry == "科技"
        assert set(customer.tag_names) == {"SaaS", "B2B", "品牌升级"}
        assert {link.source for link in customer.tag_links} == {"import"}
        assert by_ref(s, Project, "P-A01").budget == Decimal(800000)
        assert by_ref(s, Task, "T-A01").due == date(2026, 11, 27)
        stamps = updated_stamps(s)
        audits = s.scalar(select(func.count()).select_from(AuditLog))
        tags = s.scalar(select(func.count()).select_from(Tag))
        assert audits == 12 + 15 + 10 + 30 + 10

    for kind, model, n in order:
        report = load(db, kind, EVALS / "nlu" / f"{kind}.jsonl")
        assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, n, 0)
        assert count(db, model) == n
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audits
        assert updated_stamps(s) == stamps
        assert s.scalar(select(func.count()).select_from(Tag)) == tags


def test_broken_json_line_and_unknown_owner_are_reported_and_the_rest_loads(db, monkeypatch):
    load(db, "staff")
    monkeypatch.chdir(FIXTURES)
    report = import_path(db, "broken_customers.jsonl", "customers", SYSTEM)  # file as given on the command line
    assert (report.created, report.failed) == (2, 5)
    errors = report.errors
    assert errors[0].startswith("broken_customers.jsonl:3: 不是有效的 JSON")
    assert errors[1:] == [
        "broken_customers.jsonl:4: 负责人 S-404 不存在",
        "broken_customers.jsonl:6: 应为 JSON 对象（{…}），实际是列表",
        "broken_customers.jsonl:7: 缺少字段 name",
        'broken_customers.jsonl:8: 未知客户等级 "钻石级"（可选：战略级/成长级/常规级）',
    ]
    with db.unit_of_work() as s:
        assert set(s.scalars(select(Customer.ref))) == {"C-201", "C-203"}
        assert s.scalars(select(Tag).where(Tag.name == "饮料")).first() is None  # C-202's tag: never written


def test_a_row_is_all_or_nothing_even_after_its_record_was_flushed(db, monkeypatch):
    load(db, "staff")
    real_record = audit.record

    def failing_record(session, actor, action, entity, before, after):
        if getattr(entity, "ref", None) == "C-302":
            raise RowError("模拟的故障")
        return real_record(session, actor, action, entity, before, after)

    monkeypatch.setattr(audit, "record", failing_record)
    report = rows(db, "customers", [
        {"ref": "C-301", "name": "甲", "owner": "S-002", "tags": ["共用标签"]},
        {"ref": "C-302", "name": "乙", "owner": "S-002", "tags": ["共用标签", "只属于乙"]},
        {"ref": "C-303", "name": "丙", "owner": "S-002", "tags": ["共用标签"]},
    ])
    assert (report.created, report.failed, report.errors) == (2, 1, ["test/customers:2: 模拟的故障"])
    with db.unit_of_work() as s:
        assert set(s.scalars(select(Customer.ref))) == {"C-301", "C-303"}
        assert set(s.scalars(select(Tag.name))) == {"共用标签"}
        assert s.scalar(select(func.count()).select_from(CustomerTag)) == 2
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity_ref == "C-302")) == 0


def test_an_unknown_member_keeps_the_whole_project_out(db):
    for kind in ("staff", "customers"):
        load(db, kind)
    report = rows(db, "projects", [
        {"ref": "P-9", "name": "新项目", "customer": "C-001", "members": ["S-003", "S-999"]},
    ])
    assert report.errors == ["test/projects:1: 项目成员 S-999 不存在"]
    assert count(db, Project) == 0 and count(db, ProjectMember) == 0


def test_csv_customers_with_list_and_object_columns(db):
    load(db, "staff")
    path = str(FIXTURES / "customers.csv")
    report = load(db, "customers", path)
    assert (report.created, report.failed) == (3, 1)
    assert report.errors == [f"{path}:6: 负责人 S-404 不存在"]
    with db.unit_of_work() as s:
        c101, c102, c104 = (by_ref(s, Customer, r) for r in ("C-101", "C-102", "C-104"))
        assert set(c101.tag_names) == {"SaaS", "B2B", "品牌升级"}
        assert c101.custom_fields == {"来源": "转介绍"} and c101.consent is True
        assert (c101.industry, c101.tier, c101.budget_level, c101.owner.ref) == ("科技", "战略级", "高", "S-002")
        assert c102.name == "澜山\n茶饮" and set(c102.tag_names) == {"门店", "年轻化"}
        assert (c102.industry, c102.tier, c102.budget_level, c102.consent) == ("餐饮", "成长级", "低", False)
        assert set(c104.tag_names) == {"K12", "在线"} and c104.industry == "教育" and c104.owner_id is None


def test_markdown_folder_of_kb_articles(db):
    folder = str(FIXTURES / "kb_md")
    report = load(db, "kb", folder)
    assert (report.created, report.failed) == (2, 1)
    assert report.errors == [f"{folder}/no-front-matter.md:1: 缺少字段 title"]
    with db.unit_of_work() as s:
        article = by_ref(s, KBArticle, "invoice-title")
        assert (article.title, article.category, article.tags) == ("发票抬头填写规范", "发票", ["发票", "抬头"])
        assert article.body.startswith("发票抬头须与贵司营业执照")
        assert by_ref(s, KBArticle, "KB-MD-REFUND").tags == ["退款", "财务"]
    assert load(db, "kb", folder).unchanged == 2


@needs_evals
def test_retrieval_kb_and_cases_with_normalised_metrics(db):
    assert load(db, "kb", EVALS / "retrieval" / "kb.jsonl").created == 60
    assert load(db, "cases", EVALS / "retrieval" / "cases.jsonl").created == 40
    load(db, "cases")  # the fixture case: "转化率": "5.6%", "ROI": "1:3.5"
    with db.unit_of_work() as s:
        first = by_ref(s, Case, "case-001")
        assert first.metrics == {"播放量": "3.2亿", "参与视频": "12万条", "CTR": "4.1%", "ROI": "3.2"}
        assert first.metrics_norm == {"impressions": 320000000.0, "ctr": 0.041, "roi": 3.2}
        assert first.industry == "快消-饮料" and first.channels == ["抖音"] and first.year == 2024
        assert by_ref(s, Case, "case-020").metrics_norm == {"cpl": 150.0, "cvr": 0.09}
        fixture = by_ref(s, Case, "CS-001")
        assert fixture.metrics_norm == {"ctr": 0.041, "cvr": 0.056, "roi": 3.5, "impressions": 320000000.0,
                                        "cpl": 150.0}
        assert fixture.metrics["参与视频"] == "12万条"  # unknown metrics stay for display
        assert (fixture.industry, fixture.channels, fixture.budget) == ("快消", ["抖音", "小红书"], Decimal(500000))
        assert s.scalar(select(func.count()).select_from(KBArticle)) == 60


def test_import_needs_the_data_import_capability(db):
    load(db, "staff")
    for userid in ("chenkehu", "zhoujingli", "zhaocehua"):  # account manager, manager, planner
        actor = staff_actor(db, userid)
        with pytest.raises(PermissionDenied):
            load(db, "customers", actor=actor)
        with db.unit_of_work() as s, pytest.raises(PermissionDenied):
            import_rows(s, "customers", [], actor)
    with pytest.raises(PermissionDenied):
        load(db, "customers", actor=Actor.guest("x", "wecom"))
    assert count(db, Customer) == 0
    assert load(db, "customers", actor=staff_actor(db, "wangguanli")).created == 2  # admin


def test_audit_rows_carry_actor_action_before_after_and_channel(db):
    load(db, "staff")
    admin = staff_actor(db, "wangguanli")
    load(db, "customers", actor=admin)
    with db.unit_of_work() as s:
        created = list(s.scalars(select(AuditLog).where(AuditLog.entity_type == "customers")))
        assert len(created) == 2
        row = next(r for r in created if r.entity_ref == "C-001")
        assert (row.action, row.channel, row.actor, row.actor_staff_id) == (
            "import.create", "import", "staff:S-001:王管理", admin.staff_id)
        assert row.before is None and row.after["name"] == "花屿美妆" and row.after["tags"] == ["国潮", "直播"]
        assert row.entity_id == by_ref(s, Customer, "C-001").id

    report = rows(db, "customers", [{"ref": "C-001", "name": "花屿美妆", "tier": "成长级"}], actor=admin)
    assert (report.updated, report.unchanged) == (1, 0)
    with db.unit_of_work() as s:
        (row,) = s.scalars(select(AuditLog).where(AuditLog.action == "import.update"))
        assert (row.before["tier"], row.after["tier"], row.channel) == ("战略级", "成长级", "import")
        assert row.before["tags"] == row.after["tags"]  # no "tags" in the row: tags left alone


# --- every kind ------------------------------------------------------------------------------


def test_every_kind_loads_in_order_and_reloads_as_unchanged(db):
    reports = load_world(db)
    assert {k: (r.created, r.errors) for k, r in reports.items()} == {k: (n, []) for k, n in WORLD_COUNTS.items()}
    with db.unit_of_work() as s:
        audits = s.scalar(select(func.count()).select_from(AuditLog))
    assert audits == sum(WORLD_COUNTS.values())
    again = load_world(db)
    assert {k: (r.created, r.updated, r.unchanged, r.failed) for k, r in again.items()} == {
        k: (0, 0, n, 0) for k, n in WORLD_COUNTS.items()}
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_every_kind_is_normalised_and_linked(db):
    load_world(db)
    utc = UTC
    with db.unit_of_work() as s:
        ids = {r: i for r, i in s.execute(select(Staff.ref, Staff.id))}
        am = by_ref(s, Staff, "S-002")
        assert (am.role, am.mobile, am.skills) == ("account_manager", "13800000002", ["品牌", "整合营销"])
        assert by_ref(s, Staff, "S-005").role == "service" and by_ref(s, Staff, "S-006").role == "manager"

        c1, c2 = by_ref(s, Customer, "C-001"), by_ref(s, Customer, "C-002")
        assert (c1.industry, c1.tier, c1.budget_level, c1.custom_fields) == ("美妆", "战略级", "高", {"来源": "展会"})
        assert (c2.industry, c2.tier, set(c2.tag_names)) == ("餐饮", "成长级", {"门店", "年轻化"})
        assert by_ref(s, Contact, "CT-001").customer_id == c1.id

        l1, l2 = by_ref(s, Lead, "L-001"), by_ref(s, Lead, "L-002")
        assert (l1.amount, l1.industry, l1.status) == (Decimal(500000), "文旅", "待分配")
        assert (l2.amount, l2.industry, l2.owner_id) == (Decimal(50000), "教育", ids["S-002"])
        assert l2.claimed_at == datetime(2026, 11, 20, 1, 30, tzinfo=utc)  # naive → Asia/Shanghai

        o1, o2 = by_ref(s, Opportunity, "O-001"), by_ref(s, Opportunity, "O-002")
        assert (o1.stage, o1.amount, o1.expected_close) == ("方案报价", Decimal(1200000), date(2026, 12, 31))
        assert o1.last_followup_at == datetime(2026, 11, 20, 7, tzinfo=utc)
        assert (o2.stage, o2.expected_close) == ("签约成功", date(2026, 11, 15))

        p1 = by_ref(s, Project, "P-001")
        assert {m.staff.ref for m in p1.members} == {"S-003", "S-004"} and p1.budget == Decimal(450000)
        assert by_ref(s, Project, "P-002").status == "筹备中"

        g1, g2 = by_ref(s, ChatBinding, "G-001"), by_ref(s, ChatBinding, "G-002")
        assert (g1.channel, g1.kind, g1.project_id, g1.customer_id) == ("wecom", "project_group", p1.id, c1.id)
        assert (g2.channel, g2.kind, g2.customer_id, g2.project_id) == ("dingtalk", "client_service", c2.id, None)

        todo = by_ref(s, Task, "T-003")
        assert (todo.project_id, todo.status, todo.assignee_id) == (None, "已完成", ids["S-002"])
        assert todo.completed_at == datetime(2026, 11, 24, 10, tzinfo=utc)

        talent = s.scalars(select(TalentProfile).where(TalentProfile.staff_id == ids["S-003"])).one()
        assert (talent.satisfaction, talent.styles, talent.level) == (4.6, ["国潮", "年轻化"], "高级")
        assert [(b.start, b.end, b.kind, b.note) for b in talent.calendar] == [
            (date(2026, 11, 26), date(2026, 11, 26), "booked", "花屿直播彩排"),
            (date(2026, 12, 1), date(2026, 12, 5), "leave", "年假"),
        ]

        pm1, pm2 = by_ref(s, Payment, "PM-001"), by_ref(s, Payment, "PM-002")
        assert (pm1.status, pm1.paid_amount, pm1.paid_at) == ("已收", Decimal(300000), date(2026, 11, 14))
        assert (pm2.status, pm2.paid_amount, pm2.seq) == ("待收", Decimal(0), 2)

        proposal = by_ref(s, Proposal, "PR-001")
        v1, v2 = proposal.versions
        assert (v1.number, v1.change_note, v1.created_at) == (1, "初版", datetime(2026, 11, 1, 2, tzinfo=utc))
        assert [a.text for a in v1.annotations] == ["主视觉颜色再亮一些", "预算拆分请细化"]
        assert v1.annotations[0].created_at == v1.created_at
        assert v1.annotations[1].contact_id == by_ref(s, Contact, "CT-001").id
        assert [(w.seconds, w.viewed_at) for w in v1.views] == [(240, datetime(2026, 11, 2, 0, 30, tzinfo=utc))]
        assert v2.created_at == proposal.created_at and v2.views[0].viewed_at == v2.created_at

        i1 = by_ref(s, Interaction, "I-001")
        assert (i1.kind, i1.contact_id, i1.staff_id) == ("电话", by_ref(s, Contact, "CT-001").id, ids["S-002"])
        assert c1.last_contact_at == datetime(2026, 11, 20, 7, tzinfo=utc)
        assert by_ref(s, Interaction, "I-002").kind == "拜访"

        t1, t2 = by_ref(s, Ticket, "TK-2031"), by_ref(s, Ticket, "TK-ABC")
        assert (t1.number, t1.priority, t1.status, t1.source) == (2031, "高", "处理中", "import")
        assert t1.sla_due_at == t1.created_at + timedelta(hours=8) == datetime(2026, 11, 24, 9, tzinfo=utc)
        assert [(n.text, n.internal) for n in t1.notes] == [("已联系客户确认问题", True), ("平台侧已修复，待客户确认", False)]
        assert (t2.number, t2.status, t2.csat, t2.sla_due_at) == (2032, "已解决", 5, None)


def test_reimport_updates_what_changed_and_reconciles_children(db):
    load_world(db)
    with db.unit_of_work() as s:
        c1 = by_ref(s, Customer, "C-001")
        stamp = c1.updated_at
        c1.tag_links.append(CustomerTag(tag=Tag(name="老客户"), source="manual"))
    assert rows(db, "customers", [{"ref": "C-001", "name": "花屿美妆", "tags": ["国潮", "新品"]}]).updated == 1
    assert rows(db, "projects", [{"ref": "P-001", "name": "花屿美妆双12直播", "customer": "C-001",
                                  "members": "S-003"}]).updated == 1
    assert rows(db, "talents", [{"ref": "S-003", "calendar": [
        {"start": "2026-12-01", "end": "2026-12-05", "kind": "leave", "note": "调休"}]}]).updated == 1
    assert rows(db, "proposals", [{"ref": "PR-001", "customer": "C-001", "title": "花屿美妆双12直播方案",
                                   "versions": [{"no": 1, "change_note": "唯一版本"}]}]).updated == 1
    assert rows(db, "tickets", [{"ref": "TK-2031", "customer": "C-001", "title": "直播回放链接打不开",
                                 "notes": ["新备注"], "status": "已解决"}]).updated == 1
    with db.unit_of_work() as s:
        c1 = by_ref(s, Customer, "C-001")
        assert {(lk.tag.name, lk.source) for lk in c1.tag_links} == {
            ("国潮", "import"), ("新品", "import"), ("老客户", "manual")}
        assert c1.updated_at == stamp  # only the tag links changed
        assert {m.staff.ref for m in by_ref(s, Project, "P-001").members} == {"S-003"}
        staff_id = by_ref(s, Staff, "S-003").id
        assert [(b.kind, b.note) for b in s.scalars(select(CalendarBlock))
                if b.profile.staff_id == staff_id] == [("leave", "调休")]
        proposal = by_ref(s, Proposal, "PR-001")
        assert [(v.number, v.change_note, len(v.views)) for v in proposal.versions] == [(1, "唯一版本", 0)]
        ticket = by_ref(s, Ticket, "TK-2031")
        assert (ticket.number, ticket.status, [n.text for n in ticket.notes]) == (2031, "已解决", ["新备注"])
        updates = {r.entity_type: r for r in s.scalars(select(AuditLog).where(AuditLog.action == "import.update"))}
        assert set(updates) == {"customers", "projects", "talent_profiles", "proposals", "tickets"}
        assert updates["customers"].before["tags"] == ["国潮", "直播", "老客户"]
        assert updates["customers"].after["tags"] == ["国潮", "新品", "老客户"]
        assert updates["talent_profiles"].after["staff"] == "S-003"

    # the same rows again: nothing to do
    assert rows(db, "customers", [{"ref": "C-001", "name": "花屿美妆", "tags": ["国潮", "新品"]}]).unchanged == 1
    assert rows(db, "talents", [{"ref": "S-003", "calendar": [
        {"start": "2026-12-01", "end": "2026-12-05", "kind": "leave", "note": "调休"}]}]).unchanged == 1


def test_an_updated_record_gets_a_new_updated_at(db):
    load(db, "staff")
    with db.unit_of_work() as s:
        before = by_ref(s, Staff, "S-002").updated_at
    assert rows(db, "staff", [{"ref": "S-002", "name": "陈客户", "role": "sales"}]).updated == 1
    with db.unit_of_work() as s:
        staff = by_ref(s, Staff, "S-002")
        assert staff.role == "sales" and staff.updated_at > before
        assert staff.wecom_userid == "chenkehu"  # absent fields are left alone


# --- row errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "record", "reason"), [
    ("opportunities", {"ref": "O-9", "customer": "C-X99", "name": "x"}, "客户 C-X99 不存在"),
    ("opportunities", {"ref": "O-9", "customer": "C-001", "name": "x", "stage": "xx"},
     '未知阶段 "xx"（可选：需求确认/方案报价/合同谈判/签约成功/输单）'),
    ("opportunities", {"ref": "O-9", "customer": "C-001", "name": "x", "owner": "S-404"}, "负责人 S-404 不存在"),
    ("opportunities", {"ref": "O-9", "customer": "C-001", "name": "x", "amount": "很多"},
     "字段 amount：无法识别的金额「很多」，请写成 500000、50万 或 5w 这样的形式"),
    ("opportunities", {"ref": "O-9", "customer": "C-001", "name": "x", "amount": "-5万"},
     "字段 amount：金额不能为负数（-5万）"),
    ("opportunities", {"customer": "C-001", "name": "x"}, "缺少字段 ref"),
    ("opportunities", {"ref": "O-9", "customer": "C-001", "name": "  "}, "缺少字段 name"),
    ("tasks", {"ref": "T-9", "title": "x", "due": "下周"}, "字段 due：无法识别的日期「下周」，请使用 YYYY-MM-DD"),
    ("tasks", {"ref": "T-9", "title": "x", "project": "P-404"}, "项目 P-404 不存在"),
    ("tasks", {"ref": "T-9", "title": "x", "status": "搁置"}, '未知任务状态 "搁置"（可选：待办/进行中/已完成/已取消）'),
    ("staff", {"ref": "S-9", "name": "x", "role": "CEO"},
     '未知角色 "CEO"（可选：admin/manager/account_manager/sales/planner/designer/media/service/viewer）'),
    ("staff", {"ref": "S-9", "name": "x", "role": "sales", "wecom_userid": "chenkehu"},
     "字段 wecom_userid 的值 chenkehu 已被 S-002 使用"),
    ("staff", {"ref": "S-9", "name": "x" * 65, "role": "sales"}, "字段 name 过长（最多 64 个字符）"),
    ("customers", {"ref": "C-9", "name": "x", "tags": ["y" * 33]}, f"标签「{'y' * 33}」过长（最多 32 个字符）"),
    ("customers", {"ref": "C-9", "name": "x", "custom_fields": "nope"}, "字段 custom_fields：应为 JSON 对象（{…}）"),
    ("projects", {"ref": "P-9", "name": "x", "customer": "C-001", "start": "2026-12-01", "end": "2026-11-01"},
     "结束日期 2026-11-01 早于开始日期 2026-12-01"),
    ("talents", {"ref": "S-404"}, "员工 S-404 不存在"),
    ("talents", {"ref": "S-003", "satisfaction": 6}, "字段 satisfaction：应在 0–5 之间，收到 6.0"),
    ("talents", {"ref": "S-003", "calendar": [{"start": "2026-12-01", "kind": "度假"}]},
     '未知日程类型 "度假"（可选：leave/booked）'),
    ("talents", {"ref": "S-003", "calendar": [{"kind": "leave"}]}, "缺少字段 calendar[1].start"),
    ("interactions", {"ref": "I-9", "customer": "C-002", "summary": "x", "contact": "CT-001"},
     "联系人 CT-001 不属于客户 C-002"),
    ("chat_bindings", {"ref": "G-9", "channel": "wecom", "chat_id": "wrChat001"}, "群 wecom/wrChat001 已绑定为 G-001"),
    ("chat_bindings", {"ref": "G-9", "channel": "飞书", "chat_id": "x"}, '未知渠道 "飞书"（可选：wecom/dingtalk/console）'),
    ("payments", {"ref": "PM-9", "contract": "K-404", "due": "2026-12-01", "amount": 1}, "合同 K-404 不存在"),
    ("proposals", {"ref": "PR-9", "customer": "C-001", "title": "x", "versions": [{"no": 1}, {"no": 1}]},
     "版本号重复：[1, 1]"),
    ("proposals", {"ref": "PR-9", "customer": "C-001", "title": "x", "versions": [{"views": [{"contact": "CT-9"}]}]},
     "联系人 CT-9 不存在"),
    ("tickets", {"ref": "TK-9", "customer": "C-001", "title": "x", "csat": 9}, "字段 csat：应在 1–5 之间，收到 9"),
    ("cases", {"ref": "CS-9", "title": "x", "year": "去年"}, "字段 year：应为整数，收到「去年」"),
])
def test_row_errors_are_specific_and_in_chinese(db, kind, record, reason):
    load_world(db)
    with db.unit_of_work() as s:
        audits = s.scalar(select(func.count()).select_from(AuditLog))
    report = rows(db, kind, [record])
    assert report.errors == [f"test/{kind}:1: {reason}"]
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_ticket_numbers_follow_the_ref_or_the_maximum(db):
    load(db, "staff")
    load(db, "customers")
    report = rows(db, "tickets", [
        {"ref": "TK-0007", "customer": "C-001", "title": "a"},
        {"ref": "OTHER-7", "customer": "C-001", "title": "b"},  # 7 is taken → max + 1
        {"ref": "无编号", "customer": "C-001", "title": "c", "priority": "紧急"},
    ])
    assert report.created == 3
    with db.unit_of_work() as s:
        numbers = {t.ref: t.number for t in s.scalars(select(Ticket))}
        assert numbers == {"TK-0007": 7, "OTHER-7": 8, "无编号": 9}
        urgent = by_ref(s, Ticket, "无编号")
        assert urgent.sla_due_at == urgent.created_at + timedelta(hours=4)  # the service's default SLA


def test_unknown_kind_and_missing_file(db, tmp_path):
    with pytest.raises(InvalidInput, match="未知类型 robots"):
        import_path(db, WORLD / "staff.jsonl", "robots", SYSTEM)
    with pytest.raises(InvalidInput, match="文件不存在"):
        import_path(db, tmp_path / "nope.jsonl", "staff", SYSTEM)


def test_progress_is_reported_per_row(db):
    seen: list[int] = []
    with db.unit_of_work() as s:
        import_rows(s, "staff", rows_from_dicts("staff", [{"ref": "S-1", "name": "a", "role": "sales"}, {}]), SYSTEM,
                    progress=seen.append)
    assert seen == [1, 1]


def test_150_customers_and_600_tasks_import_quickly(db):
    staff = [{"ref": f"S-{i}", "name": f"员工{i}", "role": "account_manager"} for i in range(10)]
    customers = [{"ref": f"C-{i}", "name": f"客户{i}", "owner": f"S-{i % 10}", "industry": "化妆品", "tier": "A类",
                  "tags": [f"标签{i % 7}", "批量"]} for i in range(150)]
    projects = [{"ref": f"P-{i}", "name": f"项目{i}", "customer": f"C-{i}", "members": [f"S-{i % 10}"]}
                for i in range(150)]
    tasks = [{"ref": f"T-{i}", "title": f"任务{i}", "project": f"P-{i % 150}", "assignee": f"S-{i % 10}",
              "due": "2026-12-01", "status": "待办"} for i in range(600)]
    rows(db, "staff", staff)
    started = time.perf_counter()
    assert rows(db, "customers", customers).created == 150
    rows(db, "projects", projects)
    assert rows(db, "tasks", tasks).created == 600
    elapsed = time.perf_counter() - started
    assert elapsed < 8, f"import took {elapsed:.1f}s"
    started = time.perf_counter()
    assert rows(db, "tasks", tasks).unchanged == 600
    assert time.perf_counter() - started < 4


def test_a_database_error_rolls_back_that_row_only(db, monkeypatch):
    """A constraint the loaders do not pre-check still costs one row, not the import (PostgreSQL aborts
    the whole transaction on an error unless the row ran in its own savepoint)."""
    from crm_core.importing import loaders

    real = loaders.LOADERS["staff"]

    def clashing(ctx, f):
        if f.data["ref"] == "S-2":
            ctx.session.add_all([Staff(ref="S-2", name="甲", role="sales", wecom_userid="same"),
                                 Staff(ref="S-2b", name="乙", role="sales", wecom_userid="same")])
            ctx.session.flush()
        return real(ctx, f)

    monkeypatch.setitem(loaders.LOADERS, "staff", clashing)
    report = rows(db, "staff", [{"ref": f"S-{i}", "name": f"员工{i}", "role": "sales"} for i in (1, 2, 3)])
    assert (report.created, report.failed) == (2, 1)
    assert report.errors == ["test/staff:2: 与已有数据冲突（唯一字段重复或引用无效），该行未写入"]
    with db.unit_of_work() as s:
        assert set(s.scalars(select(Staff.ref))) == {"S-1", "S-3"}


def test_a_changed_created_at_is_an_audited_update(db):
    rows(db, "tasks", [{"ref": "T-1", "title": "a", "created_at": "2026-11-01T09:00:00+08:00"}])
    report = rows(db, "tasks", [{"ref": "T-1", "title": "a", "created_at": "2026-11-02T09:00:00+08:00"}])
    assert report.updated == 1
    with db.unit_of_work() as s:
        (row,) = s.scalars(select(AuditLog).where(AuditLog.action == "import.update"))
        assert (row.before["created_at"], row.after["created_at"]) == (
            "2026-11-01T01:00:00+00:00", "2026-11-02T01:00:00+00:00")
        assert by_ref(s, Task, "T-1").created_at == datetime(2026, 11, 2, 1, tzinfo=UTC)
    assert rows(db, "tasks", [{"ref": "T-1", "title": "a", "created_at": "2026-11-02T09:00:00+08:00"}]).unchanged == 1
