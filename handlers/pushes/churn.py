"""Churn / renewal-risk alerts: the score, its reasons, and what to do — cases and the tier's service."""

from __future__ import annotations

from collections.abc import Sequence

from crm_core.risk.history import METHOD_LABELS
from crm_core.risk.retention import CaseSuggestion
from crm_core.services.reminders import ChurnItem, Person
from handlers.reply import Heading, ListBlock, Paragraph, Reply


def _case(c: CaseSuggestion) -> str:
    facets = "·".join(x for x in (c.industry, c.format) if x)
    return f"《{c.title}》" + (f"（{facets}）" if facets else "") + (f" {'、'.join(c.highlights)}" if c.highlights else "")


def churn_alerts(recipient: Person, items: Sequence[ChurnItem], threshold: int) -> Reply:
    reply = Reply(intent="push.churn_risk")
    for item in items:
        team = item.owner is not None and item.owner.id != recipient.id
        reply.add(Heading(text=f"续约风险预警｜{item.name}（{item.tier or '未分级'}）"))
        reply.add(Paragraph(text=f"风险分 {item.score}/100，已达到预警线 {threshold} 分（{METHOD_LABELS.get(item.method, item.method)}，"
                                 f"{item.as_of.isoformat()} 评估）" + (f"；客户经理：{item.owner.name}" if team and item.owner else ""),
                            tone="warning"))
        reply.add(ListBlock(title="主要原因：", ordered=True, items=item.reasons or ["多项指标同时走弱"]))
        suggestions = [f"服务方案（{item.tier or '未分级'}）：" + "；".join(item.offer[:3])]
        if item.cases:
            suggestions.append("推荐参考案例：" + "；".join(f"{n}. {_case(c)}" for n, c in enumerate(item.cases, 1)))
        else:
            suggestions.append("案例库里暂时没有可推荐的同类案例")
        reply.add(ListBlock(title="挽留建议：", items=suggestions))
    who = items[0].name if items else "客户名"
    reply.add(Paragraph(text=f"查看客户档案发送「/客户 {who}」，全部风险客户发送「/风险 我的」。", tone="comment"))
    return reply
