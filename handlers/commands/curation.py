"""/标签 (one customer, a filtered set, or from a brief), /合并, /撤销合并."""

from __future__ import annotations

import re

from sqlalchemy import or_, select

from crm_core.models import Customer
from crm_core.permissions import customer_scope
from crm_core.services.merge import default_keep
from handlers.actions.resolve import customer_ref, staff_ref
from handlers.commands.args import as_tier, is_self, tokens
from handlers.commands.base import apply, conversation, usage
from handlers.dispatch import perform
from handlers.nlu.slots import find_industry
from handlers.registry import Context, registry
from handlers.reply import Reply

BATCH_WORDS = ("批量", "筛选", "所有", "全部", "batch")
LIST_WORDS = ("列表", "类别", "分类", "一览", "list")
_BRIEF = re.compile(r"^(?P<customer>\S+)\s+(?:提取|brief)[:：]?\s*(?P<text>.+)$", re.IGNORECASE | re.DOTALL)
_INTO = re.compile(r"^(?P<drop>.+?)\s*(?:到|并入|合并到|->|→|=>|into)\s*(?P<keep>.+)$")
TAG_USAGE = ("用法：/标签 <客户> <标签>（-标签 去掉）｜/标签 批量 <战略级/行业/#标签/负责人> +<标签>｜"
             "/标签 <客户> 提取 <Brief 原文>｜/标签 列表")


def preview(ctx: Context, intent: str, slots: dict[str, object], extras: dict[str, object] | None = None) -> Reply:
    """Bulk and irreversible-looking writes preview even as commands, and wait for "确认"."""
    return perform(ctx, conversation(ctx), intent, slots, extras, confirmed=False)


@registry.command("标签", intent="customer.tag", summary="加/去标签、批量打标签、从 Brief 提取标签",
                  aliases=("tag", "bq"), usage="/标签 <客户> <标签> | /标签 批量 <筛选> +<标签> | /标签 <客户> 提取 <Brief>",
                  examples=("/标签 星屿科技 出海", "/标签 星屿科技 -价格敏感", "/标签 批量 战略级 快消 +重点维护",
                            "/标签 星屿科技 提取 今年想做国潮风的年轻化内容，主投小红书"), group="客户")
def customer_tag(ctx: Context, args: str) -> Reply:
    toks = tokens(args)
    if not toks or toks[0] in LIST_WORDS:
        return apply(ctx, "tag.list", {})
    if toks[0].lower() in BATCH_WORDS:
        return _batch(ctx, toks[1:])
    if m := _BRIEF.match(args.strip()):
        return preview(ctx, "customer.tag_brief", {"customer": customer_ref(ctx, m.group("customer")),
                                                   "text": m.group("text").strip()})
    if len(toks) < 2:
        return usage("customer.tag", TAG_USAGE)
    tag = toks[-1]
    slots = {"customer": customer_ref(ctx, " ".join(toks[:-1])), "tag": tag.lstrip("+-#－＋")}
    if tag.startswith(("-", "－")):
        slots["op"] = "remove"
    return apply(ctx, "customer.tag", slots)


def _batch(ctx: Context, toks: list[str]) -> Reply:
    if len(toks) < 2:
        return usage("customer.tag_batch", "用法：/标签 批量 <战略级/行业/#标签/负责人> +<标签>（-<标签> 去掉），"
                                           "例如 /标签 批量 战略级 快消 +重点维护")
    *filters, tag = toks
    slots: dict[str, object] = {"tag": tag.lstrip("+-#－＋")}
    if tag.startswith(("-", "－")):
        slots["op"] = "remove"
    for tok in filters:
        if tok.startswith(("#", "＃")) and len(tok) > 1:
            slots["with_tag"] = tok[1:]
        elif tier := as_tier(tok):
            slots["tier"] = tier
        elif is_self(tok):
            slots["owner"] = staff_ref(ctx, tok, "owner")
        elif (ind := find_industry(tok, loose=True)) and len(tok) <= len(ind[0]) + 3:
            slots["industry"] = ind[0]
        elif tok not in ("客户", "的"):
            slots["owner"] = staff_ref(ctx, tok, "owner")
    return preview(ctx, "customer.tag_batch", slots)


def _exact_customer(ctx: Context, text: str, slot: str) -> tuple[str, int]:
    """Duplicates share their everyday name, so an exact name, legal name or ref wins before fuzzy lookup."""
    text = text.strip()
    rows = list(ctx.session.scalars(select(Customer).where(
        customer_scope(ctx.actor), or_(Customer.name == text, Customer.legal_name == text, Customer.ref == text))))
    exact = [c for c in rows if text in (c.name, c.ref)] or rows
    if len(exact) == 1:
        return exact[0].ref or f"#{exact[0].id}", exact[0].id
    ref = customer_ref(ctx, text, slot)
    found = ctx.session.scalars(select(Customer.id).where(
        Customer.id == int(ref[1:]) if ref.startswith("#") else Customer.ref == ref)).first()
    return ref, int(found or 0)


@registry.command("合并", intent="customer.merge", summary="合并重复客户（先预览，可撤销）",
                  aliases=("merge", "hb"), usage="/合并 | /合并 <重复的客户> 到 <保留的客户>",
                  examples=("/合并", "/合并 星屿科技有限公司 到 星屿科技"), group="客户")
def merge(ctx: Context, args: str) -> Reply:
    text = args.strip()
    if not text:
        return apply(ctx, "customer.duplicates", {})
    m = _INTO.match(text)
    if m:
        drop_text, keep_text = m.group("drop"), m.group("keep")
    else:
        parts = tokens(text)
        if len(parts) != 2:
            return usage("customer.merge", "用法：/合并 <重复的客户> 到 <保留的客户>；只发 /合并 会列出疑似重复的客户")
        keep_text, drop_text = parts
    keep, keep_id = _exact_customer(ctx, keep_text, "keep")
    drop, drop_id = _exact_customer(ctx, drop_text, "drop")
    if not m and default_keep(ctx.session, keep_id, drop_id)[0] != keep_id:  # no direction: keep the richer one
        keep, drop, keep_id, drop_id = drop, keep, drop_id, keep_id
    versions = dict(ctx.session.execute(select(Customer.id, Customer.version).where(Customer.id.in_([keep_id, drop_id]))).all())
    return preview(ctx, "customer.merge", {"keep": keep, "drop": drop}, {"versions": {str(k): v for k, v in versions.items()}})


@registry.command("撤销合并", intent="customer.unmerge", summary="撤销一次合并", aliases=("unmerge", "cxhb"),
                  usage="/撤销合并 [合并编号]", examples=("/撤销合并", "/撤销合并 3"), group="客户")
def unmerge(ctx: Context, args: str) -> Reply:
    text = args.strip().lstrip("#")
    if text and not text.isdigit():
        return usage("customer.unmerge", "用法：/撤销合并 [合并编号]，编号见合并成功时的回复")
    return apply(ctx, "customer.unmerge", {"record": int(text)} if text else {})
