"""Plain-language messages: answer an open question first, else understand and act.

Order for one message:
1. a pending question — "确认"/"取消" for a previewed write, a number for a numbered choice, the
   missing argument, or which of the suggested actions was meant;
2. "下一页" for the last list;
3. the LLM agent when one is configured (falls back to 4 on failure);
4. the offline understanding: intent + slots → ``dispatch.perform`` (writes preview first);
   small talk gets a short friendly answer; a message understood only vaguely gets what was
   understood and the closest actions, or a knowledge-base search.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from config.intents import load
from handlers.actions import get_action
from handlers.actions.resolve import customer_ref, opportunity_ref, project_ref, staff_ref, task_ref
from handlers.dialogue import Conversation, Pending
from handlers.dispatch import choice_reply, perform
from handlers.nlu.router import CHITCHAT
from handlers.nlu.text import clean
from handlers.nlu.understand import Understanding, understand
from handlers.registry import Context
from handlers.reply import Paragraph, Reply

log = logging.getLogger(__name__)

_MORE = re.compile(r"^(下一页|下页|下一批|更多|再来|继续|还有吗|还有呢|后面的|next|more)[。.!！?？]*$", re.IGNORECASE)
_NUMBER = re.compile(r"^(?:第)?([1-9]\d?|[一二三四五六七八九十])(?:个|条|项|位|家|号)?[。.!！]?$")
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_STRIP = "。.!！~～ ，,"
RESOLVERS = {"customer": customer_ref, "project": project_ref, "opportunity": opportunity_ref, "task": task_ref,
             "assignee": staff_ref, "owner": staff_ref}


def conversation(ctx: Context) -> Conversation:
    return ctx.cache["conversation"]


def _vocab() -> dict[str, Any]:
    return load("vocab")


def is_confirm(text: str, strict: bool = False) -> bool:
    """A yes to an open confirmation. ``strict`` (nothing pending): only explicit words, so that a
    passing "好的" in a group chat stays small talk."""
    t = text.strip(_STRIP)
    if re.match(r"^(确认|确定|执行|confirm)[，,。 ]*(执行|提交|吧|就这样|没问题|办吧|弄吧|执行吧)?[!！。]*$", t, re.IGNORECASE):
        return True
    if strict:
        return False
    if t in _vocab()["confirm_words"]:
        return True
    return bool(re.match(r"^(是的|没问题|可以|好的|ok)[，,。 ]*(执行|提交|吧|就这样|没问题|办吧|弄吧|执行吧)?[!！。]*$",
                         t, re.IGNORECASE))


def is_cancel(text: str, strict: bool = False) -> bool:
    t = text.strip(_STRIP)
    if strict and re.match(r"^(撤销|撤回)(刚才的|上次的?|之前的)?合并", t):  # undoing a merge is a request of its own
        return False
    if re.match(r"^(算了|取消|不用了|不要了|撤销|放弃|先不|别执行|cancel)", t, re.IGNORECASE) or \
            t.endswith(("取消", "取消吧", "算了")):
        return True
    return not strict and t in _vocab()["cancel_words"]


def _number(text: str) -> int | None:
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else _CN.get(raw)


# --- pending questions ---------------------------------------------------------------------------


def answer_pending(ctx: Context, answer: str) -> Reply:
    """"确认" / "取消" (also as /确认 /取消)."""
    conv = conversation(ctx)
    pending = conv.pending
    if pending is None or pending.kind != "confirm":
        expired = conv.expired_pending
        conv.clear()
        if expired is not None and expired.kind == "confirm":
            minutes = ctx.settings.confirm_ttl_seconds // 60
            return Reply.text(f"刚才的操作超过 {minutes} 分钟没有确认，已经失效，没有执行。需要的话请重新发一次。", intent=answer)
        return Reply.text("现在没有需要确认的操作。" if answer == "confirm" else "好的，现在没有待执行的操作。",
                          intent=answer)
    conv.clear()
    if answer == "cancel":
        act = get_action(pending.intent or "")
        return Reply.text(f"已取消：{act.title if act else '该操作'}，没有做任何改动。", intent="cancel",
                          actions=[{"action": pending.intent, "status": "cancelled"}])
    ctx.source = pending.source
    reply = perform(ctx, conv, pending.intent or "", pending.slots, pending.extras, confirmed=True,
                    reply_intent="confirm")
    for a in reply.actions:
        a.setdefault("slots", pending.slots)
    reply.slots = {}  # "确认" itself has no slots; what it confirmed is in actions
    return reply


def _resolve_choice(ctx: Context, conv: Conversation, pending: Pending, text: str) -> Reply | None:
    n = _number(text)
    chosen = None
    if n is not None and 1 <= n <= len(pending.options):
        chosen = pending.options[n - 1][0]
    else:
        t = text.strip(_STRIP)
        hits = [ref for ref, label in pending.options if t and (t == ref or t in label)]
        if len(hits) == 1:
            chosen = hits[0]
    if chosen is None:
        return None
    conv.clear()
    if pending.text and pending.text.lstrip().startswith(("/", "／")):  # a command's argument: run it again
        from handlers.pipeline import run_command

        ctx.cache["choices"] = {**pending.extras.get("choices", {}), pending.slot or "": chosen}
        return run_command(ctx, pending.text)
    if pending.kind == "intent":
        return _run_understood(ctx, conv, understand(ctx.session, ctx.actor, pending.text or "", ctx.now,
                                                     ctx.settings, conv.context, force_intent=chosen))
    slots = {**pending.slots, pending.slot or "": chosen}
    ctx.source = pending.source
    return perform(ctx, conv, pending.intent or "", slots, pending.extras, confirmed=pending.source == "command")


def _fill(ctx: Context, conv: Conversation, pending: Pending, text: str) -> Reply | None:
    slot = pending.slot or ""
    value: Any = text.strip(_STRIP)
    if not value:
        return None
    resolver = RESOLVERS.get(slot)
    conv.clear()
    if resolver is not None:
        value = resolver(ctx, value, slot) if slot in ("assignee", "owner") else resolver(ctx, value)
    ctx.source = pending.source
    return perform(ctx, conv, pending.intent or "", {**pending.slots, slot: value}, pending.extras,
                   confirmed=pending.source == "command")


# --- understanding -------------------------------------------------------------------------------


_QUESTION = re.compile(r"[?？]|吗|么|呢|怎么|如何|能否|能不能|可不可以|可以.{0,8}吗|是否|哪|什么|多少|几|请问|为什么|有没有")
_GREETING = re.compile(r"(你好|您好|在吗|在不在|hi|hello|嗨|哈喽|谢谢|多谢|好的|收到)[呀啊吗呢～~!！。.?？]*", re.IGNORECASE)


def _chitchat(text: str) -> Reply:
    replies = _vocab()["chitchat_reply"]
    pick = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % len(replies)
    return Reply.text(replies[pick])


def _unsure(ctx: Context, conv: Conversation, u: Understanding) -> Reply:
    options = []
    suggested = list(u.alternatives)
    if u.links is not None:  # a record was named: offer what one usually wants about it
        for kind, intent in (("customer", "customer.profile"), ("project", "project.status"), ("task", "task.done")):
            if u.links.of(kind) and intent not in suggested:
                suggested.insert(0, intent)
    for intent in suggested:
        act = get_action(intent)
        if act is not None and act.allowed(ctx.actor):
            options.append((intent, act.title))
    kb = get_action("kb.ask")
    if kb is not None and kb.allowed(ctx.actor) and "kb.ask" not in [o[0] for o in options] and len(u.text) >= 4:
        options.append(("kb.ask", "在知识库里搜索这个问题"))
    if not options:
        return Reply.text("抱歉，我没听懂。可以发送 /帮助 查看我能做什么，例如：/客户 星屿科技。")
    conv.ask(Pending(kind="intent", options=options[:4], text=u.text, created=ctx.now))
    reply = choice_reply(None, "我不太确定你的意思，你是想：", options[:4])
    reply.add(Paragraph(text="也可以换个说法，或发送 /帮助 查看全部命令。", tone="comment"))
    return reply


def _not_found(intent: str, slot: str, name: str) -> Reply:
    what = {"customer": "客户", "project": "项目", "task": "任务", "opportunity": "商机"}.get(slot, "记录")
    return Reply.text(f"没有找到你可以查看的{what}「{name}」。请确认名称，或联系负责人/你的主管授权。", tone="warning",
                      intent=intent)


def _run_understood(ctx: Context, conv: Conversation, u: Understanding) -> Reply:
    intent = u.intent
    if intent is None:
        top = u.route.ranked[0][0] if u.route is not None and u.route.ranked else None
        if ctx.actor.is_external and not _GREETING.fullmatch(u.text.strip()) \
                and (_QUESTION.search(u.text) or (top != CHITCHAT and len(u.text.strip()) >= 4)):
            # what a client writes is a service question, asked or not ("海外投放的税务备案"): the knowledge
            # base answers, or a ticket opens; asking them to pick "问知识库" from a list of one helps nobody
            return perform(ctx, conv, "kb.ask", {"query": u.text.strip()}, confirmed=True)
        return _chitchat(u.text) if top == CHITCHAT else _unsure(ctx, conv, u)
    if intent in ("confirm", "cancel"):
        return answer_pending(ctx, intent)
    if u.ambiguous:
        slot, options = next(iter(u.ambiguous.items()))
        what = {"customer": "客户", "project": "项目", "task": "任务", "assignee": "同事", "owner": "同事",
                "opportunity": "商机"}.get(slot, "")
        conv.ask(Pending(kind="choose", intent=intent, slots=u.slots, extras=u.extras, slot=slot, options=options,
                         created=ctx.now))
        return choice_reply(intent, f"有多个{what}符合，你是指哪一个？", options).model_copy(update={"slots": u.slots})
    act = get_action(intent)
    for slot, name in u.unresolved.items():
        field = act.args.model_fields.get(slot) if act is not None else None
        if slot not in u.slots and field is not None and field.is_required():
            return _not_found(intent, slot, name).model_copy(update={"slots": u.slots})
    ctx.source = "nlu"
    return perform(ctx, conv, intent, u.slots, u.extras, confirmed=False)


def converse(ctx: Context, text: str) -> Reply:
    conv = conversation(ctx)
    cleaned = clean(text)
    pending = conv.pending
    if pending is not None:
        if pending.kind == "confirm" and (is_confirm(cleaned) or is_cancel(cleaned)):
            return answer_pending(ctx, "confirm" if is_confirm(cleaned) else "cancel")
        if pending.kind in ("choose", "intent"):
            reply = _resolve_choice(ctx, conv, pending, cleaned)
            if reply is not None:
                return reply
            if is_cancel(cleaned):
                conv.clear()
                return Reply.text("好的，已取消。", intent="cancel")
        if pending.kind == "fill" and not _looks_like_request(ctx, conv, cleaned):
            reply = _fill(ctx, conv, pending, cleaned)
            if reply is not None:
                return reply
        conv.clear()  # a new request replaces the open question
    elif is_confirm(cleaned, strict=True) or is_cancel(cleaned, strict=True):
        return answer_pending(ctx, "confirm" if is_confirm(cleaned, strict=True) else "cancel")
    if _MORE.match(cleaned) and conv.last_list:
        last = conv.last_list
        extras = {**last.get("extras", {}), "page": int(last.get("page", 1)) + 1}
        return perform(ctx, conv, last["intent"], last.get("slots", {}), extras, confirmed=True)
    if ctx.settings.llm_enabled:
        from handlers.agent import run_agent

        try:
            return run_agent(ctx, conv, cleaned)
        except Exception as exc:  # the endpoint is down or misbehaves: understand offline instead
            log.warning("LLM agent failed, falling back to offline understanding: %s", exc)
            ctx.session.rollback()
    u = understand(ctx.session, ctx.actor, cleaned, ctx.now, ctx.settings, conv.context)
    return _run_understood(ctx, conv, u)


def _looks_like_request(ctx: Context, conv: Conversation, text: str) -> bool:
    """While waiting for a missing argument: is this a new request rather than the answer?"""
    if len(text) <= 12 and not re.search(r"[？?吗呢]|帮我|查|看|建|记", text):
        return False
    u = understand(ctx.session, ctx.actor, text, ctx.now, ctx.settings, conv.context)
    return u.intent is not None and u.score >= 3.5
