"""Turn what someone typed ("星屿", "佳琪", "驰远新车TVC", "我") into a visible record's ref.

Used by commands and by the LLM agent's tools; the offline understanding links entities itself.
Only visible records are candidates; several equally good ones raise ``NeedChoice`` (numbered
clarification), none raises ``NotFound`` worded so that it reveals nothing.
"""

from __future__ import annotations

import re

from crm_core.errors import Ambiguous, NotFound
from crm_core.services import lookup
from handlers.actions.base import NeedChoice
from handlers.nlu.entities import Linker, Mention
from handlers.registry import Context

SELF = re.compile(r"^(我|我的|我自己|本人|自己|me|mine)$", re.IGNORECASE)


def _linker(ctx: Context) -> Linker:
    linker = ctx.cache.get("linker")
    if linker is None:
        linker = ctx.cache["linker"] = Linker(ctx.session, ctx.actor)
    return linker


def _choose(slot: str, label: str, text: str, mentions: list[Mention]) -> str:
    top = mentions[0]
    tied = [m for m in mentions if m.score >= top.score - 3]
    ids = list(dict.fromkeys(m.entity.id for m in tied))
    if len(ids) > 1:
        seen, cands = set(), []
        for m in tied:
            if m.entity.id not in seen:
                seen.add(m.entity.id)
                cands.append((m.entity.key, m.entity.name))
        raise NeedChoice(f"有多个{label}与「{text}」相近，你是指哪一个？", slot, cands)
    return top.entity.key


def _chosen(ctx: Context, slot: str) -> str | None:
    """The answer to an earlier numbered question about this argument (commands are re-run with it)."""
    return ctx.cache.get("choices", {}).get(slot)


def customer_ref(ctx: Context, text: str, slot: str = "customer") -> str:
    if chosen := _chosen(ctx, slot):
        return chosen
    try:
        return lookup.resolve_customer_ref(ctx.session, ctx.actor, text)
    except Ambiguous as exc:
        raise NeedChoice(str(exc), slot, exc.candidates) from None


def staff_ref(ctx: Context, text: str, slot: str = "assignee") -> str:
    if chosen := _chosen(ctx, slot):
        return chosen
    text = text.strip().lstrip("@")
    if SELF.match(text):
        if not ctx.actor.staff_ref:
            raise NotFound("你的账号没有对应的员工编号，无法代表“我”。")
        return ctx.actor.staff_ref
    linker = _linker(ctx)
    exact = [p for p in linker.catalogue.staff() if text in (p.name, p.ref)]
    if exact:
        return exact[0].key
    links = linker.link(text)
    found = links.of("staff")
    if not found:
        raise NotFound(f"没有找到同事「{text}」。")
    return _choose(slot, "同事", text, found)


def project_ref(ctx: Context, text: str, slot: str = "project") -> str:
    if chosen := _chosen(ctx, slot):
        return chosen
    linker = _linker(ctx)
    exact = [p for p in linker.catalogue.projects() if text in (p.name, p.ref)]
    if exact:
        return exact[0].key
    found = linker.link(text).of("project")
    if not found:
        raise NotFound(f"没有找到你可以查看的项目「{text}」。")
    return _choose(slot, "项目", text, found)


def opportunity_ref(ctx: Context, text: str, slot: str = "opportunity") -> str:
    if chosen := _chosen(ctx, slot):
        return chosen
    linker = _linker(ctx)
    exact = [o for o in linker.catalogue.opportunities() if text in (o.name, o.ref)]
    if exact:
        return exact[0].key
    found = [m for m in linker.link(text).of("opportunity") if m.score >= 70]
    if not found:
        raise NotFound(f"没有找到你可以查看的商机「{text}」。")
    return _choose(slot, "商机", text, found)


def task_ref(ctx: Context, text: str, slot: str = "task") -> str:
    if chosen := _chosen(ctx, slot):
        return chosen
    linker = _linker(ctx)
    exact = [t for t in linker.catalogue.tasks() if text in (t.ref, t.name) or (t.ref or "").upper() == text.upper()]
    if exact:
        mine = [t for t in exact if t.owner_id == ctx.actor.staff_id]
        return (mine or exact)[0].key
    found = linker.tasks(text)
    if not found:
        raise NotFound(f"没有找到你可以查看的未完成任务「{text}」。")
    return _choose(slot, "任务", text, found)
