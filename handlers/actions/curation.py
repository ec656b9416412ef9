"""Data curation in chat: the tag overview, batch tags, tags from a brief, duplicates, merge and undo."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import Field
from sqlalchemy import func, select

from crm_core.errors import InvalidInput
from crm_core.models import CustomerTag, Tag, TagCategory
from crm_core.permissions import Cap, customer_scope
from crm_core.services import customers as customer_svc
from crm_core.services import merge as merge_svc
from crm_core.services import tag_vocab
from crm_core.services import tags as tag_svc
from handlers.actions.base import Args, action
from handlers.dialogue import Conversation, Pending
from handlers.registry import Context
from handlers.reply import Heading, ListBlock, Paragraph, Reply

# --- tag overview --------------------------------------------------------------------------------


class TagListArgs(Args):
    pass


@action("tag.list", title="标签一览", summary="按类别列出标签，以及各标签的客户数和来源（手动/规则/Brief）", args=TagListArgs,
        cap=Cap.customer_read)
def tag_list(ctx: Context, args: TagListArgs) -> Reply:
    from crm_core.models import Customer

    rows = ctx.session.execute(
        select(TagCategory.name, Tag.name, CustomerTag.source, func.count())
        .select_from(CustomerTag).join(Tag, Tag.id == CustomerTag.tag_id)
        .outerjoin(TagCategory, TagCategory.id == Tag.category_id)
        .where(CustomerTag.customer_id.in_(select(Customer.id).where(customer_scope(ctx.actor))))
        .group_by(TagCategory.name, Tag.name, CustomerTag.source))
    by_cat: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for cat, tag, source, n in rows:
        by_cat[cat or tag_vocab.category_of(tag) or tag_vocab.OTHER][tag][source] = int(n)
    reply = Reply(intent="tag.list").add(Heading(text="客户标签"))
    order = [*tag_vocab.vocab()["categories"], tag_vocab.OTHER]
    for cat in sorted(by_cat, key=lambda c: order.index(c) if c in order else len(order)):
        items = []
        for tag, sources in sorted(by_cat[cat].items(), key=lambda kv: -sum(kv[1].values())):
            parts = "，".join(f"{tag_vocab.SOURCE_LABELS.get(s, s)} {n}" for s, n in sources.items())
            items.append(f"{tag}：{sum(sources.values())} 家（{parts}）")
        reply.add(ListBlock(title=f"{cat}：", items=items))
    if not by_cat:
        reply.add(Paragraph(text="你可以查看的客户还没有标签。"))
    reply.add(Paragraph(tone="comment", text="用法：/标签 <客户> <标签>｜/标签 批量 <级别/行业/#标签/负责人> +<标签>｜"
                                             "/标签 <客户> 提取 <Brief 原文>"))
    return reply


# --- batch tags ----------------------------------------------------------------------------------


class TagBatchArgs(Args):
    tag: str = Field(min_length=1, max_length=32)
    op: Literal["remove"] | None = None
    tier: Literal["战略级", "成长级", "常规级"] | None = None
    industry: str | None = None
    owner: str | None = Field(default=None, description="负责人（员工 ref）")
    with_tag: str | None = Field(default=None, description="已带有的标签")


def _filters(args: TagBatchArgs) -> tag_svc.Filters:
    return tag_svc.Filters(tier=args.tier, industry=args.industry, owner_ref=args.owner, tag=args.with_tag)


def _names(customers: list, n: int = 8) -> str:  # type: ignore[type-arg]
    names = "、".join(c.name for c in customers[:n])
    return names + (f" 等 {len(customers)} 家" if len(customers) > n else "")


def _batch_preview(ctx: Context, args: TagBatchArgs) -> list[str]:
    plan = tag_svc.batch_plan(ctx.session, ctx.actor, _filters(args), args.tag, args.op == "remove")
    verb = "去掉" if args.op == "remove" else "添加"
    if not plan.change:
        raise InvalidInput(f"符合条件（{_filters(args).describe()}）的 {len(plan.unchanged)} 家客户都"
                           f"{'没有' if args.op == 'remove' else '已经有'}标签「{args.tag}」，无需改动。")
    lines = [f"给 {len(plan.change)} 家客户{verb}标签「{args.tag}」（筛选：{_filters(args).describe()}）：{_names(plan.change)}"]
    if plan.unchanged:
        lines.append(f"另有 {len(plan.unchanged)} 家{'本来就没有' if args.op == 'remove' else '已有'}该标签，不变")
    return lines


@action("customer.tag_batch", title="批量打标签", summary="给符合筛选条件（级别、行业、负责人、已有标签）的客户批量加/去标签",
        args=TagBatchArgs, cap=Cap.customer_tag, write=True, preview=_batch_preview)
def customer_tag_batch(ctx: Context, args: TagBatchArgs) -> Reply:
    plan = tag_svc.batch_tag(ctx.session, ctx.actor, _filters(args), args.tag, args.op == "remove")
    verb = "去掉" if args.op == "remove" else "添加"
    return Reply.text(f"已给 {len(plan.change)} 家客户{verb}标签「{args.tag}」：{_names(plan.change)}。",
                      intent="customer.tag_batch",
                      actions=[{"action": "customer.tag_batch", "status": "done", "tag": args.tag,
                                "op": args.op or "add", "count": len(plan.change),
                                "targets": [c.ref for c in plan.change]}])


# --- tags from a brief ---------------------------------------------------------------------------


class TagBriefArgs(Args):
    customer: str
    text: str = Field(min_length=2, max_length=5000, description="Brief 原文")


def _brief_preview(ctx: Context, args: TagBriefArgs) -> list[str]:
    c = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    reading = tag_svc.keywords(args.text)
    new = [k for k in reading.tags if k.tag not in c.tag_names]
    if not new:
        found = "、".join(k.tag for k in reading.tags)
        raise InvalidInput(f"没有从这段 Brief 里提取到「{c.name}」还没有的词表标签" + (f"（已有：{found}）" if found else "")
                           + (f"。其他关键词：{'、'.join(reading.others)}，可用 /标签 手动添加。" if reading.others else "。"))
    lines = [f"给客户「{c.name}」添加 Brief 标签：" + "、".join(f"{k.tag}（「{k.form}」{k.weight:.2f}）" for k in new)]
    if reading.negated:
        lines.append(f"未添加（Brief 中明确不要）：{'、'.join(reading.negated)}")
    if reading.others:
        lines.append(f"其他关键词（不在词表中，未添加）：{'、'.join(reading.others)}")
    return lines


@action("customer.tag_brief", title="从 Brief 提取标签", summary="从客户 Brief 原文中提取创意偏好、渠道等标签（jieba 关键词对照标签词表）",
        args=TagBriefArgs, cap=Cap.customer_tag, write=True, preview=_brief_preview)
def customer_tag_brief(ctx: Context, args: TagBriefArgs) -> Reply:
    c = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    added = tag_svc.tag_from_brief(ctx.session, ctx.actor, c, args.text)
    text = (f"已给「{c.name}」添加 Brief 标签：{'、'.join(k.tag for k in added)}。" if added
            else f"「{c.name}」已经有这些标签，无需改动。")
    return Reply.text(text, intent="customer.tag_brief",
                      actions=[{"action": "customer.tag_brief", "status": "done" if added else "unchanged",
                                "target": args.customer, "tags": [k.tag for k in added]}])


# --- duplicates and merges -----------------------------------------------------------------------


class DuplicatesArgs(Args):
    pass


@action("customer.duplicates", title="查找重复客户", summary="列出疑似重复的客户和联系人（名称去后缀相同、电话/邮箱/企业微信ID相同）",
        args=DuplicatesArgs, cap=Cap.customer_merge)
def customer_duplicates(ctx: Context, args: DuplicatesArgs) -> Reply:
    found = merge_svc.find_duplicates(ctx.session, ctx.actor)
    reply = Reply(intent="customer.duplicates")
    if not found:
        return reply.add(Paragraph(text="在你可以查看的客户中没有发现疑似重复的客户或联系人。"))
    reply.add(Heading(text=f"疑似重复（{len(found)}）"))
    reply.add(ListBlock(ordered=True, items=[d.describe() for d in found]))
    conv: Conversation = ctx.cache["conversation"]
    conv.ask(Pending(kind="choose", intent="customer.merge", slot="pair",
                     options=[(d.key, d.describe()) for d in found], source="nlu", created=ctx.now))
    reply.add(Paragraph(tone="comment", text="回复序号预览合并（不会直接执行），或发送 /合并 <重复的客户> 到 <保留的客户>。"))
    return reply


class MergeArgs(Args):
    pair: str | None = Field(default=None, description="C:<保留id>:<并入id> 或 P:<保留联系人id>:<并入联系人id>")
    keep: str | None = Field(default=None, description="保留的客户 ref")
    drop: str | None = Field(default=None, description="并入（归档）的客户 ref")
    versions: dict[str, int] = Field(default_factory=dict, exclude=True)
    auto: bool = Field(default=False, exclude=True, description="no direction given: keep the richer record")


def _pair(ctx: Context, args: MergeArgs) -> tuple[str, object, object]:
    if args.pair:
        kind, a, b = args.pair.split(":")
        if kind == "P":
            keep_c, drop_c = merge_svc.contact_pair(ctx.session, ctx.actor, int(a), int(b))
            return "contact", keep_c, drop_c
        keep, drop = merge_svc.visible_pair(ctx.session, ctx.actor, int(a), int(b))
        return "customer", keep, drop
    if not args.keep or not args.drop:
        raise InvalidInput("请告诉我要合并的两个客户，例如：/合并 星屿科技有限公司 到 星屿科技")
    keep = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.keep)
    drop = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.drop)
    if args.auto and merge_svc.default_keep(ctx.session, keep.id, drop.id)[0] != keep.id:
        keep, drop = drop, keep
    return "customer", keep, drop


def _merge_preview(ctx: Context, args: MergeArgs) -> list[str]:
    kind, keep, drop = _pair(ctx, args)
    if kind == "contact":
        plan = merge_svc.plan_contacts(ctx.session, ctx.actor, keep, drop)  # type: ignore[arg-type]
        return [f"把联系人「{plan.drop_label}」并入「{plan.keep_label}」", *plan.lines(), "可随时用 /撤销合并 恢复"]
    plan = merge_svc.plan_customers(ctx.session, ctx.actor, keep, drop)  # type: ignore[arg-type]
    flip = f"（如需保留另一个，请发送 /合并 {keep.name} 到 {drop.name}）"  # type: ignore[attr-defined]
    return [f"把「{plan.drop_label}」并入「{plan.keep_label}」，前者归档不再显示{flip}", *plan.lines(),
            "可随时用 /撤销合并 恢复"]


@action("customer.merge", title="合并重复客户", summary="把重复的客户（或联系人）并入另一个：转移全部关联记录，保留审计，可撤销",
        args=MergeArgs, cap=Cap.customer_merge, write=True, preview=_merge_preview)
def customer_merge(ctx: Context, args: MergeArgs) -> Reply:
    kind, keep, drop = _pair(ctx, args)
    if kind == "contact":
        record = merge_svc.merge_contacts(ctx.session, ctx.actor, keep, drop, now=ctx.now)  # type: ignore[arg-type]
    else:
        expected = {int(k): v for k, v in args.versions.items()}
        record = merge_svc.merge_customers(ctx.session, ctx.actor, keep, drop, expected=expected,  # type: ignore[arg-type]
                                           now=ctx.now)
    moved = record.summary.get("moved", {})
    total = sum(moved.values())
    what = "、".join(f"{merge_svc.TABLE_LABELS.get(t, t)} {n}" for t, n in moved.items() if n) or "无关联记录"
    return Reply.text(f"已合并（#{record.id}）：「{record.merged_label}」并入「{record.kept_label}」，转移 {total} 条记录（{what}）。"
                      f"发送 /撤销合并 {record.id} 可恢复。", intent="customer.merge",
                      actions=[{"action": "customer.merge", "status": "done", "record": record.id, "kind": record.kind,
                                "kept": getattr(keep, "ref", None), "merged": getattr(drop, "ref", None),
                                "moved": moved}])


class UnmergeArgs(Args):
    record: int | None = Field(default=None, description="合并编号；不填为自己最近一次")


@action("customer.unmerge", title="撤销合并", summary="撤销一次客户/联系人合并：记录移回，补全的字段还原", args=UnmergeArgs,
        cap=Cap.customer_merge, write=True)
def customer_unmerge(ctx: Context, args: UnmergeArgs) -> Reply:
    record = merge_svc.merge_by_id(ctx.session, ctx.actor, args.record) if args.record else \
        merge_svc.last_merge(ctx.session, ctx.actor)
    if record is None:
        return Reply.text("没有可以撤销的合并。", intent="customer.unmerge")
    done = merge_svc.undo(ctx.session, ctx.actor, record, now=ctx.now)
    back = sum(done.restored.values())
    text = f"已撤销合并 #{record.id}：「{record.merged_label}」已恢复，移回 {back} 条记录。"
    if done.kept_changes:
        text += f"合并后又改过的字段保持现状：{'、'.join(dict.fromkeys(done.kept_changes))}。"
    if done.gone:
        text += f"有 {done.gone} 条记录在合并后被删除或改挂别处，未移回。"
    return Reply.text(text, intent="customer.unmerge",
                      actions=[{"action": "customer.unmerge", "status": "done", "record": record.id,
                                "restored": done.restored}])
