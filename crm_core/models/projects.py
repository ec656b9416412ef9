"""Projects, their members and bound chats, and tasks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, IdMixin, RefMixin, TimestampMixin
from crm_core.models.customers import Customer
from crm_core.models.people import Staff

PROJECT_STATUSES = ("筹备中", "进行中", "已完成", "已暂停")
TASK_STATUSES = ("待办", "进行中", "已完成", "已取消")
OPEN_TASK_STATUSES = ("待办", "进行中")


class Project(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "projects"
    # covering: churn scoring counts a block's projects by start day from the index alone
    __table_args__ = (Index("ix_projects_customer_start", "customer_id", "start", "created_at"),)

    name: Mapped[str] = mapped_column(String(200), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="进行中")
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    customer: Mapped[Customer] = relationship()
    manager: Mapped[Staff | None] = relationship()
    members: Mapped[list[ProjectMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMember.id"
    )
    chats: Mapped[list[ChatBinding]] = relationship(back_populates="project")


class ProjectMember(IdMixin, Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "staff_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))

    project: Mapped[Project] = relationship(back_populates="members")
    staff: Mapped[Staff] = relationship()


class ChatBinding(IdMixin, RefMixin, TimestampMixin, Base):
    """A messenger chat bound to a project (group reminders) or a customer (client service)."""

    __tablename__ = "chat_bindings"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="project_group")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))

    project: Mapped[Project | None] = relationship(back_populates="chats")


class Task(IdMixin, RefMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_status_due", "status", "due"),
        Index("ix_tasks_assignee_status", "assignee_id", "status"),
        Index("ix_tasks_project_status", "project_id", "status"),
        # "历史相似任务平均耗时": the latest completed tasks with the same title / kind (crm_core.services.reminders)
        Index("ix_tasks_title_history", "title", "status", "completed_at"),
        Index("ix_tasks_kind_history", "kind", "status", "completed_at"),
    )

    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="待办")
    completed_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    project: Mapped[Project | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
