"""Project and task actions: status card, create, complete, lists."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator
from sqlalchemy import select

from crm_core.errors import InvalidInput, NotFound
from crm_core.models import Staff
from crm_core.permissions import Cap
from crm_core.services import customers as customer_svc
from crm_core.services import work as svc
from handlers.actions.base import Args, NeedChoice, action
from handlers.format import day, page_note
from handlers.registry import Context
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply


def _staff(ctx: Context, ref: str) -> Staff:
    staff = ctx.session.scalars(select(Staff).where(Staff.ref == ref, Staff.active.is_(True))).first()
    if staff is None:
        raise NotFound("没有找到这位同事。")
    return staff


# --- project status ------------------------------------------------------------------------------


class ProjectStatusArgs(Args):
    project: str | None = Field(default=None, description="项目 ref")
    customer: str | None = Field(default=None, exclude=True, description="只知道客户时：该客户进行中的项目")


@action("project.status", title="项目进度", summary="查看项目进度：完成情况、逾期任务、接下来的节点", args=ProjectStatusArgs,
        cap=Cap.project_read, external=True)
def project_status(ctx: Context, args: ProjectStatusArgs) -> Reply:
    if args.project:
        project = svc.project_by_ref(ctx.session, ctx.actor, args.project)
    elif ctx.actor.kind == "external" or args.customer:
        cid = ctx.actor.customer_id if ctx.actor.kind == "external" else \
            customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer or "").id
        projects = svc.customer_projects(ctx.session, ctx.actor, cid) if cid else []
        if not projects:
            raise NotFound("没有找到进行中的项目。")
        if len(projects) > 1:
            raise NeedChoice("有多个进行中的项目，你想看哪一个？", "project",
                             [(p.ref or f"#{p.id}", p.name) for p in projects])
        project = projects[0]
    else:
        raise InvalidInput("请告诉我项目名称，例如：/项目 星屿科技品牌升级")
    today = ctx.now.date()
    st = svc.project_status(ctx.session, ctx.actor, project, today)
    ctx.cache["touched"] = {"project": project.ref or f"#{project.id}"}
    reply = Reply(intent="project.status")
    reply.add(Heading(text=f"项目进度｜{st.name}"))
    pct = f"{st.done_tasks}/{st.total_tasks}" + (f"（{st.done_tasks / st.total_tasks:.0%}）" if st.total_tasks else "")
    pairs = [("客户", st.customer), ("状态", st.status), ("周期", f"{day(st.start)} ~ {day(st.end)}"), ("任务完成", pct)]
    if st.end and st.status != "已完成":
        left = (st.end - today).days
        pairs.append(("距结束", f"{left} 天" if left >= 0 else f"已超期 {-left} 天"))
    reply.add(Fields(pairs=pairs))
    if ctx.actor.kind == "external":  # a client sees progress, not who inside the agency is late
        st.overdue = [(t, "", due) for t, _, due in st.overdue]
        st.upcoming = [(t, "", due) for t, _, due in st.upcoming]
    if st.overdue:
        reply.add(ListBlock(title=f"逾期任务（{len(st.overdue)}）：", items=[
            "｜".join(filter(None, [t, who, f"应于 {day(due)}，已逾期 {(today - due).days} 天" if due else None]))
            for t, who, due in st.overdue]))
    else:
        reply.add(Paragraph(text="没有逾期任务。"))
    if st.upcoming:
        reply.add(ListBlock(title="接下来：", items=["｜".join(filter(None, [t, who, day(due)]))
                                                   for t, who, due in st.upcoming]))
    return reply


# --- tasks ---------------------------------------------------------------------------------------


class TaskCreateArgs(Args):
    project: str | None = Field(default=None, description="项目 ref；不填为个人待办")
    title: str = Field(min_length=1, max_length=200)
    assignee: str | None = Field(default=None, description="负责人（员工 ref）；不填为自己")
    due: date | None = Field(default=None, description="截止日期 YYYY-MM-DD")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return value.strip("，,。 ")


def _task_preview(ctx: Context, args: TaskCreateArgs) -> list[str]:
    project = svc.project_by_ref(ctx.session, ctx.actor, args.project) if args.project else None
    who = _staff(ctx, args.assignee).name if args.assignee else ctx.actor.name
    lines = [f"新建任务「{args.title}」", f"负责人：{who}", f"截止：{day(args.due) if args.due else '未设置'}"]
    lines.insert(1, f"项目：{project.name}" if project else "项目：无（个人待办）")
    if args.due and args.due < ctx.now.date():
        lines.append("注意：截止日期早于今天")
    return lines


@action("task.create", title="新建任务", summary="新建任务（项目、标题、负责人、截止日期）", args=TaskCreateArgs,
        cap=Cap.task_create, write=True, preview=_task_preview)
def task_create(ctx: Context, args: TaskCreateArgs) -> Reply:
    project = svc.project_by_ref(ctx.session, ctx.actor, args.project) if args.project else None
    assignee = _staff(ctx, args.assignee) if args.assignee else None
    task = svc.create_task(ctx.session, ctx.actor, args.title, project=project, assignee=assignee, due=args.due)
    who = assignee.name if assignee else ctx.actor.name
    text = f"已新建任务「{task.title}」：{who} 负责" + (f"，{day(task.due)} 截止" if task.due else "") + \
        (f"，属于「{project.name}」" if project else "") + "。"
    reply = Reply.text(text, intent="task.create", actions=[{"action": "task.create", "status": "done",
                                                             "target": task.ref or f"#{task.id}"}])
    if assignee and assignee.id != ctx.actor.staff_id and assignee.wecom_userid:
        reply.mentions.append(assignee.wecom_userid)
    return reply


class TaskDoneArgs(Args):
    task: str = Field(description="任务 ref")


def _done_preview(ctx: Context, args: TaskDoneArgs) -> list[str]:
    task = svc.task_by_ref(ctx.session, ctx.actor, args.task)
    where = f"（{task.project.name}）" if task.project else ""
    return [f"把任务「{task.title}」{where}标记为已完成"]


@action("task.done", title="完成任务", summary="把任务标记为已完成", args=TaskDoneArgs, cap=Cap.task_update, write=True,
        preview=_done_preview)
def task_done(ctx: Context, args: TaskDoneArgs) -> Reply:
    task = svc.task_by_ref(ctx.session, ctx.actor, args.task)
    svc.complete_task(ctx.session, ctx.actor, task)
    late = task.due and task.due < ctx.now.date()
    return Reply.text(f"已完成任务「{task.title}」" + ("（比截止日期晚了一些，辛苦了）" if late else "，辛苦了！"),
                      intent="task.done", actions=[{"action": "task.done", "status": "done",
                                                    "target": task.ref or f"#{task.id}"}])


class TaskListArgs(Args):
    scope: Literal["mine", "overdue", "project", "person"] = "mine"
    project: str | None = Field(default=None, description="项目 ref")
    assignee: str | None = Field(default=None, description="负责人（员工 ref）")
    until: date | None = Field(default=None, exclude=True)


_SCOPE_TITLES = {"mine": "我的任务", "overdue": "逾期任务", "project": "项目任务", "person": "任务"}


@action("task.list", title="任务列表", summary="列出任务：我的、逾期的、某个项目的、某个人的", args=TaskListArgs,
        cap=Cap.task_read)
def task_list(ctx: Context, args: TaskListArgs) -> Reply:
    size = ctx.settings.page_size
    today = ctx.now.date()
    if args.scope == "project" and not args.project:
        raise InvalidInput("请告诉我是哪个项目，例如：/任务 项目 星屿科技品牌升级")
    if args.scope == "person" and not args.assignee:
        raise InvalidInput("请告诉我是哪位同事，例如：/任务 张三")
    page = svc.list_tasks(ctx.session, ctx.actor, args.scope, today, assignee_ref=args.assignee,
                          project_ref=args.project, until=args.until, offset=(args.page - 1) * size, limit=size)
    title = _SCOPE_TITLES[args.scope]
    if args.project:
        title = f"{svc.project_by_ref(ctx.session, ctx.actor, args.project).name}｜{title}"
    if args.assignee and args.assignee != ctx.actor.staff_ref:
        title = f"{_staff(ctx, args.assignee).name}的{title.replace('项目任务', '任务')}"
    elif args.assignee and args.scope == "overdue":
        title = "我的逾期任务"
    reply = Reply(intent="task.list")
    if not page.total:
        empty = {"overdue": "没有逾期的任务 👍", "mine": "你手上没有未完成的任务。"}.get(args.scope, "没有符合条件的任务。")
        return reply.add(Paragraph(text=f"{title}：{empty}"))
    reply.add(Heading(text=f"{title}（{page.total}）"))
    items = []
    for t in page.items:
        parts = [t.title]
        if t.project and not args.project:
            parts.append(t.project)
        if t.assignee and args.scope != "mine":
            parts.append(t.assignee)
        due = day(t.due) if t.due else "无截止"
        parts.append(f"{due}（逾期 {(today - t.due).days} 天）" if t.overdue and t.due else due)
        if t.status not in ("待办", "进行中"):
            parts.append(t.status)
        items.append("｜".join(parts))
    reply.add(ListBlock(ordered=True, items=items))
    note = page_note(page.offset, len(page.items), page.total)
    if note:
        reply.add(Paragraph(text=note, tone="comment"))
    return reply
