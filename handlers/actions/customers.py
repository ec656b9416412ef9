"""Customer actions: the 360° profile card, lists, create, update, tags, follow-ups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm_core.normalise import (
    normalise_budget_level,
    normalise_industry,
    normalise_interaction_kind,
    normalise_tier,
)
from crm_core.permissions import Cap
from crm_core.services import customer_profile as profile_svc
from crm_core.services import customers as svc
from crm_core.services.lookup import find_customers
from handlers.actions import profile_extras
from handlers.actions.base import Args, action
from handlers.format import day, money, page_note
from handlers.registry import Context
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply

FIELD_LABELS = {"name": "名称", "industry": "行业", "scale": "规模", "region": "地区", "owner": "负责人", "tier": "级别",
                "budget_level": "预算等级"}


# --- profile -------------------------------------------------------------------------------------


def profile_card(p: profile_svc.CustomerProfile, ctx: Context, aspects: list[str] | None = None) -> Reply:
    tz = ctx.settings.tz
    reply = Reply(intent="customer.profile", slots={"customer": p.ref})
    focus = []
    for aspect in aspects or []:
        if aspect == "owner":
            focus.append(f"{p.name}的负责人是 {p.owner or '（未分配）'}。")
        elif aspect == "tier":
            focus.append(f"{p.name}是{p.tier or '未分级'}客户。")
        elif aspect == "risk":
            focus.append(f"{p.name}的流失风险：{p.risk}。" if p.risk else
                         f"{p.name}暂无流失风险评估数据（不代表没有风险），可参考下面的回款和跟进情况。")
    if focus:
        reply.add(Paragraph(text=" ".join(focus)))
    reply.add(Heading(text=f"客户档案｜{p.name}" + (f"（{p.ref}）" if p.ref else "")))
    reply.add(Fields(pairs=[
        ("级别", profile_extras.tier_text(p)),
        ("行业", " · ".join(filter(None, [p.industry, p.scale, p.region])) or "—"),
        ("预算等级", p.budget_level or "—"),
        ("负责人", p.owner or "未分配"),
        ("标签", profile_extras.tags_text(p)),
    ]))
    reply.blocks.extend(profile_extras.blocks(p))
    if p.contacts:
        reply.add(ListBlock(title="联系人：", items=[
            " ".join(filter(None, [c.name, c.title, c.phone, c.email])) for c in p.contacts
        ]))
        if p.contacts[0].masked:
            reply.add(Paragraph(text="联系方式已脱敏，仅负责人、主管和管理员可见完整信息。", tone="comment"))
    if p.open_opportunities:
        reply.add(ListBlock(title="进行中商机：", items=[
            f"{o.name}｜{o.stage}｜{money(o.amount)}" for o in p.open_opportunities[:5]
        ]))
    if p.projects:
        reply.add(ListBlock(title="项目：", items=[
            f"{pr.name}｜{pr.status}｜未完成任务 {pr.open_tasks}" + (f"，逾期 {pr.overdue_tasks}" if pr.overdue_tasks else "")
            for pr in p.projects[:5]
        ]))
    if p.next_payment:
        n = p.next_payment
        reply.add(Paragraph(text=f"下一笔回款：{day(n.due)} {money(n.amount - n.paid_amount)}（{n.contract}）"))
    if p.overdue_payments:
        total = sum((x.amount - x.paid_amount for x in p.overdue_payments), start=0)
        reply.add(Paragraph(text=f"逾期回款 {len(p.overdue_payments)} 笔，共 {money(total)}", tone="warning"))
    if p.last_contact:
        lc = p.last_contact
        reply.add(Paragraph(text=f"最近联系：{day(lc.occurred_at, tz)} {lc.kind} {lc.summary}"
                            + (f"（{lc.staff}）" if lc.staff else "")))
    else:
        reply.add(Paragraph(text="最近联系：暂无跟进记录", tone="comment"))
    reply.add(Paragraph(text=f"流失风险：{p.risk}" if p.risk else "流失风险：暂无评估数据（不代表没有风险）",
                        tone="comment"))
    return reply


class ProfileArgs(Args):
    customer: str = Field(description="客户 ref")
    aspects: list[str] = Field(default_factory=list, exclude=True)


@action("customer.profile", title="查看客户档案", summary="查看一个客户的 360° 档案：级别、标签、负责人、商机、项目、回款、最近联系",
        args=ProfileArgs, cap=Cap.customer_read)
def customer_profile(ctx: Context, args: ProfileArgs) -> Reply:
    # the stored churn score appears exactly as /风险 shows it
    profile = profile_svc.profile_by_ref(ctx.session, ctx.actor, args.customer, ctx.now.date(),
                                         risk_threshold=ctx.settings.churn_alert_threshold)
    return profile_card(profile, ctx, args.aspects)


# --- list ----------------------------------------------------------------------------------------


class CustomerListArgs(Args):
    tier: Literal["战略级", "成长级", "常规级"] | None = None
    industry: str | None = None
    owner: str | None = Field(default=None, description="负责人（员工 ref）")
    tag: str | None = None


@action("customer.list", title="筛选客户", summary="按级别、行业、负责人、标签列出客户", args=CustomerListArgs,
        cap=Cap.customer_read)
def customer_list(ctx: Context, args: CustomerListArgs) -> Reply:
    size = ctx.settings.page_size
    page = svc.list_customers(ctx.session, ctx.actor, tier=args.tier, industry=args.industry, owner_ref=args.owner,
                              tag=args.tag, offset=(args.page - 1) * size, limit=size)
    filters = "、".join(filter(None, [args.tier, args.industry and f"{args.industry}行业",
                                     args.tag and f"标签「{args.tag}」", args.owner and "指定负责人"]))
    reply = Reply(intent="customer.list")
    if page.total == 0:
        return reply.add(Paragraph(text=f"没有找到符合条件（{filters or '全部'}）且你可以查看的客户。"))
    reply.add(Heading(text=f"客户列表（{filters}）" if filters else "客户列表"))
    reply.add(ListBlock(ordered=True, items=[
        f"{c.name}｜{c.tier or '未分级'}｜{c.industry or '—'}｜负责人 {c.owner or '未分配'}"
        + (f"｜{'、'.join(c.tags[:3])}" if c.tags else "") for c in page.items]))
    note = page_note(page.offset, len(page.items), page.total)
    if note:
        reply.add(Paragraph(text=note, tone="comment"))
    return reply


# --- create / update / tag -----------------------------------------------------------------------


class CustomerCreateArgs(Args):
    customer: str = Field(description="新客户名称（原样）", min_length=2, max_length=60)
    industry: str | None = None


def _create_preview(ctx: Context, args: CustomerCreateArgs) -> list[str]:
    similar = [c.name for c, score in find_customers(ctx.session, ctx.actor, args.customer) if score >= 90]
    lines = [f"新建客户「{args.customer}」" + (f"，行业：{normalise_industry(args.industry)}" if args.industry else ""),
             f"负责人：{ctx.actor.name}"]
    if similar:
        lines.append(f"注意：已有名称相近的客户 {'、'.join(similar[:3])}")
    return lines


@action("customer.create", title="新建客户", summary="新建一个客户（名称、行业），负责人默认为自己", args=CustomerCreateArgs,
        cap=Cap.customer_create, write=True, preview=_create_preview)
def customer_create(ctx: Context, args: CustomerCreateArgs) -> Reply:
    industry = normalise_industry(args.industry) if args.industry else None
    c = svc.create_customer(ctx.session, ctx.actor, args.customer, industry=industry)
    ctx.cache["touched"] = {"customer": c.ref or f"#{c.id}"}
    return Reply.text(f"已新建客户「{c.name}」" + (f"（{industry}）" if industry else "") + f"，负责人：{ctx.actor.name}。",
                      intent="customer.create", actions=[{"action": "customer.create", "status": "done",
                                                          "target": c.ref or f"#{c.id}", "name": c.name}])


class CustomerUpdateArgs(Args):
    customer: str
    field: Literal["name", "industry", "scale", "region", "owner", "tier", "budget_level"]
    value: str = Field(description="新值；负责人填员工 ref，级别填 战略级/成长级/常规级，预算等级填 高/中/低")


def _normalised_value(args: CustomerUpdateArgs) -> str:
    if args.field == "tier":
        return normalise_tier(args.value) or args.value
    if args.field == "budget_level":
        return normalise_budget_level(args.value) or args.value
    if args.field == "industry":
        return normalise_industry(args.value) or args.value
    return args.value


def _staff_name(ctx: Context, ref: str) -> str:
    from sqlalchemy import select

    from crm_core.models import Staff

    name = ctx.session.scalar(select(Staff.name).where(Staff.ref == ref))
    return name or ref


def _update_preview(ctx: Context, args: CustomerUpdateArgs) -> list[str]:
    from crm_core.errors import PermissionDenied
    from crm_core.permissions import can, can_manage_customer

    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    if args.field in ("owner", "tier") and not can(ctx.actor, Cap.customer_assign):
        raise PermissionDenied("调整客户负责人和级别需要主管或管理员权限。")
    if not can_manage_customer(ctx.session, ctx.actor, c):
        raise PermissionDenied("只有客户负责人、其主管或管理员可以修改客户资料。")
    value = _normalised_value(args)
    old = {"owner": c.owner.name if c.owner else "未分配"}.get(args.field, getattr(c, args.field, None)) or "—"
    new = _staff_name(ctx, value) if args.field == "owner" else value
    return [f"客户「{c.name}」的{FIELD_LABELS[args.field]}：{old} → {new}"]


@action("customer.update", title="修改客户资料", summary="修改客户的一个字段（名称、行业、规模、地区、负责人、级别、预算等级）",
        args=CustomerUpdateArgs, cap=Cap.customer_update, write=True, preview=_update_preview)
def customer_update(ctx: Context, args: CustomerUpdateArgs) -> Reply:
    lines = _update_preview(ctx, args)
    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    svc.update_customer(ctx.session, ctx.actor, c, args.field, _normalised_value(args))
    return Reply.text("已更新：" + lines[0], intent="customer.update",
                      actions=[{"action": "customer.update", "status": "done", "target": args.customer,
                                "field": args.field, "value": _normalised_value(args)}])


class CustomerTagArgs(Args):
    customer: str
    tag: str = Field(min_length=1, max_length=32)
    op: Literal["remove"] | None = Field(default=None, description="remove 表示去掉标签；不填表示添加")


def _tag_preview(ctx: Context, args: CustomerTagArgs) -> list[str]:
    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    return [f"{'去掉' if args.op == 'remove' else '添加'}客户「{c.name}」的标签「{args.tag}」"]


@action("customer.tag", title="客户打标签", summary="给客户添加或去掉标签", args=CustomerTagArgs, cap=Cap.customer_tag,
        write=True, preview=_tag_preview)
def customer_tag(ctx: Context, args: CustomerTagArgs) -> Reply:
    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    changed = svc.set_tag(ctx.session, ctx.actor, c, args.tag, remove=args.op == "remove")
    verb = "去掉" if args.op == "remove" else "添加"
    text = (f"已{verb}「{c.name}」的标签「{args.tag}」。当前标签：{'、'.join(c.tag_names) or '无'}" if changed else
            f"「{c.name}」{'本来就没有' if args.op == 'remove' else '已经有'}标签「{args.tag}」，无需改动。")
    return Reply.text(text, intent="customer.tag",
                      actions=[{"action": "customer.tag", "status": "done" if changed else "unchanged",
                                "target": args.customer, "tag": args.tag, "op": args.op or "add"}])


# --- follow-up -----------------------------------------------------------------------------------


class FollowupArgs(Args):
    customer: str
    summary: str = Field(min_length=1, max_length=2000)
    kind: str | None = Field(default=None, exclude=True, description="电话/拜访/微信/会议/邮件/其他")


def _followup_preview(ctx: Context, args: FollowupArgs) -> list[str]:
    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    kind = normalise_interaction_kind(args.kind) if args.kind else None
    return [f"给客户「{c.name}」记一条跟进" + (f"（{kind}）" if kind else "") + f"：{args.summary}"]


@action("followup.log", title="记录跟进", summary="给客户记一条跟进记录（电话、拜访、微信、会议……）", args=FollowupArgs,
        cap=Cap.followup_log, write=True, preview=_followup_preview)
def followup_log(ctx: Context, args: FollowupArgs) -> Reply:
    c = svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    kind = normalise_interaction_kind(args.kind) if args.kind else None
    row = svc.log_followup(ctx.session, ctx.actor, c, args.summary, kind=kind or "其他",
                           occurred_at=ctx.now)
    return Reply.text(f"已记录「{c.name}」的跟进（{row.kind}，{day(ctx.now)}）：{row.summary}", intent="followup.log",
                      actions=[{"action": "followup.log", "status": "done", "target": args.customer,
                                "id": row.id}])
