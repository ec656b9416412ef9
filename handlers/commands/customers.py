"""Customer commands: the 360° profile card."""

from __future__ import annotations

from crm_core.services import customers as svc
from handlers.format import day, money
from handlers.registry import Context, registry
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply


def profile_card(p: svc.CustomerProfile, ctx: Context) -> Reply:
    tz = ctx.settings.tz
    reply = Reply(intent="customer.profile", slots={"customer": p.ref})
    reply.add(Heading(text=f"客户档案｜{p.name}" + (f"（{p.ref}）" if p.ref else "")))
    reply.add(Fields(pairs=[
        ("级别", p.tier or "未分级"),
        ("行业", " · ".join(filter(None, [p.industry, p.scale, p.region])) or "—"),
        ("预算等级", p.budget_level or "—"),
        ("负责人", p.owner or "未分配"),
        ("标签", "、".join(p.tags) or "—"),
    ]))
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


@registry.command("客户", intent="customer.profile", summary="查看客户 360° 档案", aliases=("customer", "kh"),
                  usage="/客户 <客户名称>", examples=("/客户 星屿科技", "/customer 星屿科技"))
def customer_profile(ctx: Context, args: str) -> Reply:
    name = args.strip()
    if not name:
        return Reply.text("请告诉我客户名称，例如：/客户 星屿科技", intent="customer.profile")
    customer = svc.get_customer(ctx.session, ctx.actor, name)
    return profile_card(svc.profile(ctx.session, ctx.actor, customer, ctx.now.date()), ctx)
