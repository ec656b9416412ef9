"""Leads, opportunities, proposals (versions, annotations, views), contracts and payment plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin, utcnow
from crm_core.models.customers import Customer
from crm_core.models.people import Staff

STAGES = ("需求确认", "方案报价", "合同谈判", "签约成功", "输单")
OPEN_STAGES = STAGES[:3]
LEAD_STATUSES = ("待分配", "已认领", "已转化", "已关闭")
PAYMENT_STATUSES = ("待收", "部分收款", "已收")
Money = Numeric(14, 2)


class Lead(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "leads"

    name: Mapped[str] = mapped_column(String(128), index=True)
    industry: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(8), default="待分配", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))

    owner: Mapped[Staff | None] = relationship()


class Opportunity(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "opportunities"
    __table_args__ = (Index("ix_opportunities_stage_followup", "stage", "last_followup_at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(8), default="需求确认")
    amount: Mapped[Decimal | None] = mapped_column(Money)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    expected_close: Mapped[date | None] = mapped_column(Date)
    last_followup_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    customer: Mapped[Customer] = relationship()
    owner: Mapped[Staff | None] = relationship()


class Proposal(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "proposals"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    title: Mapped[str] = mapped_column(String(200))

    versions: Mapped[list[ProposalVersion]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalVersion.number"
    )


class ProposalVersion(IdMixin, Base):
    __tablename__ = "proposal_versions"
    # (proposal_id, id) covering: "was it opened" probes a proposal's versions, then their views, from indexes alone
    __table_args__ = (UniqueConstraint("proposal_id", "number"), Index("ix_proposal_versions_proposal", "proposal_id", "id"))

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    change_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="versions")
    annotations: Mapped[list[ProposalAnnotation]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ProposalAnnotation.id"
    )
    views: Mapped[list[ProposalView]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ProposalView.viewed_at"
    )


class ProposalAnnotation(IdMixin, Base):
    """A client's comment on a proposal version."""

    __tablename__ = "proposal_annotations"

    version_id: Mapped[int] = mapped_column(ForeignKey("proposal_versions.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[ProposalVersion] = relationship(back_populates="annotations")


class ProposalView(IdMixin, Base):
    __tablename__ = "proposal_views"
    __table_args__ = (Index("ix_proposal_views_version_viewed", "version_id", "viewed_at"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("proposal_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[ProposalVersion] = relationship(back_populates="views")


class Contract(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "contracts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    signed_at: Mapped[date | None] = mapped_column(Date)
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="履行中")

    customer: Mapped[Customer] = relationship()
    owner: Mapped[Staff | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(back_populates="contract", order_by="Payment.due")

    # the churn model's labelled samples are the contracts that ended most recently
    __table_args__ = (Index("ix_contracts_end", "end"),)


class Payment(IdMixin, RefMixin, TimestampMixin, Base):
    """One instalment of a contract's payment plan."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_status_due", "status", "due"),)

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    due: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    paid_at: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="待收")

    contract: Mapped[Contract] = relationship(back_populates="payments")
