"""Customer lookups and writes (create, update, tags, follow-ups), permission-checked and audited.

The 360° profile is read in ``customer_profile``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core import audit
from crm_core.actor import Actor
from crm_core.db import flush_or_conflict
from crm_core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.models import (
    BUDGET_LEVELS,
    TIERS,
    Customer,
    CustomerTag,
    Interaction,
    Staff,
    Tag,
    utcnow,
)
from crm_core.permissions import (
    Cap,
    can_manage_customer,
    customer_scope,
    require,
)
from crm_core.services import tag_vocab, tiering
from crm_core.services.lookup import resolve_customer
from crm_core.services.paging import Page


def _visible(session: Session, actor: Actor, customer_id: int) -> Customer:
    customer = session.scalars(
        select(Customer).where(Customer.id == customer_id, customer_scope(actor))
        .options(selectinload(Customer.contacts), selectinload(Customer.tag_links))
    ).first()
    if customer is None:
        raise NotFound("没有找到你可以查看的这位客户。")
    return customer


def get_customer(session: Session, actor: Actor, text: str) -> Customer:
    require(actor, Cap.customer_read)
    return resolve_customer(session, actor, text)


def _staff_by_ref(session: Session, ref: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.ref == ref)).first()
    if staff is None:
        raise NotFound(f"没有编号为 {ref} 的员工")
    return staff


def create_customer(session: Session, actor: Actor, name: str, industry: str | None = None,
                    owner_ref: str | None = None, **fields: str | None) -> Customer:
    require(actor, Cap.customer_create)
    name = name.strip()
    if not name:
        raise InvalidInput("客户名称不能为空")
    if session.scalars(select(Customer).where(Customer.name == name, Customer.merged_into_id.is_(None))).first() \
            is not None:
        raise InvalidInput(f"客户「{name}」已存在，如需修改请用更新命令。")
    owner_id = _staff_by_ref(session, owner_ref).id if owner_ref else actor.staff_id
    customer = Customer(name=name, industry=industry, owner_id=owner_id, **fields)
    session.add(customer)
    session.flush()
    audit.record(session, actor, "customer.create", customer, None, audit.snapshot(customer))
    return customer


AUTO_TIER = ("自动", "auto", "模型")
UPDATABLE = ("name", "industry", "scale", "region", "owner", "tier", "budget_level")


def update_customer(session: Session, actor: Actor, customer: Customer, field: str, value: str,
                    expected_version: int | None = None) -> Customer:
    """Change one field. ``expected_version`` is the version the sender saw: a stale one is a conflict."""
    require(actor, Cap.customer_update)
    customer = _visible(session, actor, customer.id)
    if field not in UPDATABLE:
        raise InvalidInput(f"不支持修改字段 {field}（可修改：{'、'.join(UPDATABLE)}）")
    if field in ("owner", "tier"):
        require(actor, Cap.customer_assign)
    if not can_manage_customer(session, actor, customer):
        raise PermissionDenied("只有客户负责人、其主管或管理员可以修改客户资料。")
    if expected_version is not None and expected_version != customer.version:
        raise Conflict(f"客户「{customer.name}」刚被其他人修改过（当前版本 {customer.version}），请重新查看后再改。")
    before = audit.snapshot(customer)
    if field == "owner":
        customer.owner_id = _staff_by_ref(session, value).id
    elif field == "tier":
        if value in AUTO_TIER:
            customer.tier_source = None  # back to the model: recomputed below
        elif value not in TIERS:
            raise InvalidInput(f"未知客户级别「{value}」（可选：{'/'.join(TIERS)}，或「自动」交给分层模型）")
        else:
            old_tier = customer.tier
            customer.tier, customer.tier_source = value, "manual"
            tiering.record_manual(session, actor, customer, old_tier)
    elif field == "budget_level":
        if value not in BUDGET_LEVELS:
            raise InvalidInput(f"未知预算等级「{value}」（可选：{'/'.join(BUDGET_LEVELS)}）")
        customer.budget_level = value
    else:
        setattr(customer, field, value)
    flush_or_conflict(session, f"客户「{customer.name}」")
    audit.record(session, actor, "customer.update", customer, before, audit.snapshot(customer))
    if field == "tier" and value in AUTO_TIER:
        tiering.recompute_customers(session, [customer.id], utcnow())
        session.refresh(customer)
    return customer


def set_tag(session: Session, actor: Actor, customer: Customer, tag_name: str, remove: bool = False,
            source: str = "manual", reason: str | None = None) -> bool:
    """Add or remove one tag (with where it came from and why); returns whether anything changed."""
    require(actor, Cap.customer_tag)
    customer = _visible(session, actor, customer.id)
    tag_name = tag_name.strip().lstrip("#")
    if not tag_name:
        raise InvalidInput("标签不能为空")
    before = {"tags": customer.tag_names}
    tag = session.scalars(select(Tag).where(Tag.name == tag_name)).first()
    link = next((lk for lk in customer.tag_links if tag and lk.tag_id == tag.id), None)
    if remove:
        if link is None:
            return False
        customer.tag_links.remove(link)
    else:
        if link is not None:
            return False
        if tag is None:
            tag = tag_vocab.new_tag(session, tag_name)
        customer.tag_links.append(CustomerTag(tag=tag, source=source, reason=(reason or "")[:200] or None,
                                              created_by_id=actor.staff_id))
    session.flush()
    session.refresh(customer)
    audit.record(session, actor, "customer.untag" if remove else "customer.tag", customer, before,
                 {"tags": customer.tag_names})
    return True


def log_followup(session: Session, actor: Actor, customer: Customer, summary: str, kind: str = "其他",
                 occurred_at: datetime | None = None) -> Interaction:
    require(actor, Cap.followup_log)
    customer = _visible(session, actor, customer.id)
    if not summary.strip():
        raise InvalidInput("跟进内容不能为空")
    when = occurred_at or utcnow()
    row = Interaction(customer_id=customer.id, staff_id=actor.staff_id, kind=kind, summary=summary.strip(),
                      channel=actor.channel, occurred_at=when)
    session.add(row)
    if customer.last_contact_at is None or customer.last_contact_at < when:
        customer.last_contact_at = when
    session.flush()
    audit.record(session, actor, "followup.log", row, None, audit.snapshot(row))
    return row


# --- lists and lookups by ref (chat) -------------------------------------------------------------


class CustomerRow(BaseModel):
    ref: str | None
    name: str
    tier: str | None
    industry: str | None
    owner: str | None
    tags: list[str]


def customer_by_ref(session: Session, actor: Actor, ref: str) -> Customer:
    """A visible customer by its ref (or ``#id``); NotFound otherwise, whether it exists or not."""
    require(actor, Cap.customer_read)
    cond = Customer.id == int(ref[1:]) if ref.startswith("#") and ref[1:].isdigit() else Customer.ref == ref
    customer = session.scalars(select(Customer).where(cond, customer_scope(actor))).first()
    if customer is None:
        raise NotFound("没有找到你可以查看的这位客户。")
    return customer


def list_customers(session: Session, actor: Actor, *, tier: str | None = None, industry: str | None = None,
                   owner_ref: str | None = None, tag: str | None = None, offset: int = 0,
                   limit: int = 10) -> Page[CustomerRow]:
    """Visible customers matching every given filter, strategic first, then by name."""
    require(actor, Cap.customer_read)
    stmt = select(Customer).where(customer_scope(actor))
    if tier:
        stmt = stmt.where(Customer.tier == tier)
    if industry:
        stmt = stmt.where(Customer.industry.like(f"{industry}%"))
    if owner_ref:
        stmt = stmt.where(Customer.owner_id.in_(select(Staff.id).where(Staff.ref == owner_ref)))
    if tag:
        stmt = stmt.where(Customer.id.in_(
            select(CustomerTag.customer_id).join(Tag).where(Tag.name == tag.strip().lstrip("#"))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = {t: i for i, t in enumerate(TIERS)}
    rows = list(session.scalars(stmt.options(selectinload(Customer.tag_links))))
    rows.sort(key=lambda c: (order.get(c.tier or "", 9), c.name))
    page = rows[offset:offset + limit]
    return Page(items=[CustomerRow(ref=c.ref, name=c.name, tier=c.tier, industry=c.industry,
                                   owner=c.owner.name if c.owner else None, tags=c.tag_names) for c in page],
                total=total, offset=offset)
