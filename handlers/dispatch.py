"""Run one intent with typed arguments for the sender: permission check, validation, preview or apply.

Used by commands (apply directly), the offline understanding and the LLM agent (writes preview and
wait for "确认"), and the dialogue (a confirmation, a numbered choice, a filled-in argument).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pydantic import ValidationError

from crm_core.errors import CrmError, PermissionDenied
from crm_core.permissions import require
from handlers.actions import Action, NeedChoice, get_action
from handlers.dialogue import Conversation, Pending
from handlers.registry import Context
from handlers.reply import ListBlock, Paragraph, Reply

log = logging.getLogger(__name__)

SLOT_LABELS = {"customer": "客户", "project": "项目", "task": "任务", "assignee": "负责人", "owner": "负责人",
               "opportunity": "商机", "title": "任务标题", "summary": "内容", "query": "问题/关键词",
               "stage": "阶段", "field": "要修改的字段", "value": "新值", "tag": "标签", "ticket": "工单号",
               "report": "报表类型", "lead": "线索名称", "due": "截止日期"}
ASK = {
    "customer": "是哪个客户？请回复客户名称。",
    "project": "是哪个项目？请回复项目名称。",
    "task": "是哪个任务？请回复任务名称或编号。",
    "title": "任务要做什么？请回复任务标题。",
    "summary": "要记录什么内容？",
    "query": "想问什么/找什么？",
    "stage": "推进到哪个阶段？（需求确认/方案报价/合同谈判/签约成功/输单）",
    "field": "要修改哪一项？（名称、行业、规模、地区、负责人、级别、预算等级）",
    "value": "改成什么？",
    "tag": "标签是什么？",
    "report": "要看哪张报表？（销售漏斗、LTV、RFM、回款、工单、业绩、人员饱和度）",
}
LIST_INTENTS = {"customer.list", "opportunity.list", "task.list", "payment.due", "risk.list", "lead.claim",
                "ticket.status"}


def json_slots(slots: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in slots.items():
        if v is None or v == "":
            continue
        out[k] = v.isoformat() if isinstance(v, date) else v
    return out


def _missing(exc: ValidationError) -> list[str]:
    return [str(e["loc"][0]) for e in exc.errors() if e["type"] == "missing" and e["loc"]]


def choice_reply(intent: str | None, message: str, options: list[tuple[str, str]]) -> Reply:
    return Reply(intent=intent, blocks=[
        Paragraph(text=message),
        ListBlock(items=[label for _, label in options], ordered=True),
        Paragraph(text="回复序号即可，例如「1」。", tone="comment"),
    ])


def perform(ctx: Context, conv: Conversation, intent: str, slots: dict[str, Any],
            extras: dict[str, Any] | None = None, *, confirmed: bool, reply_intent: str | None = None) -> Reply:
    """Run ``intent``. ``confirmed`` = apply a write now (commands, or after "确认")."""
    extras = extras or {}
    slots = json_slots(slots)
    shown_intent = reply_intent or intent
    act = get_action(intent)
    if act is None:
        return Reply.text("这个操作暂不支持。发送 /帮助 看看我能做什么。", intent=shown_intent, slots=slots)
    try:
        if act.cap is not None:
            require(ctx.actor, act.cap)
        if not act.allowed(ctx.actor):
            raise PermissionDenied("抱歉，这项操作仅限公司内部同事使用。你可以咨询服务问题、查询工单或项目进度。")
        try:
            args = act.args.model_validate({**slots, **extras})
        except ValidationError as exc:
            missing = _missing(exc)
            if missing:
                return _ask_for(conv, act, missing[0], slots, extras, ctx.source, shown_intent)
            problems = "；".join(f"{SLOT_LABELS.get(str(e['loc'][0]), e['loc'][0])}：{e['msg']}" for e in exc.errors()
                                 if e["loc"])
            return Reply.text(f"这些内容我没法用：{problems}", tone="warning", intent=shown_intent, slots=slots)
        if act.write and not confirmed and act.preview is not None:
            lines = act.preview(ctx, args)
            if lines:
                conv.ask(Pending(kind="confirm", intent=intent, slots=slots, extras=extras, source=ctx.source,
                                 created=ctx.now))
                reply = Reply(intent=shown_intent, slots=slots, blocks=[
                    Paragraph(text="请确认以下操作："),
                    ListBlock(items=lines),
                    Paragraph(text=f"回复「确认」执行，「取消」放弃（{ctx.settings.confirm_ttl_seconds // 60} 分钟内有效）。",
                              tone="comment"),
                ])
                reply.actions.append({"action": intent, "status": "pending_confirmation",
                                      "expires_at": conv.expires_at().isoformat()})
                conv.remember_slots(slots)
                return reply
        reply = act.run(ctx, args)
    except NeedChoice as exc:
        ctx.session.rollback()
        conv.ask(Pending(kind="choose", intent=intent, slots=slots, extras=extras, slot=exc.slot,
                         options=exc.candidates, source=ctx.source, created=ctx.now))
        return choice_reply(shown_intent, str(exc), exc.candidates).model_copy(update={"slots": slots})
    except CrmError as exc:
        ctx.session.rollback()
        return Reply.text(str(exc), tone="warning", intent=shown_intent, slots=slots)
    reply.intent = shown_intent
    reply.slots = slots
    conv.remember_slots(slots)
    touched = ctx.cache.get("touched")
    if touched:
        conv.remember(**touched)
    if intent in LIST_INTENTS and act.args.model_fields.get("page") is not None:
        conv.set_last_list(intent, slots, extras, args.page)
    return reply


def _ask_for(conv: Conversation, act: Action, slot: str, slots: dict[str, Any], extras: dict[str, Any], source: str,
             shown_intent: str) -> Reply:
    question = ASK.get(slot, f"还需要{SLOT_LABELS.get(slot, slot)}，请补充。")
    conv.ask(Pending(kind="fill", intent=act.intent, slots=slots, extras=extras, slot=slot, source=source,
                     created=conv.now))
    return Reply.text(f"{act.title}：{question}", intent=shown_intent, slots=slots)
