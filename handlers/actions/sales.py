"""Sales actions: leads, the pipeline, stage moves, payments due, churn/renewal signals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm_core.errors import Ambiguous, InvalidInput
from crm_core.models import Lead, Opportunity
from crm_core.normalise import normalise_industry
from crm_core.permissions import Cap
from crm_core.services import customers as customer_svc
from crm_core.services import leads as lead_svc
from crm_core.services import opportunities as opp_svc
from crm_core.services import payments as pay_svc
from crm_core.services import risk as risk_svc
from crm_core.services import work as work_svc
from handlers.actions.base import Args, NeedChoice, action
from handlers.format import day, money, page_note
from handlers.registry import Context
from handlers.reply import Heading, ListBlock, Paragraph, Reply

Stage = Literal["需求确认", "方案报价", "合同谈判", "签约成功", "输单"]


def _paged(reply: Reply, offset: int, shown: int, total: int) -> Reply:
    note = page_note(offset, shown, total)
    if note:
        reply.add(Paragraph(text=note, tone="comment"))
    return reply


# --- leads ---------------------------------------------------------------------------------------


class LeadCreateArgs(Args):
    customer: str = Field(description="线索（公司/品牌）名称，原样", min_length=2, max_length=60)
    industry: str | None = None
    summary: str | None = Field(default=None, max_length=2000)
    amount: int | None = Field(default=None, ge=0, description="预算，单位元")


def _lead_preview(ctx: Context, args: LeadCreateArgs) -> list[str]:
    parts = [f"新线索「{args.customer}」"]
    if args.industry:
        parts.append(f"行业：{normalise_industry(args.industry)}")
    if args.amount:
        parts.append(f"预算：{money(args.amount)}")
    lines = ["，".join(parts)]
    if args.summary:
        lines.append(f"备注：{args.summary}")
    lines.append(f"登记后由{ctx.actor.name}跟进")
    return lines


@action("lead.create", title="登记线索", summary="登记一条新线索（名称、行业、备注、预算），登记人直接跟进", args=LeadCreateArgs,
        cap=Cap.lead_create, write=True, preview=_lead_preview)
def lead_create(ctx: Context, args: LeadCreateArgs) -> Reply:
    lead = lead_svc.create_lead(ctx.session, ctx.actor, args.customer,
                                industry=normalise_industry(args.industry) if args.industry else None,
                                summary=args.summary, amount=args.amount)
    who = f"由{lead.owner.name}跟进" if lead.owner else "已放入线索池待分配"
    return Reply.text(f"已登记线索「{lead.name}」，{who}。", intent="lead.create",
                      actions=[{"action": "lead.create", "status": "done", "target": lead.ref or f"#{lead.id}",
                                "name": lead.name}])


class LeadClaimArgs(Args):
    lead: str | None = Field(default=None, description="要认领的线索名称；不填则列出线索池")


def _claim_preview(ctx: Context, args: LeadClaimArgs) -> list[str]:
    if not args.lead:
        return []
    lead = _find_lead(ctx, args.lead)
    return [f"认领线索「{lead.name}」" + (f"（{lead.industry}）" if lead.industry else "") + "，之后由你跟进"]


def _find_lead(ctx: Context, text: str) -> Lead:
    try:
        return lead_svc.find_pool_lead(ctx.session, ctx.actor, text)
    except Ambiguous as exc:
        raise NeedChoice(str(exc), "lead", exc.candidates) from None


@action("lead.claim", title="线索池/认领线索", summary="查看线索池，或认领一条线索", args=LeadClaimArgs, cap=Cap.lead_claim,
        write=True, preview=_claim_preview)
def lead_claim(ctx: Context, args: LeadClaimArgs) -> Reply:
    if not args.lead:
        size = ctx.settings.page_size
        page = lead_svc.lead_pool(ctx.session, ctx.actor, offset=(args.page - 1) * size, limit=size)
        reply = Reply(intent="lead.claim")
        if not page.total:
            return reply.add(Paragraph(text="线索池现在是空的，没有待认领的线索。"))
        reply.add(Heading(text=f"线索池（待认领 {page.total} 条）"))
        reply.add(ListBlock(ordered=True, items=[
            "｜".join(filter(None, [x.name, x.industry, x.region, money(x.amount) if x.amount else None,
                                   (x.summary or "")[:30] or None])) for x in page.items]))
        reply.add(Paragraph(text="认领请发送：认领线索 <名称>", tone="comment"))
        return _paged(reply, page.offset, len(page.items), page.total)
    lead = lead_svc.claim_lead(ctx.session, ctx.actor, _find_lead(ctx, args.lead))
    return Reply.text(f"已认领线索「{lead.name}」，现在由你跟进。", intent="lead.claim",
                      actions=[{"action": "lead.claim", "status": "done", "target": lead.ref or f"#{lead.id}"}])


# --- opportunities -------------------------------------------------------------------------------


class OpportunityListArgs(Args):
    owner: str | None = Field(default=None, description="负责人（员工 ref）")
    stage: Stage | None = None


@action("opportunity.list", title="商机列表", summary="列出商机（可按负责人、阶段筛选），默认为未关闭的商机", args=OpportunityListArgs,
        cap=Cap.opportunity_read)
def opportunity_list(ctx: Context, args: OpportunityListArgs) -> Reply:
    size = ctx.settings.page_size
    page = opp_svc.list_opportunities(ctx.session, ctx.actor, owner_ref=args.owner, stage=args.stage,
                                      offset=(args.page - 1) * size, limit=size)
    title = "商机" + (f"｜{args.stage}" if args.stage else "｜进行中") + ("｜我的" if args.owner == ctx.actor.staff_ref
                                                                      else "")
    reply = Reply(intent="opportunity.list")
    if not page.total:
        return reply.add(Paragraph(text="没有符合条件、你可以查看的商机。"))
    total_amount = sum((o.amount or 0) for o in page.items)
    reply.add(Heading(text=f"{title}（{page.total} 个）"))
    reply.add(ListBlock(ordered=True, items=[
        f"{o.name}｜{o.customer}｜{o.stage}｜{money(o.amount)}｜{o.owner or '未分配'}" for o in page.items]))
    reply.add(Paragraph(text=f"本页金额合计 {money(total_amount)}", tone="comment"))
    return _paged(reply, page.offset, len(page.items), page.total)


class OpportunityStageArgs(Args):
    customer: str | None = Field(default=None, description="客户 ref")
    opportunity: str | None = Field(default=None, description="商机 ref；不填时取该客户唯一的进行中商机")
    stage: Stage
    amount: int | None = Field(default=None, ge=0, description="合同/商机金额，单位元")


def _target_opportunity(ctx: Context, args: OpportunityStageArgs) -> Opportunity:
    if args.opportunity:
        return opp_svc.opportunity_by_ref(ctx.session, ctx.actor, args.opportunity)
    if not args.customer:
        raise InvalidInput("请说明是哪个客户或哪个商机，例如：推进 星屿科技 合同谈判")
    customer = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer)
    opps = opp_svc.open_opportunities(ctx.session, ctx.actor, customer.id)
    if not opps:
        raise InvalidInput(f"客户「{customer.name}」目前没有进行中的商机。")
    if len(opps) > 1:
        raise NeedChoice(f"「{customer.name}」有 {len(opps)} 个进行中的商机，要推进哪一个？", "opportunity",
                         [(o.ref or f"#{o.id}", f"{o.name}（{o.stage}）") for o in opps])
    return opps[0]


def _stage_preview(ctx: Context, args: OpportunityStageArgs) -> list[str]:
    opp = _target_opportunity(ctx, args)
    line = f"商机「{opp.name}」：{opp.stage} → {args.stage}"
    if args.amount is not None:
        line += f"，金额 {money(opp.amount)} → {money(args.amount)}"
    return [line]


@action("opportunity.stage", title="推进商机", summary="把商机推进到某个阶段（需求确认/方案报价/合同谈判/签约成功/输单），可同时更新金额",
        args=OpportunityStageArgs, cap=Cap.opportunity_update, write=True, preview=_stage_preview)
def opportunity_stage(ctx: Context, args: OpportunityStageArgs) -> Reply:
    from decimal import Decimal

    opp = _target_opportunity(ctx, args)
    before = opp.stage
    work_svc.move_opportunity(ctx.session, ctx.actor, opp, args.stage,
                              amount=Decimal(args.amount) if args.amount is not None else None)
    extra = f"，金额 {money(opp.amount)}" if args.amount is not None else ""
    cheer = " 🎉" if args.stage == "签约成功" else ""
    return Reply.text(f"已将商机「{opp.name}」从「{before}」推进到「{args.stage}」{extra}。{cheer}".strip(),
                      intent="opportunity.stage",
                      actions=[{"action": "opportunity.stage", "status": "done", "target": opp.ref or f"#{opp.id}",
                                "from": before, "to": args.stage}])


# --- payments and risk ---------------------------------------------------------------------------


class PaymentDueArgs(Args):
    customer: str | None = Field(default=None, description="客户 ref；不填则列出所有即将到期和逾期的回款")
    until: str | None = Field(default=None, exclude=True)


@action("payment.due", title="回款提醒", summary="查看即将到期或已逾期的回款（可指定客户）", args=PaymentDueArgs,
        cap=Cap.payment_read)
def payment_due(ctx: Context, args: PaymentDueArgs) -> Reply:
    from datetime import date

    size = ctx.settings.page_size
    today = ctx.now.date()
    until = date.fromisoformat(args.until) if args.until else None
    name = None
    if args.customer:
        name = customer_svc.customer_by_ref(ctx.session, ctx.actor, args.customer).name
    report = pay_svc.payments_due(ctx.session, ctx.actor, today, customer_ref=args.customer, until=until,
                                  offset=(args.page - 1) * size, limit=size)
    reply = Reply(intent="payment.due")
    scope = f"「{name}」" if name else f"截至 {day(report.until)}"
    if not report.page.total:
        return reply.add(Paragraph(text=f"{scope}，没有待收或逾期的回款。"))
    reply.add(Heading(text=f"回款提醒｜{scope}"))
    reply.add(ListBlock(ordered=True, items=[
        f"{r.customer}｜{r.contract} 第{r.seq}期｜{day(r.due)}｜{money(r.outstanding)}"
        + (f"｜已逾期 {r.overdue_days} 天" if r.overdue_days else "") + (f"｜{r.owner}" if r.owner else "")
        for r in report.page.items]))
    reply.add(Paragraph(text=f"逾期合计 {money(report.overdue_total)}，即将到期合计 {money(report.upcoming_total)}。",
                        tone="warning" if report.overdue_total else "comment"))
    return _paged(reply, report.page.offset, len(report.page.items), report.page.total)


class RiskListArgs(Args):
    owner: str | None = Field(default=None, description="负责人（员工 ref）")


@action("risk.list", title="风险客户", summary="列出有流失或续约风险信号的客户（可按负责人）", args=RiskListArgs,
        cap=Cap.risk_read)
def risk_list(ctx: Context, args: RiskListArgs) -> Reply:
    size = ctx.settings.page_size
    report = risk_svc.risk_signals(ctx.session, ctx.actor, ctx.now.date(), owner_ref=args.owner,
                                   offset=(args.page - 1) * size, limit=size,
                                   threshold=ctx.settings.churn_alert_threshold)
    reply = Reply(intent="risk.list")
    days = ctx.settings.churn_rescore_days
    every = "每天" if days == 1 else f"每 {days} 天"
    if report.scored:
        basis = (f"流失风险分由定时任务为每个客户{every}评估一次（0–100，{report.threshold} 分起预警），另附合同到期、"
                 "逾期回款、长期未跟进和超时工单等实时信号。")
    else:
        basis = "流失风险分尚未评估（由每天的定时任务计算），以下只是根据合同到期、逾期回款、长期未跟进和超时工单发现的信号。"
    thin = f"另有 {report.insufficient} 个客户数据不足，暂无法评分（不代表没有风险）。" if report.insufficient else ""
    if report.scored and report.unscored:
        thin += f"另有 {report.unscored} 个客户尚未完成首次评分（{days} 天内会全部评完，不代表没有风险）。"
    if not report.page.total:
        return reply.add(Paragraph(text=f"在你可以查看的 {report.customers_checked} 个客户里，没有发现中高风险评分或风险信号"
                                        f"（这不代表没有风险）。{thin}{basis}"))
    reply.add(Heading(text=f"风险客户｜{report.page.total} 个"))
    reply.add(Paragraph(text=basis + thin, tone="comment"))
    reply.add(ListBlock(ordered=True, items=[
        f"{r.customer}（{r.tier or '未分级'}，{r.owner or '未分配'}）：" + "；".join(filter(None, [
            f"风险分 {r.risk}" if r.score is not None and r.risk else None,
            ("信号：" + "；".join(r.signals)) if r.signals else None]))
        for r in report.page.items]))
    return _paged(reply, report.page.offset, len(report.page.items), report.page.total)
