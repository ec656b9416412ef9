"""Projects, tasks and opportunities: scoped reads and versioned, audited writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.db import flush_or_conflict
from crm_core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.models import (
    OPEN_TASK_STATUSES,
    STAGES,
    Customer,
    Opportunity,
    Project,
    Role,
    Staff,
    Task,
    utcnow,
)
from crm_core.permissions import Cap, can_manage_customer, customer_scope, require, sees_everything
from crm_core.services.paging import Page


def project_scope(actor: Actor) -> ColumnElement[bool]:
    """Projects of visible customers; an external contact sees its own customer's projects only."""
    if actor.kind == "external":
        return Project.customer_id == actor.customer_id if actor.customer_id else false()
    if sees_everything(actor):
        return true()
    return Project.customer_id.in_(select(Customer.id).where(customer_scope(actor)))


def task_scope(actor: Actor) -> ColumnElement[bool]:
    """Tasks of visible projects, plus one's own (personal to-dos have no project)."""
    if actor.kind != "staff" and not sees_everything(actor):
        return false()
    if sees_everything(actor):
        return true()
    return or_(Task.project_id.in_(select(Project.id).where(project_scope(actor))),
               Task.assignee_id == actor.staff_id, Task.creator_id == actor.staff_id)


class ProjectStatus(BaseModel):
    ref: str | None
    name: str
    customer: str
    status: str
    start: date | None
    end: date | None
    total_tasks: int
    done_tasks: int
    overdue: list[tuple[str, str, date | None]]  # title, assignee, due
    upcoming: list[tuple[str, str, date | None]]


def find_project(session: Session, actor: Actor, text: str) -> Project:
    require(actor, Cap.project_read)
    text = text.strip()
    rows = list(session.scalars(
        select(Project).where(project_scope(actor),
                              or_(Project.ref == text, Project.name == text, Project.name.contains(text)))
        .order_by(Project.start.desc()).limit(5)
    ))
    if not rows:
        raise NotFound(f"没有找到你可以查看的项目「{text}」。")
    exact = [p for p in rows if text in (p.ref, p.name)]
    return (exact or rows)[0]


def project_status(session: Session, actor: Actor, project: Project, today: date) -> ProjectStatus:
    require(actor, Cap.project_read)
    if session.scalars(select(Project.id).where(Project.id == project.id, project_scope(actor))).first() is None:
        raise NotFound("没有找到你可以查看的这个项目。")
    tasks = list(session.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.due)))
    open_tasks = [t for t in tasks if t.status in OPEN_TASK_STATUSES]

    def row(t: Task) -> tuple[str, str, date | None]:
        return t.title, t.assignee.name if t.assignee else "未分配", t.due

    return ProjectStatus(
        ref=project.ref, name=project.name, customer=project.customer.name, status=project.status,
        start=project.start, end=project.end, total_tasks=len(tasks),
        done_tasks=sum(t.status == "已完成" for t in tasks),
        overdue=[row(t) for t in open_tasks if t.due and t.due < today],
        upcoming=[row(t) for t in open_tasks if not t.due or t.due >= today][:5],
    )


def create_task(session: Session, actor: Actor, title: str, *, project: Project | None = None,
                assignee: Staff | None = None, due: date | None = None) -> Task:
    require(actor, Cap.task_create)
    if not title.strip():
        raise InvalidInput("任务标题不能为空")
    if project is not None and session.scalars(
        select(Project.id).where(Project.id == project.id, project_scope(actor))
    ).first() is None:
        raise NotFound("没有找到你可以查看的这个项目。")
    task = Task(title=title.strip(), project_id=project.id if project else None,
                assignee_id=assignee.id if assignee else actor.staff_id, creator_id=actor.staff_id, due=due,
                status="待办")
    session.add(task)
    session.flush()
    audit.record(session, actor, "task.create", task, None, audit.snapshot(task))
    return task


def _can_change_task(session: Session, actor: Actor, task: Task) -> bool:
    if sees_everything(actor) or actor.role == Role.manager:
        return True
    if actor.staff_id in (task.assignee_id, task.creator_id):
        return True
    return task.project is not None and task.project.manager_id == actor.staff_id


def complete_task(session: Session, actor: Actor, task: Task, expected_version: int | None = None) -> Task:
    require(actor, Cap.task_update)
    if session.scalars(select(Task.id).where(Task.id == task.id, task_scope(actor))).first() is None:
        raise NotFound("没有找到你可以查看的这个任务。")
    if not _can_change_task(session, actor, task):
        raise PermissionDenied("只有任务负责人、创建人、项目负责人或主管可以关闭这个任务。")
    if expected_version is not None and expected_version != task.version:
        raise Conflict(f"任务「{task.title}」刚被其他人修改过，请重新查看后再操作。")
    if task.status == "已完成":
        raise InvalidInput(f"任务「{task.title}」已经是完成状态。")
    before = audit.snapshot(task)
    task.status = "已完成"
    task.completed_at = utcnow()
    flush_or_conflict(session, f"任务「{task.title}」")
    audit.record(session, actor, "task.done", task, before, audit.snapshot(task))
    return task


def move_opportunity(session: Session, actor: Actor, opp: Opportunity, stage: str, *,
                     amount: Decimal | None = None, expected_version: int | None = None) -> Opportunity:
    require(actor, Cap.opportunity_update)
    customer = session.scalars(select(Customer).where(Customer.id == opp.customer_id, customer_scope(actor))).first()
    if customer is None:
        raise NotFound("没有找到你可以查看的这个商机。")
    if opp.owner_id != actor.staff_id and not can_manage_customer(session, actor, customer):
        raise PermissionDenied("只有商机负责人、客户负责人、主管或管理员可以推进这个商机。")
    if stage not in STAGES:
        raise InvalidInput(f"未知阶段「{stage}」（可选：{'/'.join(STAGES)}）")
    if expected_version is not None and expected_version != opp.version:
        raise Conflict(f"商机「{opp.name}」刚被其他人修改过，请重新查看后再操作。")
    before = audit.snapshot(opp)
    opp.stage = stage
    if amount is not None:
        opp.amount = amount
    opp.last_followup_at = utcnow()
    if stage in ("签约成功", "输单"):
        opp.closed_at = utcnow()
    flush_or_conflict(session, f"商机「{opp.name}」")
    audit.record(session, actor, "opportunity.stage", opp, before, audit.snapshot(opp))
    return opp


# --- lookups by ref and lists (chat) -------------------------------------------------------------


class TaskRow(BaseModel):
    ref: str | None
    title: str
    project: str | None
    assignee: str | None
    due: date | None
    status: str
    overdue: bool


TaskScope = Literal["mine", "overdue", "project", "person", "all"]


def _by_ref_cond(model: type[Project] | type[Task] | type[Opportunity], ref: str) -> ColumnElement[bool]:
    if ref.startswith("#") and ref[1:].isdigit():
        return model.id == int(ref[1:])
    return model.ref == ref


def project_by_ref(session: Session, actor: Actor, ref: str) -> Project:
    require(actor, Cap.project_read)
    project = session.scalars(select(Project).where(_by_ref_cond(Project, ref), project_scope(actor))).first()
    if project is None:
        raise NotFound("没有找到你可以查看的这个项目。")
    return project


def task_by_ref(session: Session, actor: Actor, ref: str) -> Task:
    require(actor, Cap.task_read)
    task = session.scalars(select(Task).where(_by_ref_cond(Task, ref), task_scope(actor))).first()
    if task is None:
        raise NotFound("没有找到你可以查看的这个任务。")
    return task


def customer_projects(session: Session, actor: Actor, customer_id: int, active_only: bool = True) -> list[Project]:
    require(actor, Cap.project_read)
    stmt = select(Project).where(Project.customer_id == customer_id, project_scope(actor))
    if active_only:
        stmt = stmt.where(Project.status.in_(("筹备中", "进行中")))
    return list(session.scalars(stmt.order_by(Project.start.desc())))


def list_tasks(session: Session, actor: Actor, scope: TaskScope, today: date, *, assignee_ref: str | None = None,
               project_ref: str | None = None, until: date | None = None, offset: int = 0,
               limit: int = 10) -> Page[TaskRow]:
    """Visible tasks: the sender's open ones (mine), overdue ones, a project's, or a person's open ones."""
    require(actor, Cap.task_read)
    stmt = select(Task).where(task_scope(actor))
    open_only = scope != "project"
    if scope == "mine":
        stmt = stmt.where(Task.assignee_id == actor.staff_id)
    if scope == "overdue":
        stmt = stmt.where(Task.due < today)
    if assignee_ref:
        stmt = stmt.where(Task.assignee_id.in_(select(Staff.id).where(Staff.ref == assignee_ref)))
    if project_ref:
        stmt = stmt.where(Task.project_id.in_(select(Project.id).where(_by_ref_cond(Project, project_ref))))
    if open_only:
        stmt = stmt.where(Task.status.in_(OPEN_TASK_STATUSES))
    if until is not None:
        stmt = stmt.where(or_(Task.due.is_(None), Task.due <= until))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    done_last = case((Task.status.in_(OPEN_TASK_STATUSES), 0), else_=1)
    rows = session.scalars(stmt.order_by(done_last, Task.due.is_(None), Task.due, Task.id).offset(offset).limit(limit))
    items = [TaskRow(ref=t.ref, title=t.title, project=t.project.name if t.project else None,
                     assignee=t.assignee.name if t.assignee else None, due=t.due, status=t.status,
                     overdue=bool(t.due and t.due < today and t.status in OPEN_TASK_STATUSES)) for t in rows]
    return Page(items=items, total=total, offset=offset)
