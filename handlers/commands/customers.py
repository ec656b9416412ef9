"""/客户 /客户列表 /新建客户 /改客户 /跟进 (/标签: commands/curation.py)"""

from __future__ import annotations

from crm_core.normalise import normalise_industry
from handlers.actions.resolve import customer_ref, staff_ref
from handlers.commands.args import as_tier, is_self, tokens
from handlers.commands.base import apply, usage
from handlers.nlu.slots import find_industry
from handlers.registry import Context, registry
from handlers.reply import Reply

FIELDS = {"名称": "name", "名字": "name", "行业": "industry", "规模": "scale", "地区": "region", "区域": "region",
          "城市": "region", "负责人": "owner", "owner": "owner", "级别": "tier", "等级": "tier", "tier": "tier",
          "预算": "budget_level", "预算等级": "budget_level", "industry": "industry", "region": "region",
          "scale": "scale", "name": "name", "budget": "budget_level"}


@registry.command("客户", intent="customer.profile", summary="查看客户 360° 档案", aliases=("customer", "kh"),
                  usage="/客户 <客户名称>", examples=("/客户 星屿科技", "/customer 星屿科技"), group="客户")
def customer_profile(ctx: Context, args: str) -> Reply:
    name = args.strip()
    if not name:
        return usage("customer.profile", "请告诉我客户名称，例如：/客户 星屿科技")
    return apply(ctx, "customer.profile", {"customer": customer_ref(ctx, name)})


@registry.command("客户列表", intent="customer.list", summary="按级别、行业、负责人、标签筛选",
                  aliases=("customers", "khlb"), usage="/客户列表 [战略级|成长级|常规级] [行业] [我的|同事] [#标签]",
                  examples=("/客户列表 战略级", "/客户列表 我的 快消", "/客户列表 #小红书"), group="客户")
def customer_list(ctx: Context, args: str) -> Reply:
    slots: dict[str, str] = {}
    for tok in tokens(args):
        if tok.startswith("#") and len(tok) > 1:
            slots["tag"] = tok[1:]
        elif tier := as_tier(tok):
            slots["tier"] = tier
        elif is_self(tok):
            slots["owner"] = staff_ref(ctx, tok, "owner")
        elif (ind := find_industry(tok, loose=True)) and len(tok) <= len(ind[0]) + 3:
            slots["industry"] = ind[0]
        else:
            slots["owner"] = staff_ref(ctx, tok, "owner")
    return apply(ctx, "customer.list", slots)


@registry.command("新建客户", intent="customer.create", summary="新建客户（负责人为自己）", aliases=("newcustomer", "xjkh"),
                  usage="/新建客户 <名称> [行业]", examples=("/新建客户 远航物流", "/新建客户 一禾烘焙 餐饮"), group="客户")
def customer_create(ctx: Context, args: str) -> Reply:
    toks = tokens(args)
    if not toks:
        return usage("customer.create", "请告诉我客户名称，例如：/新建客户 一禾烘焙 餐饮")
    slots = {"customer": toks[0]}
    if len(toks) > 1:
        slots["industry"] = normalise_industry(toks[1]) or toks[1]
    return apply(ctx, "customer.create", slots)


@registry.command("改客户", intent="customer.update", summary="修改客户资料（级别、负责人需主管）",
                  aliases=("updatecustomer", "gkh"), usage="/改客户 <客户> <字段> <新值>",
                  examples=("/改客户 星屿科技 级别 战略级", "/改客户 星屿科技 负责人 王子健", "/改客户 星屿科技 预算 高"),
                  group="客户")
def customer_update(ctx: Context, args: str) -> Reply:
    toks = tokens(args)
    if len(toks) < 3 or toks[-2] not in FIELDS:
        return usage("customer.update", "用法：/改客户 <客户> <字段> <新值>，字段可选：名称、行业、规模、地区、负责人、级别、预算")
    field = FIELDS[toks[-2]]
    value = toks[-1]
    if field == "owner":
        value = staff_ref(ctx, value, "value")
    return apply(ctx, "customer.update", {"customer": customer_ref(ctx, " ".join(toks[:-2])), "field": field,
                                          "value": value})


@registry.command("跟进", intent="followup.log", summary="记录一条客户跟进", aliases=("followup", "gj"),
                  usage="/跟进 <客户> <内容>", examples=("/跟进 星屿科技 电话沟通排期，下周出方案",), group="客户")
def followup(ctx: Context, args: str) -> Reply:
    parts = args.strip().split(None, 1)
    if len(parts) < 2:
        return usage("followup.log", "用法：/跟进 <客户> <内容>，例如 /跟进 星屿科技 电话沟通排期")
    return apply(ctx, "followup.log", {"customer": customer_ref(ctx, parts[0]), "summary": parts[1].strip()})
