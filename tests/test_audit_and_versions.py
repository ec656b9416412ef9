"""Every write path leaves an audit row; a stale update is a conflict, never an overwrite."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.errors import Conflict
from crm_core.models import AuditLog, Customer, Opportunity, Task
from crm_core.services import customers as customer_svc
from crm_core.services import tickets as ticket_svc
from crm_core.services import work
from crm_core.services.identity import bind_staff, resolve_actor
from tests.factories import build_world


def audit_rows(session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


@pytest.fixture
def world_session(db):
    with db.unit_of_work() as session:
        yield build_world(session), session


def test_customer_create_is_audited(world_session):
    world, s = world_session
    am1 = world.actor(s, "am1")
    c = customer_svc.create_customer(s, am1, "米粒智能", industry="科技")
    (row,) = audit_rows(s, "customer.create")
    assert row.actor == "staff:S-am1:甲经理" and row.actor_staff_id == am1.staff_id
    assert row.entity_type == "customers" and row.entity_id == c.id and row.channel == "console"
    assert row.before is None and row.after["name"] == "米粒智能" and row.after["owner_id"] == am1.staff_id


def test_customer_update_records_before_and_after(world_session):
    world, s = world_session
    customer_svc.update_customer(s, world.actor(s, "mgr1", channel="wecom"), world.customers["c1"], "tier", "成长级")
    (row,) = audit_rows(s, "customer.update")
    assert (row.before["tier"], row.after["tier"]) == ("战略级", "成长级")
    assert row.channel == "wecom"


def test_tag_changes_are_audited(world_session):
    world, s = world_session
    am1 = world.actor(s, "am1")
    assert customer_svc.set_tag(s, am1, world.customers["c1"], "国潮")
    assert not customer_svc.set_tag(s, am1, world.customers["c1"], "国潮")  # no change, no row
    assert customer_svc.set_tag(s, am1, world.customers["c1"], "国潮", remove=True)
    add, remove = audit_rows(s, "customer.tag"), audit_rows(s, "customer.untag")
    assert len(add) == 1 and add[0].after == {"tags": ["国潮"]}
    assert len(remove) == 1 and remove[0].before == {"tags": ["国潮"]} and remove[0].after == {"tags": []}


def test_followup_is_audited_and_updates_last_contact(world_session):
    world, s = world_session
    row = customer_svc.log_followup(s, world.actor(s, "am1"), world.customers["c1"], "电话沟通排期", kind="电话")
    (audit,) = audit_rows(s, "followup.log")
    assert audit.entity_id == row.id and audit.after["summary"] == "电话沟通排期"
    assert world.customers["c1"].last_contact_at == row.occurred_at


def test_task_writes_are_audited(world_session):
    world, s = world_session
    planner = world.actor(s, "planner")
    task = work.create_task(s, planner, "竞品分析", project=world.projects["p1"])
    work.complete_task(s, planner, task)
    (created,), (done,) = audit_rows(s, "task.create"), audit_rows(s, "task.done")
    assert created.after["title"] == "竞品分析"
    assert (done.before["status"], done.after["status"]) == ("待办", "已完成")


def test_opportunity_stage_is_audited(world_session):
    world, s = world_session
    opp = s.scalars(select(Opportunity).where(Opportunity.ref == "O-1")).one()
    work.move_opportunity(s, world.actor(s, "am1"), opp, "签约成功")
    (row,) = audit_rows(s, "opportunity.stage")
    assert (row.before["stage"], row.after["stage"]) == ("合同谈判", "签约成功")


def test_ticket_creation_is_audited(world_session):
    _world, s = world_session
    client = resolve_actor(s, "wecom", "wm_client_1", external=True)
    ticket_svc.create_ticket(s, client, None, "发票开错了")
    (row,) = audit_rows(s, "ticket.create")
    assert row.actor.startswith("external:") and row.after["title"] == "发票开错了"


def test_staff_binding_is_audited(world_session):
    _world, s = world_session
    bind_staff(s, Actor.system(channel="cli"), "S-am1", "dingtalk", "dt_new")
    (row,) = audit_rows(s, "staff.bind")
    assert (row.before["dingtalk_userid"], row.after["dingtalk_userid"]) == ("dt_am1", "dt_new")


def test_stale_customer_version_is_a_conflict(world_session):
    world, s = world_session
    customer = world.customers["c1"]
    seen = customer.version
    customer_svc.update_customer(s, world.actor(s, "am1"), customer, "region", "苏州")
    with pytest.raises(Conflict):
        customer_svc.update_customer(s, world.actor(s, "am1"), customer, "region", "杭州", expected_version=seen)
    assert customer.region == "苏州"


def test_stale_task_and_opportunity_versions_are_conflicts(world_session):
    world, s = world_session
    task = s.scalars(select(Task).where(Task.ref == "T-1")).one()
    opp = s.scalars(select(Opportunity).where(Opportunity.ref == "O-1")).one()
    with pytest.raises(Conflict):
        work.complete_task(s, world.actor(s, "planner"), task, expected_version=task.version - 1)
    with pytest.raises(Conflict):
        work.move_opportunity(s, world.actor(s, "am1"), opp, "输单", expected_version=opp.version + 5)
    assert task.status == "进行中" and opp.stage == "合同谈判"


def test_concurrent_writers_cannot_overwrite_each_other(db):
    """Two sessions read the same customer; the second to write gets a Conflict."""
    with db.unit_of_work() as s:
        build_world(s)
    first, second = db.session(), db.session()
    try:
        a = first.scalars(select(Customer).where(Customer.ref == "C-1")).one()
        b = second.scalars(select(Customer).where(Customer.ref == "C-1")).one()
        am1_a = resolve_actor(first, "console", "am1")
        am1_b = resolve_actor(second, "console", "am1")
        customer_svc.update_customer(first, am1_a, a, "region", "苏州")
        first.commit()
        with pytest.raises(Conflict):
            customer_svc.update_customer(second, am1_b, b, "region", "杭州")
    finally:
        first.close()
        second.close()
    with db.unit_of_work() as s:
        assert s.scalars(select(Customer.region).where(Customer.ref == "C-1")).one() == "苏州"


def test_lead_create_and_claim_are_audited(world_session):
    world, s = world_session
    from crm_core.models import Lead
    from crm_core.services import leads

    made = leads.create_lead(s, world.actor(s, "am1"), "云杉家居", amount=300000)
    (created,) = audit_rows(s, "lead.create")
    assert created.entity_id == made.id and created.after["name"] == "云杉家居"
    assert created.after["owner_id"] == world.staff["am1"].id  # a salesperson's own lead is theirs at once
    pooled = Lead(name="白鹭文创", status=leads.POOL, source="import")
    s.add(pooled)
    s.flush()
    leads.claim_lead(s, world.actor(s, "sales1"), pooled)
    (claimed,) = audit_rows(s, "lead.claim")
    assert claimed.entity_id == pooled.id and claimed.before["status"] == leads.POOL
    assert claimed.after["owner_id"] == world.staff["sales1"].id and claimed.after["status"] == "已认领"


def test_two_people_claiming_one_lead_only_one_wins(db):
    from crm_core.errors import InvalidInput
    from crm_core.models import Lead
    from crm_core.services import leads

    with db.unit_of_work() as s:
        world = build_world(s)
        s.add(Lead(name="白鹭文创", status=leads.POOL, source="import"))
    with db.session() as first, db.session() as second:
        lead_a = first.scalars(select(Lead).where(Lead.name == "白鹭文创")).one()
        lead_b = second.scalars(select(Lead).where(Lead.name == "白鹭文创")).one()
        leads.claim_lead(first, world.actor(first, "am1"), lead_a)
        first.commit()
        with pytest.raises(InvalidInput, match="刚刚被其他同事认领"):
            leads.claim_lead(second, world.actor(second, "sales1"), lead_b)
        second.rollback()
    with db.session() as s:
        lead = s.scalars(select(Lead).where(Lead.name == "白鹭文创")).one()
        assert lead.owner_id == world.staff["am1"].id
        assert len(audit_rows(s, "lead.claim")) == 1
