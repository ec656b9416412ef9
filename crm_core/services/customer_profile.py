"""The 360° customer profile: one read of each section, permission-checked once.

Every section is a column query built once at import (parameters bound per call), so a profile
costs about ten small statements and no ORM object loading: ``/客户`` is the command people send
most, and building statements and entities was most of its cost (docs/benchmarks.md, "Channels").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from config import get_settings
from crm_core.actor import Actor
from crm_core.errors import NotFound
from crm_core.hot_reads import HotRead
from crm_core.models import (
    OPEN_STAGES,
    OPEN_TASK_STATUSES,
    Contact,
    Contract,
    Customer,
    CustomerRisk,
    CustomerTag,
    Interaction,
    Opportunity,
    Payment,
    Project,
    Staff,
    Tag,
    TagCategory,
    Task,
    TierAssessment,
)
from crm_core.permissions import (
    Cap,
    ScopeShape,
    can_see_contact_details,
    mask_email,
    mask_phone,
    note_visible,
    require,
    scope_of,
    shape_scope,
)
from crm_core.risk import history
from crm_core.services import tiering


class ContactView(BaseModel):
    name: str
    title: str | None
    phone: str | None
    email: str | None
    masked: bool


class OpportunityView(BaseModel):
    ref: str | None
    name: str
    stage: str
    amount: Decimal | None


class ProjectView(BaseModel):
    ref: str | None
    name: str
    status: str
    open_tasks: int
    overdue_tasks: int


class PaymentView(BaseModel):
    contract: str
    due: date
    amount: Decimal
    paid_amount: Decimal
    status: str


class InteractionView(BaseModel):
    occurred_at: datetime
    kind: str
    summary: str
    staff: str | None


class TagView(BaseModel):
    name: str
    category: str | None
    source: str  # manual | rule | nlp | import
    reason: str | None


class TierInfo(BaseModel):
    source: str | None  # rule | manual | import
    model_tier: str | None
    score: float | None
    reasons: list[str]
    playbook: list[str]
    changed: str | None  # "2026-12-01 成长级 → 战略级（规则）"
    live: bool
    cases: list[str]


class CustomerProfile(BaseModel):
    id: int
    ref: str | None
    name: str
    legal_name: str | None
    industry: str | None
    scale: str | None
    region: str | None
    tier: str | None
    budget_level: str | None
    owner: str | None
    tags: list[str]
    contacts: list[ContactView]
    open_opportunities: list[OpportunityView]
    projects: list[ProjectView]
    next_payment: PaymentView | None
    overdue_payments: list[PaymentView]
    last_contact: InteractionView | None
    risk: str | None  # filled once a risk score exists; None means "unknown", never "no risk"
    version: int
    tag_details: list[TagView] = []
    tier_info: TierInfo | None = None


_CID = bindparam("cid")
_HEAD_COLUMNS = (Customer.id, Customer.ref, Customer.name, Customer.legal_name, Customer.industry, Customer.scale,
                 Customer.region, Customer.tier, Customer.tier_source, Customer.budget_level, Customer.owner_id,
                 Customer.version, Staff.name.label("owner_name"),
                 # one-to-one sections ride along: the stored tier assessment and churn score
                 TierAssessment.customer_id.label("assessed"), TierAssessment.tier.label("assessed_tier"),
                 TierAssessment.score.label("assessed_score"), TierAssessment.reasons.label("assessed_reasons"),
                 CustomerRisk.customer_id.label("risk_id"), CustomerRisk.score.label("risk_score"),
                 CustomerRisk.method.label("risk_method"), CustomerRisk.reasons.label("risk_reasons"),
                 CustomerRisk.as_of.label("risk_as_of"))
_CONTACTS = HotRead(select(Contact.name, Contact.title, Contact.phone, Contact.email)
                     .where(Contact.customer_id == _CID, Contact.merged_into_id.is_(None)).order_by(Contact.id))
_TAGS = HotRead(select(Tag.name, TagCategory.name, CustomerTag.source, CustomerTag.reason)
                 .join(Tag, CustomerTag.tag_id == Tag.id).outerjoin(TagCategory, Tag.category_id == TagCategory.id)
                 .where(CustomerTag.customer_id == _CID).order_by(CustomerTag.id))
_OPPORTUNITIES = HotRead(select(Opportunity.ref, Opportunity.name, Opportunity.stage, Opportunity.amount)
                          .where(Opportunity.customer_id == _CID, Opportunity.stage.in_(OPEN_STAGES))
                          .order_by(Opportunity.amount.desc(), Opportunity.id))
_PROJECTS = HotRead(select(Project.ref, Project.name, Project.status, func.count(Task.id),
                            func.coalesce(func.sum(case((Task.due < bindparam("today"), 1), else_=0)), 0), Project.start)
                     .outerjoin(Task, and_(Task.project_id == Project.id, Task.status.in_(OPEN_TASK_STATUSES)))
                     .where(Project.customer_id == _CID)
                     .group_by(Project.id, Project.ref, Project.name, Project.status, Project.start)
                     .order_by(Project.start.desc(), Project.id.desc()))
_UNPAID = HotRead(select(Contract.title, Payment.due, Payment.amount, Payment.paid_amount, Payment.status)
                   .join(Contract, Payment.contract_id == Contract.id)
                   .where(Contract.customer_id == _CID, Payment.status != "已收").order_by(Payment.due, Payment.id))
_LAST_CONTACT = HotRead(select(Interaction.occurred_at, Interaction.kind, Interaction.summary, Staff.name)
                         .outerjoin(Staff, Interaction.staff_id == Staff.id).where(Interaction.customer_id == _CID)
                         .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(1))


@lru_cache(maxsize=16)
def _head_statement(shape: ScopeShape, by_ref: bool) -> HotRead:
    match = Customer.ref == bindparam("key") if by_ref else Customer.id == bindparam("key")
    return HotRead(select(*_HEAD_COLUMNS).outerjoin(Staff, Customer.owner_id == Staff.id)
                   .outerjoin(TierAssessment, TierAssessment.customer_id == Customer.id)
                   .outerjoin(CustomerRisk, CustomerRisk.customer_id == Customer.id)
                   .where(match, shape_scope(shape)).limit(1))


def _head(session: Session, actor: Actor, by_ref: bool, key: str | int) -> Any:
    session.flush()  # the sections below read through the connection, which does not flush by itself
    shape, params = scope_of(actor)
    row = _head_statement(shape, by_ref).first(session.connection(), {**params, "key": key})
    if row is None:
        raise NotFound("没有找到你可以查看的这位客户。")
    note_visible(session, actor, row.id)
    return row


def profile_by_ref(session: Session, actor: Actor, ref: str, today: date, *,
                   risk_threshold: int | None = None) -> CustomerProfile:
    """The profile of a visible customer by ref (or ``#id``); NotFound otherwise, whether it exists or not."""
    require(actor, Cap.customer_read)
    by_id = ref.startswith("#") and ref[1:].isdigit()
    head = _head(session, actor, False, int(ref[1:])) if by_id else _head(session, actor, True, ref)
    return _assemble(session, actor, head, today, risk_threshold)


def profile(session: Session, actor: Actor, customer: Customer | int, today: date, *,
            risk_threshold: int | None = None) -> CustomerProfile:
    require(actor, Cap.customer_read)
    cid = customer if isinstance(customer, int) else customer.id
    return _assemble(session, actor, _head(session, actor, False, cid), today, risk_threshold)


def _assemble(session: Session, actor: Actor, head: Any, today: date, risk_threshold: int | None) -> CustomerProfile:
    cid = {"cid": head.id}
    conn = session.connection()  # column reads only: the Core path costs a third of the ORM one per statement
    unmasked = can_see_contact_details(session, actor, head)
    contacts = [ContactView(name=name, title=title, masked=not unmasked,
                            phone=phone if unmasked else mask_phone(phone),
                            email=email if unmasked else mask_email(email))
                for name, title, phone, email in _CONTACTS.rows(conn, cid)]
    tags = [TagView(name=name, category=category, source=source, reason=reason)
            for name, category, source, reason in _TAGS.rows(conn, cid)]
    unpaid = [PaymentView(contract=title, due=due, amount=amount, paid_amount=paid, status=status)
              for title, due, amount, paid, status in _UNPAID.rows(conn, cid)]
    last = _LAST_CONTACT.first(conn, cid)
    projects = _PROJECTS.rows(conn, {**cid, "today": today})
    starts = [row.start for row in projects if row.start is not None]
    known = tiering.Facts(industry=head.industry, budget_level=head.budget_level, projects=len(projects),
                          first=min(starts) if starts else None)
    return CustomerProfile(
        id=head.id, ref=head.ref, name=head.name, legal_name=head.legal_name, industry=head.industry,
        scale=head.scale, region=head.region, tier=head.tier, budget_level=head.budget_level, owner=head.owner_name,
        tags=[t.name for t in tags], contacts=contacts,
        open_opportunities=[OpportunityView(ref=ref, name=name, stage=stage, amount=amount)
                            for ref, name, stage, amount in _OPPORTUNITIES.rows(conn, cid)],
        projects=[ProjectView(ref=ref, name=name, status=status, open_tasks=int(n or 0), overdue_tasks=int(late or 0))
                  for ref, name, status, n, late, _ in projects],
        next_payment=next((v for v in unpaid if v.due >= today), None),
        overdue_payments=[v for v in unpaid if v.due < today],
        last_contact=InteractionView(occurred_at=last[0], kind=last[1], summary=last[2], staff=last[3]) if last else None,
        risk=history.describe(_stored_risk(head), _risk_threshold(risk_threshold)),
        version=head.version,
        tag_details=tags,
        tier_info=_tier_info(session, actor, head, today, known),
    )


@dataclass
class _StoredRisk:
    score: int | None
    method: str
    reasons: list[str]
    as_of: date


def _stored_risk(head: Any) -> _StoredRisk | None:
    if head.risk_id is None:
        return None
    return _StoredRisk(head.risk_score, head.risk_method, list(head.risk_reasons or []), head.risk_as_of)


def _risk_threshold(threshold: int | None) -> int:
    return threshold if threshold is not None else get_settings().churn_alert_threshold


def _tier_info(session: Session, actor: Actor, head: Any, today: date, known: tiering.Facts) -> TierInfo:
    stored = (head.assessed_tier, head.assessed_score, list(head.assessed_reasons or [])) if head.assessed else None
    v = tiering.view_of(session, head.id, head.tier, head.tier_source, today, stored=stored, known=known)
    changed = None
    if v.last_change is not None:
        lc = v.last_change
        how = {"rule": "模型评定", "manual": "手动设定"}.get(lc.source, lc.source)
        changed = f"{lc.created_at.date().isoformat()} {lc.old_tier or '未分级'} → {lc.new_tier}（{how}）"
    cases = [title + (f"（{client}）" if client else "")
             for title, client in tiering.recommended_case_titles(session, actor, head.industry, head.tier)]
    return TierInfo(source=v.source, model_tier=v.model_tier, score=v.score, reasons=v.reasons, playbook=v.playbook,
                    changed=changed, live=v.live, cases=cases)
