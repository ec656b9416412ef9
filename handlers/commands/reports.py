"""/报表"""

from __future__ import annotations

import re

from handlers.commands.base import apply, usage
from handlers.nlu.slots import find_report
from handlers.registry import Context, registry
from handlers.reply import Reply

_KEYS = {"funnel", "ltv", "rfm", "payments", "tickets", "performance", "utilization"}


@registry.command("报表", intent="report.show", summary="漏斗、LTV、RFM、回款、业绩等报表",
                  aliases=("report", "bb"), usage="/报表 <漏斗|LTV|RFM|回款|工单|业绩|饱和度> [部门]",
                  examples=("/报表 漏斗", "/报表 饱和度 设计部", "/report ltv"), group="报表")
def report(ctx: Context, args: str) -> Reply:
    text = args.strip()
    key = text.split()[0].lower() if text else ""
    key = key if key in _KEYS else (find_report(text) or "")
    if not key:
        return usage("report.show", "用法：/报表 <漏斗|LTV|RFM|回款|工单|业绩|饱和度> [部门]")
    dept = re.search(r"([\u4e00-\u9fff]{1,4}部)", text)
    return apply(ctx, "report.show", {"report": key}, {"department": dept.group(1)} if dept else None)
