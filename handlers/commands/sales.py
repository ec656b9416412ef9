"""/线索 /线索池 /认领 /商机 /推进 /回款 /风险"""

from __future__ import annotations

from crm_core.errors import NotFound
from crm_core.normalise import normalise_industry
from handlers.actions.resolve import customer_ref, opportunity_ref, staff_ref
from handlers.commands.args import as_stage, is_self, split_typed, tokens
from handlers.commands.base import apply, usage
from handlers.nlu.slots import find_industry
from handlers.registry import Context, registry
from handlers.reply import Reply


@registry.command("线索", intent="lead.create", summary="登记一条新线索", aliases=("lead", "xs"),
                  usage="/线索 <名称> [行业] [预算] [备注]", examples=("/线索 云杉家居 30万 朋友推荐", "/线索 森屿咖啡 餐饮 展会认识"),
                  group="销售")
def lead_create(ctx: Context, args: str) -> Reply:
    split = split_typed(args, ctx.now.date(), want_dates=False)
    if not split.rest:
        return usage("lead.create", "用法：/线索 <名称> [行业] [预算] [备注]")
    slots: dict[str, object] = {"customer": split.rest[0]}
    rest = split.rest[1:]
    if rest and (ind := find_industry(rest[0], loose=True)) and len(rest[0]) <= len(ind[0]) + 2:
        slots["industry"] = normalise_industry(ind[0])
        rest = rest[1:]
    if split.amounts:
        slots["amount"] = split.amounts[0]
    if rest:
        slots["summary"] = "，".join(rest)
    return apply(ctx, "lead.create", slots)


@registry.command("线索池", intent="lead.claim", summary="待认领的线索", aliases=("pool", "xsc"), usage="/线索池",
                  examples=("/线索池",), group="销售")
def lead_pool(ctx: Context, args: str) -> Reply:
    return apply(ctx, "lead.claim", {})


@registry.command("认领", intent="lead.claim", summary="认领一条线索", aliases=("claim", "rl"),
                  usage="/认领 <线索名称>", examples=("/认领 白鹭文创",), group="销售")
def lead_claim(ctx: Context, args: str) -> Reply:
    name = args.strip()
    return apply(ctx, "lead.claim", {"lead": name} if name else {})


@registry.command("商机", intent="opportunity.list", summary="我的、某阶段或某同事的商机", aliases=("opps", "sj"),
                  usage="/商机 [我的|阶段|同事]", examples=("/商机 我的", "/商机 合同谈判", "/商机 王子健"), group="销售")
def opportunity_list(ctx: Context, args: str) -> Reply:
    slots: dict[str, str] = {}
    for tok in tokens(args):
        if stage := as_stage(tok):
            slots["stage"] = stage
        elif is_self(tok):
            slots["owner"] = staff_ref(ctx, tok, "owner")
        else:
            slots["owner"] = staff_ref(ctx, tok, "owner")
    return apply(ctx, "opportunity.list", slots)


@registry.command("推进", intent="opportunity.stage", summary="推进商机阶段（可带金额）", aliases=("stage", "tj"),
                  usage="/推进 <客户或商机> <阶段> [金额]",
                  examples=("/推进 星屿科技 合同谈判", "/推进 星屿科技海外年框 签约成功 300万"), group="销售")
def opportunity_stage(ctx: Context, args: str) -> Reply:
    split = split_typed(args, ctx.now.date(), want_dates=False, want_stages=True)
    if not split.stages or not split.rest:
        return usage("opportunity.stage", "用法：/推进 <客户或商机> <阶段> [金额]，阶段：需求确认/方案报价/合同谈判/签约成功/输单")
    name = " ".join(split.rest)
    slots: dict[str, object] = {"stage": split.stages[-1]}
    try:
        slots["customer"] = customer_ref(ctx, name)
    except NotFound:
        slots["opportunity"] = opportunity_ref(ctx, name)
    if split.amounts:
        slots["amount"] = split.amounts[0]
    return apply(ctx, "opportunity.stage", slots)


@registry.command("回款", intent="payment.due", summary="即将到期和逾期的回款", aliases=("payments", "hk"),
                  usage="/回款 [客户]", examples=("/回款", "/回款 星屿科技"), group="销售")
def payments(ctx: Context, args: str) -> Reply:
    name = args.strip()
    return apply(ctx, "payment.due", {"customer": customer_ref(ctx, name)} if name else {})


@registry.command("风险", intent="risk.list", summary="有流失或续约风险的客户", aliases=("risk", "fx"),
                  usage="/风险 [同事|我的]", examples=("/风险", "/风险 我的", "/风险 王子健"), group="销售")
def risk(ctx: Context, args: str) -> Reply:
    name = args.strip()
    return apply(ctx, "risk.list", {"owner": staff_ref(ctx, name, "owner")} if name else {})
