"""Each visibility and masking rule of crm_core.permissions, tested so that removing the rule fails a test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.errors import NotFound, PermissionDenied
from crm_core.models import Customer, ProjectMember, Task
from crm_core.permissions import Cap, can, customer_scope
from crm_core.services import customer_profile, work
from crm_core.services import customers as customer_svc
from crm_core.services import tickets as ticket_svc
from crm_core.services.identity import resolve_actor
from tests.factories import TODAY, build_world


def visible(session, actor: Actor) -> set[str]:
    return set(session.scalars(select(Customer.ref).where(customer_scope(actor))))


@pytest.fixture
def world_session(db):
    with db.unit_of_work() as session:
        world = build_world(session)
        yield world, session


def test_admin_sees_every_customer(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "admin")) == {"C-1", "C-2"}


def test_account_manager_sees_own_customers_only(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "am1")) == {"C-1"}
    assert visible(s, world.actor(s, "am2")) == {"C-2"}


def test_sales_sees_customers_of_projects_they_work_on(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "sales1")) == set()
    s.add(ProjectMember(project_id=world.projects["p2"].id, staff_id=world.staff["sales1"].id))
    s.flush()
    assert visible(s, world.actor(s, "sales1")) == {"C-2"}


def test_account_manager_sees_customer_of_project_they_manage(world_session):
    world, s = world_session
    world.projects["p2"].manager_id = world.staff["am1"].id
    s.flush()
    assert visible(s, world.actor(s, "am1")) == {"C-1", "C-2"}


def test_manager_sees_own_department_only(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "mgr1")) == {"C-1"}
    assert visible(s, world.actor(s, "mgr2")) == {"C-2"}


def test_manager_of_executive_department_sees_company(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "boss")) == {"C-1", "C-2"}


def test_creative_staff_see_customers_through_membership_or_tasks(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "planner")) == {"C-1"}  # project member of P-1
    assert visible(s, world.actor(s, "designer")) == {"C-2"}  # assigned a task in P-2 only


def test_service_desk_sees_all_customers(world_session):
    world, s = world_session
    assert visible(s, world.actor(s, "service")) == {"C-1", "C-2"}


def test_viewer_sees_nothing_without_work(world_session):
    world, s = world_session
    viewer = world.actor(s, "viewer")
    assert visible(s, viewer) == set()
    assert not can(viewer, Cap.customer_update)


def test_guest_sees_nothing_and_may_do_nothing(world_session):
    _world, s = world_session
    guest = resolve_actor(s, "console", "someone-unknown")
    assert guest.kind == "guest"
    assert visible(s, guest) == set()
    with pytest.raises(PermissionDenied):
        customer_svc.get_customer(s, guest, "星屿科技")


def test_inactive_staff_becomes_guest(world_session):
    world, s = world_session
    world.staff["am1"].active = False
    s.flush()
    assert world.actor(s, "am1").kind == "guest"


def test_external_contact_sees_only_own_tickets_and_projects(world_session):
    world, s = world_session
    client = resolve_actor(s, "wecom", "wm_client_1", external=True)
    assert client.kind == "external" and client.customer_id == world.customers["c1"].id
    with pytest.raises(PermissionDenied):
        customer_svc.get_customer(s, client, "星屿科技")
    own = ticket_svc.create_ticket(s, client, None, "发票抬头开错了")
    other_client = resolve_actor(s, "wecom", "wm_client_2", external=True)
    ticket_svc.create_ticket(s, other_client, None, "海报尺寸不对")
    assert [t.number for t in ticket_svc.list_tickets(s, client)] == [own.number]
    with pytest.raises(NotFound):
        ticket_svc.get_ticket(s, other_client, own.number)
    status = work.project_status(s, client, world.projects["p1"], TODAY)
    assert status.name == "星屿科技品牌升级"
    with pytest.raises(NotFound):
        work.project_status(s, client, world.projects["p2"], TODAY)


def test_external_contact_cannot_open_ticket_for_another_customer(world_session):
    world, s = world_session
    client = resolve_actor(s, "wecom", "wm_client_1", external=True)
    ticket = ticket_svc.create_ticket(s, client, world.customers["c2"], "想看别家的资料")
    assert ticket.customer_id == world.customers["c1"].id


@pytest.mark.parametrize(("who", "masked"), [
    ("am1", False),  # owner
    ("mgr1", False),  # manager over the customer
    ("admin", False),
    ("boss", False),
    ("planner", True),  # works on the project, not the owner
    ("service", True),
])
def test_contact_details_masked_except_owner_managers_admin(world_session, who, masked):
    world, s = world_session
    actor = world.actor(s, who)
    profile = customer_profile.profile(s, actor, world.customers["c1"], TODAY)
    contact = profile.contacts[0]
    if masked:
        assert (contact.phone, contact.email) == ("138****1234", "w***@xingyu.example")
    else:
        assert (contact.phone, contact.email) == ("13812341234", "wangmin@xingyu.example")


def test_hidden_customer_is_not_found_rather_than_forbidden(world_session):
    world, s = world_session
    with pytest.raises(NotFound) as exc:
        customer_svc.get_customer(s, world.actor(s, "am2"), "星屿科技")
    assert "星屿科技" in str(exc.value) and "可以查看" in str(exc.value)


def test_customer_found_by_legal_or_partial_name(world_session):
    world, s = world_session
    am1 = world.actor(s, "am1")
    assert customer_svc.get_customer(s, am1, "上海星屿科技有限公司").ref == "C-1"
    assert customer_svc.get_customer(s, am1, "星屿").ref == "C-1"
    assert customer_svc.get_customer(s, am1, "星屿科技有限公司").ref == "C-1"


def test_only_owner_manager_or_admin_may_edit_customer(world_session):
    world, s = world_session
    with pytest.raises(PermissionDenied):
        customer_svc.update_customer(s, world.actor(s, "planner"), world.customers["c1"], "region", "上海")
    s.add(ProjectMember(project_id=world.projects["p1"].id, staff_id=world.staff["sales1"].id))
    s.flush()
    with pytest.raises(PermissionDenied):  # sees it through the project, but does not own it
        customer_svc.update_customer(s, world.actor(s, "sales1"), world.customers["c1"], "region", "上海")
    customer_svc.update_customer(s, world.actor(s, "am1"), world.customers["c1"], "region", "苏州")
    assert world.customers["c1"].region == "苏州"


def test_tier_and_owner_changes_need_a_manager(world_session):
    world, s = world_session
    with pytest.raises(PermissionDenied):
        customer_svc.update_customer(s, world.actor(s, "am1"), world.customers["c1"], "tier", "常规级")
    customer_svc.update_customer(s, world.actor(s, "mgr1"), world.customers["c1"], "tier", "常规级")
    assert world.customers["c1"].tier == "常规级"


def test_task_completion_limited_to_people_involved(world_session):
    world, s = world_session
    task = s.scalars(select(Task).where(Task.ref == "T-1")).one()
    with pytest.raises(NotFound):  # designer cannot even see P-1's tasks
        work.complete_task(s, world.actor(s, "designer"), task)
    work.complete_task(s, world.actor(s, "planner"), task)
    assert task.status == "已完成"
