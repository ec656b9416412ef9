"""Staff, their roles and their talent profiles (skills, level, calendar, satisfaction)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin

if TYPE_CHECKING:
    from crm_core.models.curation import TalentWork


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    account_manager = "account_manager"
    sales = "sales"
    planner = "planner"
    designer = "designer"
    media = "media"
    service = "service"
    viewer = "viewer"


ROLE_LABELS: dict[str, str] = {
    "admin": "管理员",
    "manager": "经理",
    "account_manager": "客户经理",
    "sales": "销售",
    "planner": "策划",
    "designer": "设计",
    "media": "媒介",
    "service": "客服",
    "viewer": "只读",
}


class Staff(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "staff"

    name: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(32))
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    dingtalk_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    skills: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)

    talent: Mapped[TalentProfile | None] = relationship(back_populates="staff", uselist=False)


class TalentProfile(IdMixin, TimestampMixin, Base):
    __tablename__ = "talent_profiles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    skills: Mapped[list[str]] = mapped_column(default=list)
    styles: Mapped[list[str]] = mapped_column(default=list)
    level: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[float | None] = mapped_column(Float)
    bio: Mapped[str | None] = mapped_column(String(1000))

    staff: Mapped[Staff] = relationship(back_populates="talent")
    calendar: Mapped[list[CalendarBlock]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="CalendarBlock.start"
    )
    works: Mapped[list[TalentWork]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="TalentWork.id"
    )


class CalendarBlock(IdMixin, Base):
    """Leave or a booked block in a talent's calendar (inclusive dates)."""

    __tablename__ = "calendar_blocks"
    __table_args__ = (UniqueConstraint("profile_id", "start", "end", "kind"),)

    profile_id: Mapped[int] = mapped_column(ForeignKey("talent_profiles.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # leave | booked
    note: Mapped[str | None] = mapped_column(String(200))

    profile: Mapped[TalentProfile] = relationship(back_populates="calendar")
