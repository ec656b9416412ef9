"""`crmbot demo`: the demo agency loads cleanly, is big and varied enough to show every feature, is the
same every time, and behaves as the README promises when demo_am, demo_am2 and a stranger ask about it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.channels.console import send
from bot.cli import app
from config import reset_settings
from crm_core.db import Database
from crm_core.demo.generator import generate
from crm_core.demo.loader import load_demo
from crm_core.importing.service import KINDS
from crm_core.models import (
    INDUSTRIES,
    OPEN_STAGES,
    OPEN_TASK_STATUSES,
    STAGES,
    TIERS,
    AuditLog,
    Case,
    ChatBinding,
    Contact,
    Customer,
    KBArticle,
    Opportunity,
    Payment,
    Project,
    ProposalView,
    Role,
    Staff,
    TalentProfile,
    Task,
    Ticket,
)
from crm_core.permissions import can_see_customer
from crm_core.services.identity import resolve_actor

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
FIXED_IDS = {"demo_admin": "admin", "demo_manager": "manager", "demo_am": "account_manager",
             "demo_am2": "account_manager", "demo_planner": "planner", "demo_designer": "designer",
             "demo_service": "service"}
runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", db.url)
    reset_settings()
    return db


def count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def staff(session: Session, userid: str) -> Staff:
    return session.scalars(select(Staff).where(Staff.wecom_userid == userid)).one()


def test_generate_depends_on_today_only():
    first, again = generate(TODAY), generate(TODAY)
    assert first == again
    assert list(first) == list(KINDS)  # every importer kind, in load order
    later = generate(TODAY + timedelta(days=7))
    assert [r["ref"] for r in later["tasks"]] == [r["ref"] for r in first["tasks"]]
    assert later["tasks"][0]["due"] == (date.fromisoformat(first["tasks"][0]["due"]) + timedelta(days=7)).isoformat()


def test_cli_demo_loads_every_kind_without_a_failed_row(cli_db):
    result = runner.invoke(app, ["demo", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    for kind in KINDS:
        line = next(ln for ln in result.output.splitlines() if ln.strip().startswith(f"{kind}:"))
        assert "失败 0" in line and "新增 0" not in line, line
    assert "演示数据已就绪" in result.output


def test_demo_is_big_and_varied_enough_to_show_every_feature(db):
    reports = load_demo(db, TODAY)
    assert {kind: r.failed for kind, r in reports.items()} == dict.fromkeys(KINDS, 0)
    start_of_day = datetime.combine(TODAY, time(), tzinfo=ZoneInfo("Asia/Shanghai"))
    with db.unit_of_work() as s:
        assert count(s, Staff) >= 40
        assert set(s.scalars(select(Staff.role).distinct())) == {r.value for r in Role}
        assert len(set(s.scalars(select(Staff.department).distinct()))) >= 7
        for userid, role in FIXED_IDS.items():
            assert staff(s, userid).role == role
        assert count(s, Staff, Staff.dingtalk_userid.is_(None)) == 0

        assert count(s, Customer) == 150
        assert set(s.scalars(select(Customer.industry).distinct())) == set(INDUSTRIES)
        assert set(s.scalars(select(Customer.tier).distinct())) == set(TIERS)
        assert count(s, Contact, Contact.phone.is_not(None), Contact.email.is_not(None)) >= 150

        assert count(s, Project) == 60
        bound = select(ChatBinding.project_id).where(ChatBinding.webhook_url.is_not(None))
        assert count(s, Project, Project.id.not_in(bound)) == 0
        assert count(s, ChatBinding, ChatBinding.channel == "dingtalk") > 0

        assert count(s, Task) == 600
        open_task = Task.status.in_(OPEN_TASK_STATUSES)
        assert count(s, Task, open_task, Task.due < TODAY) > 0
        assert count(s, Task, open_task, Task.due.between(TODAY, TODAY + timedelta(days=1))) > 0
        assert count(s, Task, Task.status == "已完成", Task.completed_at.is_not(None)) > 100

        assert set(s.scalars(select(Opportunity.stage).distinct())) == set(STAGES)
        stale = start_of_day - timedelta(days=3)
        assert count(s, Opportunity, Opportunity.stage.in_(OPEN_STAGES), Opportunity.last_followup_at < stale) > 0

        unpaid = Payment.status != "已收"
        assert count(s, Payment, unpaid, Payment.due.between(TODAY, TODAY + timedelta(days=7))) > 0
        assert count(s, Payment, unpaid, Payment.due < TODAY) > 0
        assert count(s, Payment, Payment.status == "已收") > 0

        assert count(s, Case) == 80
        assert count(s, KBArticle) == 60
        assert min(len(body) for body in s.scalars(select(KBArticle.body))) >= 150
        assert count(s, ProposalView) > 0 and count(s, Ticket) > 0 and count(s, TalentProfile) > 0


def test_loading_twice_on_the_same_day_writes_nothing(db):
    load_demo(db, TODAY)
    with db.unit_of_work() as s:
        audit_before = count(s, AuditLog)
    second = load_demo(db, TODAY)
    assert {k: (r.created, r.updated, r.failed) for k, r in second.items()} == dict.fromkeys(KINDS, (0, 0, 0))
    assert all(r.unchanged > 0 for r in second.values())
    with db.unit_of_work() as s:
        assert count(s, AuditLog) == audit_before


def test_readme_walkthrough_through_the_chat_path(db):
    load_demo(db, TODAY)
    with db.unit_of_work() as s:
        am, am2 = staff(s, "demo_am"), staff(s, "demo_am2")
        assert am.department == am2.department == staff(s, "demo_manager").department
        owned = list(s.scalars(select(Customer).where(Customer.owner_id == am.id).order_by(Customer.ref)))
        assert len(owned) >= 3
        am2_actor = resolve_actor(s, "console", "demo_am2")
        assert not any(can_see_customer(s, am2_actor, c.id) for c in owned)  # neither owns nor works on them
        customer = next(c for c in owned if any(ct.phone for ct in c.contacts))
        full_name, name = customer.name, customer.short_name or customer.name
        phone = next(ct.phone for ct in customer.contacts if ct.phone)

    def ask(sender: str) -> str:
        return send(db, f"/客户 {name}", sender=sender, now=NOW).plain()

    mine = ask("demo_am")
    assert f"客户档案｜{full_name}" in mine and phone in mine
    theirs = ask("demo_am2")
    assert "没有找到你可以查看的客户" in theirs and phone not in theirs
    stranger = ask("somebody_new")
    assert "还没有和公司员工档案绑定" in stranger and "crmbot staff bind" in stranger and phone not in stranger


def test_the_tier_model_agrees_with_the_demo_tiers(db):
    """Each tier comes with the history behind it: the first nightly tiering run keeps almost all."""
    from crm_core.services import tiering

    load_demo(db, TODAY)
    with db.session() as s:
        before = {c.ref: c.tier for c in s.scalars(select(Customer))}
    with db.unit_of_work() as s:
        tiering.recompute_all(s, datetime.combine(TODAY + timedelta(days=1), time(1), tzinfo=ZoneInfo("Asia/Shanghai")))
    with db.session() as s:
        after = {c.ref: c.tier for c in s.scalars(select(Customer))}
    kept = sum(before[ref] == after[ref] for ref in before)
    assert kept >= 0.9 * len(before) and after["C-001"] == "战略级"
    assert {after[ref] for ref in after} == {"战略级", "成长级", "常规级"}
