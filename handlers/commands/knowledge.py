"""/案例 /知识"""

from __future__ import annotations

from handlers.commands.base import apply, usage
from handlers.nlu.numbers import find_metrics
from handlers.nlu.slots import find_format, find_industry
from handlers.registry import Context, registry
from handlers.reply import Reply


@registry.command("案例", intent="case.search", summary="查找过往案例（行业、形式、指标）", aliases=("cases", "case", "al"),
                  usage="/案例 <行业/形式/关键词/指标>", examples=("/案例 美妆 短视频 转化率>5%", "/案例 汽车 发布会"),
                  group="案例与知识")
def cases(ctx: Context, args: str) -> Reply:
    query = args.strip()
    if not query:
        return usage("case.search", "用法：/案例 <描述>，例如 /案例 美妆 短视频 转化率>5%")
    slots: dict[str, str] = {"query": query}
    if ind := find_industry(query, loose=True):
        slots["industry"] = ind[0]
    if fmt := find_format(query):
        slots["format"] = fmt[0]
    if metrics := find_metrics(query):
        slots["metric"] = metrics[0].slot
    return apply(ctx, "case.search", slots)


@registry.command("知识", intent="kb.ask", summary="问知识库（流程、规则、服务问题）", aliases=("kb", "ask", "zs"),
                  usage="/知识 <问题>", examples=("/知识 发票开错了怎么重开", "/知识 设计稿免费修改几次"), group="案例与知识")
def kb(ctx: Context, args: str) -> Reply:
    question = args.strip()
    if not question:
        return usage("kb.ask", "用法：/知识 <问题>，例如 /知识 发票开错了怎么重开")
    return apply(ctx, "kb.ask", {"query": question})

