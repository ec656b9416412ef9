"""Customers, their contacts, tags, interactions, behaviour events, segments and campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin, utcnow
from crm_core.models.people import Staff

TIERS = ("战略级", "成长级", "常规级")
BUDGET_LEVELS = ("高", "中", "低")
INDUSTRIES = ("快消", "美妆", "科技", "文旅", "汽车", "餐饮", "教育")


class Customer(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(128), index=True)
    short_name: Mapped[str | None] = mapped_column(String(64))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(32), index=True)
    scale: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    tier: Mapped[str | None] = mapped_column(String(8), index=True)
    tier_source: Mapped[str | None] = mapped_column(String(16))  # rule | manual (a manual tier stays) | import
    budget_level: Mapped[str | None] = mapped_column(String(4))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="合作中")
    last_contact_at: Mapped[datetime | None] = mapped_column()
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)  # archived duplicate
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    owner: Mapped[Staff | None] = relationship(foreign_keys=[owner_id])
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", order_by="Contact.id")
    tag_links: Mapped[list[CustomerTag]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerTag.id"
    )

    @property
    def tag_names(self) -> list[str]:
        return [link.tag.name for link in self.tag_links]


class Contact(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "contacts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(128), index=True)
    wecom_external_userid: Mapped[str | None] = mapped_column(String(128), unique=True)
    kf_external_userid: Mapped[str | None] = mapped_column(String(128), unique=True)
    dingtalk_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))  # a duplicate kept for undo

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class TagCategory(IdMixin, Base):
    __tablename__ = "tag_categories"

    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str | None] = mapped_column(String(200))


class Tag(IdMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(32), unique=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("tag_categories.id"))

    category: Mapped[TagCategory | None] = relationship()


class CustomerTag(IdMixin, Base):
    """A tag on a customer, with where it came from (manual / rule / nlp / import)."""

    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("customer_id", "tag_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="tag_links")
    tag: Mapped[Tag] = relationship(lazy="joined")


class Interaction(IdMixin, RefMixin, Base):
    """A follow-up: call, visit, WeChat, meeting, e-mail."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_time", "customer_id", "occurred_at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(16), default="其他")
    summary: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff | None] = relationship()


class BehaviorEvent(IdMixin, Base):
    """Client behaviour: proposal opened, report viewed, link clicked …"""

    __tablename__ = "behavior_events"
    __table_args__ = (Index("ix_behavior_customer_time", "customer_id", "occurred_at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(128))
    seconds: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Segment(IdMixin, RefMixin, TimestampMixin, Base):
    """A saved customer filter (tier, industry, tags, owner …)."""

    __tablename__ = "segments"

    name: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Campaign(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(128))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    channel: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="草稿")
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
