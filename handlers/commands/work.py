"""/项目 /建任务 /完成 /任务"""

from __future__ import annotations

from crm_core.errors import NotFound
from handlers.actions.resolve import _linker, project_ref, staff_ref, task_ref
from handlers.commands.args import is_self, split_typed, tokens
from handlers.commands.base import apply, usage
from handlers.registry import Context, registry
from handlers.reply import Reply


@registry.command("项目", intent="project.status", summary="查看项目进度", aliases=("project", "xm"),
                  usage="/项目 <项目名称>", examples=("/项目 星屿科技海外品牌片",), group="项目与任务")
def project_status(ctx: Context, args: str) -> Reply:
    name = args.strip()
    if not name:
        if ctx.actor.kind == "external":
            return apply(ctx, "project.status", {})
        return usage("project.status", "请告诉我项目名称，例如：/项目 星屿科技海外品牌片")
    return apply(ctx, "project.status", {"project": project_ref(ctx, name)})


def _staff_token(ctx: Context, tok: str) -> str | None:
    if is_self(tok):
        return ctx.actor.staff_ref
    people = _linker(ctx).catalogue.staff()
    exact = [p for p in people if tok in (p.name, p.ref)]
    if exact:
        return exact[0].key
    found = _linker(ctx).link(tok).of("staff")
    if found and found[0].end - found[0].start == len(tok):
        return staff_ref(ctx, tok)
    return None


@registry.command("建任务", intent="task.create", summary="新建任务（项目、负责人、截止日期）",
                  aliases=("newtask", "jrw", "新任务"), usage="/建任务 [项目] <标题> [负责人] [截止日期]",
                  examples=("/建任务 晨光乳业新品发布会 确认场地 张浩然 周五", "/建任务 整理客户名单 我 月底"),
                  group="项目与任务")
def task_create(ctx: Context, args: str) -> Reply:
    split = split_typed(args, ctx.now.date(), want_amounts=False)
    slots: dict[str, object] = {}
    title: list[str] = []
    for tok in split.rest:
        if "assignee" not in slots and (who := _staff_token(ctx, tok)):
            slots["assignee"] = who
            continue
        if "project" not in slots and not title:
            try:
                slots["project"] = project_ref(ctx, tok)
                continue
            except NotFound:
                pass
        title.append(tok)
    if not title:
        return usage("task.create", "用法：/建任务 [项目] <标题> [负责人] [截止日期]")
    slots["title"] = " ".join(title)
    if split.dates:
        slots["due"] = split.dates[0]
    return apply(ctx, "task.create", slots)


@registry.command("完成", intent="task.done", summary="把任务标记为完成", aliases=("done", "wc"),
                  usage="/完成 <任务编号或名称>", examples=("/完成 T-12", "/完成 海报初稿"), group="项目与任务")
def task_done(ctx: Context, args: str) -> Reply:
    text = args.strip()
    if not text:
        return usage("task.done", "用法：/完成 <任务编号或名称>")
    return apply(ctx, "task.done", {"task": task_ref(ctx, text)})


@registry.command("任务", intent="task.list", summary="我的、逾期、某项目或某同事的任务", aliases=("tasks", "rw"),
                  usage="/任务 [我的|逾期|项目名|同事]",
                  examples=("/任务 我的", "/任务 逾期", "/任务 晨光乳业新品发布会", "/任务 张浩然"), group="项目与任务")
def task_list(ctx: Context, args: str) -> Reply:
    toks = tokens(args)
    slots: dict[str, object] = {"scope": "mine"}
    overdue = any(t in ("逾期", "超期", "overdue", "延期") for t in toks)
    rest = [t for t in toks if t not in ("逾期", "超期", "overdue", "延期", "我的", "我", "mine", "的")]
    if overdue:
        slots["scope"] = "overdue"
        if any(is_self(t) for t in toks):
            slots["assignee"] = ctx.actor.staff_ref
    if rest:
        name = " ".join(rest)
        who = _staff_token(ctx, name)
        if who:
            slots["assignee"] = who
            slots["scope"] = "overdue" if overdue else "person"
        else:
            slots["project"] = project_ref(ctx, name)
            slots["scope"] = "overdue" if overdue else "project"
    return apply(ctx, "task.list", slots)
