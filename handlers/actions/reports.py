"""Reports as small text charts (every channel can show them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm_core.permissions import Cap
from crm_core.services import reports as svc
from handlers.actions.base import Args, action
from handlers.format import bar
from handlers.registry import Context
from handlers.reply import Heading, ListBlock, Paragraph, Reply

ReportKey = Literal["funnel", "ltv", "rfm", "payments", "tickets", "performance", "utilization"]


class ReportArgs(Args):
    report: ReportKey = Field(description="funnel 销售漏斗 / ltv / rfm / payments 回款 / tickets 工单 / "
                                          "performance 业绩 / utilization 人员饱和度")
    department: str | None = Field(default=None, exclude=True)


@action("report.show", title="报表", summary="查看报表：销售漏斗、LTV、RFM、回款、工单、业绩、人员饱和度", args=ReportArgs,
        cap=Cap.report_read)
def report_show(ctx: Context, args: ReportArgs) -> Reply:
    report = svc.build_report(ctx.session, ctx.actor, args.report, ctx.now.date(), department=args.department)
    reply = Reply(intent="report.show").add(Heading(text=report.title))
    if not report.rows:
        return reply.add(Paragraph(text="暂无可统计的数据。" + (" " + " ".join(report.notes) if report.notes else "")))
    top = max((r.value for r in report.rows), default=0.0)
    if top <= 0 and args.report in ("ltv", "performance"):  # payments: 0 % collected is data, not its absence
        reply.add(Paragraph(text="暂无合同或回款数据，导入合同后即可统计（crmbot import contracts.jsonl --kind contracts）。"))
    reply.add(ListBlock(items=[f"{r.label}  {bar(r.value, top)}  {r.display}" for r in report.rows]))
    for note in report.notes:
        reply.add(Paragraph(text=note, tone="comment"))
    return reply
