"""Resolve a messenger sender to an Actor, and bind messenger ids to staff."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from config import get_settings
from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import InvalidInput, NotFound
from crm_core.hot_reads import HotRead
from crm_core.models import Contact, Role, Staff
from crm_core.permissions import Cap, require

STAFF_ID_COLUMNS = {"wecom": Staff.wecom_userid, "console": Staff.wecom_userid, "dingtalk": Staff.dingtalk_userid}
# every message resolves its sender: the columns an Actor needs, by a statement built once per channel
_STAFF_BY_ID = {channel: HotRead(select(Staff.id, Staff.ref, Staff.name, Staff.role, Staff.department, Staff.active)
                                  .where(column == bindparam("uid")).limit(1))
                for channel, column in STAFF_ID_COLUMNS.items()}


class StaffFields(Protocol):
    """What an Actor is made of: a Staff, a Row of these columns, or the sender's hot read (a named tuple)."""

    @property
    def id(self) -> int: ...
    @property
    def ref(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def department(self) -> str | None: ...


def staff_actor(staff: StaffFields, channel: str, sender_id: str | None = None) -> Actor:
    role = Role(staff.role)
    executive = set(get_settings().executive_departments)
    return Actor(
        kind="staff",
        name=staff.name,
        channel=channel,
        sender_id=sender_id,
        staff_id=staff.id,
        staff_ref=staff.ref,
        role=role,
        department=staff.department,
        company_wide=role == Role.manager and staff.department in executive,
    )


def resolve_actor(session: Session, channel: str, sender_id: str | None, external: bool = False) -> Actor:
    """Staff by their messenger user id; external senders by their contact ids; anyone else a guest."""
    if not sender_id:
        return Actor.guest(sender_id, channel)
    if external:
        contact = session.scalars(
            select(Contact).where(
                or_(
                    Contact.wecom_external_userid == sender_id,
                    Contact.kf_external_userid == sender_id,
                    Contact.dingtalk_userid == sender_id,
                )
            )
        ).first()
        if contact is None:
            return Actor.guest(sender_id, channel)
        return Actor(kind="external", name=contact.name, channel=channel, sender_id=sender_id,
                     customer_id=contact.customer_id, contact_id=contact.id)
    session.flush()
    staff = _STAFF_BY_ID.get(channel, _STAFF_BY_ID["wecom"]).first(session.connection(), {"uid": sender_id})
    if staff is None or not staff.active:
        return Actor.guest(sender_id, channel)
    try:
        return staff_actor(staff, channel, sender_id)
    except ValueError:  # an unknown role in the data: no access rather than a guess
        return Actor.guest(sender_id, channel)


def bind_staff(session: Session, actor: Actor, staff_ref: str, channel: str, user_id: str) -> Staff:
    """Attach a messenger user id to a staff record (admins only)."""
    require(actor, Cap.staff_admin)
    if channel not in ("wecom", "dingtalk"):
        raise InvalidInput(f"未知渠道 {channel}（可选：wecom / dingtalk）")
    staff = session.scalars(select(Staff).where(Staff.ref == staff_ref)).first()
    if staff is None:
        raise NotFound(f"没有编号为 {staff_ref} 的员工")
    column = "wecom_userid" if channel == "wecom" else "dingtalk_userid"
    taken = session.scalars(select(Staff).where(getattr(Staff, column) == user_id, Staff.id != staff.id)).first()
    if taken is not None:
        raise InvalidInput(f"{user_id} 已绑定到员工 {taken.name}（{taken.ref}）")
    before = audit.snapshot(staff)
    setattr(staff, column, user_id)
    audit.record(session, actor, "staff.bind", staff, before, audit.snapshot(staff))
    return staff
