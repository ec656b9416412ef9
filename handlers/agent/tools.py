"""The LLM's tools: the same actions as commands and the offline understanding, bound to the sender.

Each tool is built for one message and one sender, and only for actions that sender's role may
use — the model never sees the others. Arguments are what a person would type (names, not refs);
the tool resolves them against *visible* records only, runs the action through
``dispatch.perform`` with the sender's Actor, and hands the model the same text the sender would
see. Writes never apply here: they stop at the preview and wait for the sender's "确认".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, create_model

from crm_core.errors import CrmError
from handlers.actions import Action, NeedChoice, available
from handlers.actions.resolve import customer_ref, opportunity_ref, project_ref, staff_ref, task_ref
from handlers.dialogue import Conversation, Pending
from handlers.dispatch import choice_reply, perform
from handlers.registry import Context
from handlers.reply import Reply

# Entity arguments the model fills with names; each is resolved to a visible record's ref.
ENTITY_ARGS: dict[str, tuple[str, Any]] = {
    "customer": ("客户名称（可简称，如「星屿」）", customer_ref),
    "project": ("项目名称（可简称）", project_ref),
    "opportunity": ("商机名称（可简称）", opportunity_ref),
    "task": ("任务名称或编号", task_ref),
    "assignee": ("负责人姓名；「我」表示发消息的人", staff_ref),
    "owner": ("负责人姓名；「我」表示发消息的人", staff_ref),
}
# Free-text creation arguments that name something new rather than an existing record.
NEW_NAMES = {("customer.create", "customer"), ("lead.create", "customer")}


def tool_name(intent: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", intent)


@dataclass
class ToolRun:
    """What happened while the model used the tools (for the reply and ``--json``)."""

    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    final: Reply | None = None  # a preview or a question for the sender: the turn ends with it
    refused: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)


def _schema(act: Action) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in act.args.model_fields.items():
        if info.exclude:
            continue
        required = info.is_required()
        default = ... if required else None
        if name in ENTITY_ARGS and (act.intent, name) not in NEW_NAMES:
            desc = ENTITY_ARGS[name][0]
            fields[name] = (str if required else str | None, Field(default, description=desc))
        elif name == "value" and act.intent == "customer.update":
            fields[name] = (str, Field(..., description="新值；改负责人时填员工姓名，级别填 战略级/成长级/常规级，预算等级填 高/中/低"))
        else:
            annotation = info.annotation if required else info.annotation | None  # type: ignore[operator]
            fields[name] = (annotation, Field(default, description=info.description or ""))
    model: type[BaseModel] = create_model(f"{tool_name(act.intent)}_args", **fields)
    model.__doc__ = act.summary
    return model


def _resolve(ctx: Context, act: Action, kwargs: dict[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None or value == "":
            continue
        if name in ENTITY_ARGS and (act.intent, name) not in NEW_NAMES:
            resolver = ENTITY_ARGS[name][1]
            value = resolver(ctx, str(value), name) if name in ("assignee", "owner") else resolver(ctx, str(value))
        elif name == "value" and act.intent == "customer.update" and kwargs.get("field") == "owner":
            value = staff_ref(ctx, str(value), "value")
        elif isinstance(value, date):
            value = value.isoformat()
        slots[name] = value
    return slots


def build_tools(ctx: Context, conv: Conversation, run: ToolRun) -> list[StructuredTool]:
    tools = []
    for act in available(ctx.actor):
        tools.append(StructuredTool.from_function(
            func=_make_func(ctx, conv, act, run), name=tool_name(act.intent),
            description=act.summary + ("（改动类操作：调用后会生成预览，由用户回复「确认」后才执行）" if act.write else ""),
            args_schema=_schema(act)))
    return tools


def _make_func(ctx: Context, conv: Conversation, act: Action, run: ToolRun):  # type: ignore[no-untyped-def]
    def call(**kwargs: Any) -> str:
        run.calls.append(act.intent)
        if run.final is not None:
            return "本轮已经有待用户确认或选择的内容，请等待用户回复。"
        try:
            slots = _resolve(ctx, act, kwargs)
        except NeedChoice as exc:
            conv.ask(Pending(kind="choose", intent=act.intent, slots={}, slot=exc.slot, options=exc.candidates,
                             source="agent", created=ctx.now))
            run.final = choice_reply(act.intent, str(exc), exc.candidates)
            run.intent = run.intent or act.intent
            return run.final.plain()
        except CrmError as exc:
            return str(exc)
        ctx.source = "agent"
        reply = perform(ctx, conv, act.intent, slots, confirmed=False)
        if run.intent is None:
            run.intent, run.slots = act.intent, dict(reply.slots)
        run.actions.extend(reply.actions)
        pending = conv.pending
        if pending is not None and pending.created == ctx.now and pending.kind in ("confirm", "choose", "fill"):
            run.final = reply  # the sender must answer before anything else happens
            return reply.plain() + "\n（已展示给用户，等待用户回复。）"
        return reply.plain()

    return call


def refuse(name: str) -> str:
    return f"工具「{name}」不可用：发消息的人没有这项权限。请如实告诉用户无法执行，不要尝试其他方式获取。"
