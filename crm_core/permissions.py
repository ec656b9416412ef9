"""Who may do what, and which records each actor may see. Fail closed: anything unlisted is refused.

Visibility of customers (and what hangs off them):
- admin and the system: everything;
- manager: customers owned by staff of their department, plus what they work on; a manager of an
  executive department (setting ``executive_departments``) sees the whole company;
- account_manager, sales: customers they own, or whose projects they work on;
- planner, designer, media, viewer: customers whose projects they work on;
- service: every customer (the service desk answers any client), contacts masked;
- external client contact: no customer records; only their own customer's tickets and project status;
- guest: nothing.
"Works on" = manages the project, is a project member, or is assigned one of its tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, bindparam, event, false, or_, select, true
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.errors import PermissionDenied
from crm_core.models import Customer, Project, ProjectMember, Role, Staff, Task


class Cap(StrEnum):
    customer_read = "customer.read"
    customer_create = "customer.create"
    customer_update = "customer.update"
    customer_assign = "customer.assign"  # owner and tier changes
    customer_tag = "customer.tag"
    customer_merge = "customer.merge"  # merge duplicates (the sender must also manage both records)
    followup_log = "followup.log"
    lead_create = "lead.create"
    lead_claim = "lead.claim"
    opportunity_read = "opportunity.read"
    opportunity_update = "opportunity.update"
    project_read = "project.read"
    task_read = "task.read"
    task_create = "task.create"
    task_update = "task.update"
    payment_read = "payment.read"
    ticket_read = "ticket.read"
    ticket_create = "ticket.create"
    ticket_update = "ticket.update"
    knowledge_read = "knowledge.read"
    case_read = "case.read"
    talent_read = "talent.read"
    talent_update = "talent.update"  # anyone's talent profile; one's own needs only talent.read
    report_read = "report.read"
    risk_read = "risk.read"
    data_import = "data.import"
    staff_admin = "staff.admin"


_SALES = {
    Cap.customer_read, Cap.customer_create, Cap.customer_update, Cap.customer_tag, Cap.followup_log,
    Cap.lead_create, Cap.lead_claim, Cap.opportunity_read, Cap.opportunity_update, Cap.project_read,
    Cap.task_read, Cap.task_create, Cap.task_update, Cap.payment_read, Cap.ticket_read,
    Cap.ticket_create, Cap.knowledge_read, Cap.case_read, Cap.talent_read, Cap.risk_read, Cap.customer_merge,
    Cap.report_read,  # reports are scoped to what the sender may see: their own funnel, payments …
}
_CREATIVE = {
    Cap.customer_read, Cap.followup_log, Cap.project_read, Cap.task_read, Cap.task_create,
    Cap.task_update, Cap.knowledge_read, Cap.case_read, Cap.talent_read, Cap.ticket_read,
}

ROLE_CAPS: dict[Role, frozenset[Cap]] = {
    Role.admin: frozenset(Cap),
    Role.manager: frozenset(set(Cap) - {Cap.data_import, Cap.staff_admin}),
    Role.account_manager: frozenset(_SALES),
    Role.sales: frozenset(_SALES),
    Role.planner: frozenset(_CREATIVE),
    Role.designer: frozenset(_CREATIVE),
    Role.media: frozenset(_CREATIVE),
    Role.service: frozenset({
        Cap.customer_read, Cap.followup_log, Cap.project_read, Cap.task_read, Cap.task_create,
        Cap.task_update, Cap.ticket_read, Cap.ticket_create, Cap.ticket_update, Cap.knowledge_read,
        Cap.case_read, Cap.payment_read,
    }),
    Role.viewer: frozenset({Cap.customer_read, Cap.project_read, Cap.task_read, Cap.knowledge_read,
                            Cap.case_read, Cap.report_read}),
}
EXTERNAL_CAPS = frozenset({Cap.ticket_read, Cap.ticket_create, Cap.project_read, Cap.knowledge_read})

_DENIED = {
    "guest": "你还没有绑定账号，暂时无法使用客户助手。请联系管理员用 `crmbot staff bind` 绑定你的企业微信/钉钉账号。",
    "external": "抱歉，这项操作仅限公司内部同事使用。你可以咨询服务问题、查询工单或项目进度。",
    "staff": "抱歉，你的角色没有执行此操作的权限。如有需要，请联系你的主管或管理员。",
}


def capabilities(actor: Actor) -> frozenset[Cap]:
    if actor.kind == "system":
        return frozenset(Cap)
    if actor.kind == "external":
        return EXTERNAL_CAPS
    if actor.kind == "staff" and actor.role is not None:
        return ROLE_CAPS.get(actor.role, frozenset())
    return frozenset()


def can(actor: Actor, cap: Cap) -> bool:
    return cap in capabilities(actor)


def require(actor: Actor, cap: Cap) -> None:
    if not can(actor, cap):
        raise PermissionDenied(_DENIED.get(actor.kind, _DENIED["staff"]))


def sees_everything(actor: Actor) -> bool:
    return actor.kind == "system" or (
        actor.kind == "staff" and (actor.role == Role.admin or (actor.role == Role.manager and actor.company_wide))
    )


def worked_on_customer_ids(staff_id: Any):  # type: ignore[no-untyped-def]
    """Customers whose projects this staff member manages, is a member of, or has tasks in."""
    member_projects = select(ProjectMember.project_id).where(ProjectMember.staff_id == staff_id)
    task_projects = select(Task.project_id).where(Task.assignee_id == staff_id, Task.project_id.is_not(None))
    return select(Project.customer_id).where(
        or_(Project.manager_id == staff_id, Project.id.in_(member_projects), Project.id.in_(task_projects))
    )


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``Customer`` selecting what the actor may see (never an archived duplicate)."""
    return _bound_scope(scope_key(actor))


def scope_key(actor: Actor) -> ScopeKey:
    return ScopeKey(actor.kind, actor.role, actor.staff_id, actor.department, actor.company_wide)


@dataclass(frozen=True)
class ScopeKey:
    """The parts of an Actor that decide what it sees: actors with equal keys see the same customers."""

    kind: str
    role: Role | None
    staff_id: int | None
    department: str | None
    company_wide: bool


ScopeShape = Literal["all", "none", "owner", "department", "works_on"]


def scope_of(actor: Actor) -> tuple[ScopeShape, dict[str, Any]]:
    """The actor's visibility as a shape and its parameters (see ``shape_scope``)."""
    if sees_everything(actor):
        return "all", {}
    if actor.kind != "staff" or actor.staff_id is None or actor.role is None:
        return "none", {}
    if actor.role == Role.service:
        return "all", {}
    staff = {"scope_staff": actor.staff_id}
    if actor.role == Role.manager:
        return "department", {**staff, "scope_department": actor.department}
    if actor.role in (Role.account_manager, Role.sales):
        return "owner", staff
    if actor.role in (Role.planner, Role.designer, Role.media, Role.viewer):
        return "works_on", staff
    return "none", {}


@cache
def shape_scope(shape: ScopeShape) -> ColumnElement[bool]:
    """``customer_scope`` for statements built once per shape and run with ``scope_of(actor)[1]`` as parameters.

    A hot statement (the profile, the exact-name lookup) must be one object for every sender: SQLAlchemy
    reuses the compiled form of an equal statement, but re-maps its result columns for each new object,
    and that cost several times more than running the query."""
    return and_(Customer.merged_into_id.is_(None),
                _shape_clause(shape, bindparam("scope_staff"), bindparam("scope_department")))


@lru_cache(maxsize=4096)
def _bound_scope(key: ScopeKey) -> ColumnElement[bool]:
    # Built once per key: every request asks for its sender's scope several times, and building the
    # clause (three subqueries for most roles) cost more than running it.
    actor = Actor(kind=key.kind, name="", role=key.role, staff_id=key.staff_id,  # type: ignore[arg-type]
                  department=key.department, company_wide=key.company_wide)
    shape, params = scope_of(actor)
    staff = bindparam("scope_staff", params.get("scope_staff"), unique=True)
    department = bindparam("scope_department", params.get("scope_department"), unique=True)
    return and_(Customer.merged_into_id.is_(None), _shape_clause(shape, staff, department))


def _shape_clause(shape: ScopeShape, staff: Any, department: Any) -> ColumnElement[bool]:
    if shape == "all":
        return true()
    if shape == "none":
        return false()
    works_on = Customer.id.in_(worked_on_customer_ids(staff))
    if shape == "department":
        return or_(Customer.owner_id.in_(select(Staff.id).where(Staff.department == department)), works_on)
    if shape == "owner":
        return or_(Customer.owner_id == staff, works_on)
    return works_on


def can_see_customer(session: Session, actor: Actor, customer_id: int) -> bool:
    key = (scope_key(actor), customer_id)
    known = _seen(session)
    if key not in known:
        stmt = select(Customer.id).where(Customer.id == customer_id, customer_scope(actor))
        known[key] = session.execute(stmt).first() is not None
    return known[key]


def note_visible(session: Session, actor: Actor, customer_id: int) -> None:
    """A query with ``customer_scope(actor)`` just returned this customer: later checks in this unit of work need no query."""
    _seen(session)[(scope_key(actor), customer_id)] = True


def _seen(session: Session) -> dict[tuple[ScopeKey, int], bool]:
    return session.info.setdefault(_SEEN, {})  # type: ignore[no-any-return]


_SEEN = "crmbot.visible_customers"


@event.listens_for(Session, "after_flush")
def _forget_seen(session: Session, _context: object) -> None:
    # a write may change an owner, a project member or a merge: visibility is asked again afterwards
    session.info.pop(_SEEN, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_seen_at_transaction_end(session: Session) -> None:
    session.info.pop(_SEEN, None)


def can_see_contact_details(session: Session, actor: Actor, customer: Customer) -> bool:
    """Unmasked phone and e-mail: the owner, managers over the customer, admin."""
    if sees_everything(actor):
        return True
    if actor.kind != "staff" or actor.staff_id is None:
        return False
    if customer.owner_id == actor.staff_id:
        return True
    if actor.role == Role.manager:
        return can_see_customer(session, actor, customer.id)
    return False


def can_manage_customer(session: Session, actor: Actor, customer: Customer) -> bool:
    """Edit the record itself: the owner, a manager over it, admin."""
    return can_see_contact_details(session, actor, customer)


_PHONE = re.compile(r"^(\+?\d{0,3}[- ]?)?(\d{3})\d{4}(\d{4})$")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    m = _PHONE.match(digits)
    if m:
        return f"{m.group(2)}****{m.group(3)}"
    return phone[:2] + "*" * max(len(phone) - 4, 1) + phone[-2:] if len(phone) > 4 else "****"


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"
