"""Case search and knowledge-base answers (both from ``knowledge/``).

``knowledge`` is optional at import time: when it is missing or fails (no index, no embedder) the
reply says so honestly instead of guessing.
"""

from __future__ import annotations

import logging
import re

from pydantic import Field

from crm_core.models import Staff
from crm_core.permissions import Cap
from crm_core.services import notify
from handlers.actions.base import Args, action
from handlers.registry import Context
from handlers.reply import Heading, ListBlock, Paragraph, Reply

log = logging.getLogger(__name__)

METRIC_WORDS = {"cvr": "转化率", "ctr": "点击率", "roi": "ROI", "impressions": "曝光"}
_METRIC = re.compile(r"^(cvr|ctr|roi|impressions)\s*(>=|<=|>|<)\s*([\d.]+)$")


def metric_text(metric: str) -> str:
    """"cvr>0.05" → "转化率>5%" (what the case search parses)."""
    m = _METRIC.match(metric.replace(" ", ""))
    if not m:
        return metric
    name, op, value = m.groups()
    number = float(value)
    shown = f"{number * 100:g}%" if name in ("cvr", "ctr") else f"{number:g}"
    return f"{METRIC_WORDS[name]}{op}{shown}"


class CaseSearchArgs(Args):
    query: str | None = Field(default=None, description="要找的案例，原话即可，如「美妆 短视频 转化率>5%」")
    industry: str | None = None
    format: str | None = Field(default=None, description="形式：短视频、直播、种草、TVC、信息流……")
    metric: str | None = Field(default=None, description="指标条件，如 cvr>0.05、roi>3（比率用小数）")


def _case_query(args: CaseSearchArgs) -> str:
    parts = [args.query or ""]
    for extra in (args.industry, args.format):
        if extra and extra not in parts[0]:
            parts.append(extra)
    if args.metric and not re.search(r"[<>]|以上|以下|大于|高于|超过|不低于", parts[0]):
        parts.append(metric_text(args.metric))
    return " ".join(p for p in parts if p).strip()


@action("case.search", title="找案例", summary="按行业、形式、指标查找过往案例", args=CaseSearchArgs, cap=Cap.case_read)
def case_search(ctx: Context, args: CaseSearchArgs) -> Reply:
    query = _case_query(args)
    reply = Reply(intent="case.search")
    if not query:
        return reply.add(Paragraph(text="想找什么样的案例？例如：/案例 美妆 短视频 转化率>5%"))
    try:
        from knowledge.search import search_cases

        results = search_cases(ctx.session, ctx.actor, query, k=5, today=ctx.now.date(), settings=ctx.settings)
    except ImportError:
        return reply.add(Paragraph(text="案例库检索暂未启用，请稍后再试。", tone="warning"))
    except Exception as exc:  # the index or the embedder is unavailable: say so
        log.warning("case search failed: %s", exc)
        ctx.session.rollback()
        return reply.add(Paragraph(text="案例库暂时无法检索，请稍后再试或联系管理员重建索引（crmbot index rebuild）。",
                                   tone="warning"))
    filters = getattr(results, "filters", [])
    if not results:
        text = f"没有找到符合「{query}」的案例。"
        if filters:
            text += "（条件：" + "；".join(filters) + "）可以放宽条件再试。"
        return reply.add(Paragraph(text=text))
    reply.add(Heading(text=f"案例｜{query}"))
    relaxed = getattr(results, "relaxed", [])
    if relaxed:
        reply.add(Paragraph(text=f"完全符合的案例不多，已放宽「{'、'.join(relaxed)}」条件。", tone="comment"))
    items = []
    for hit in results:
        case = hit.case
        head = " · ".join(filter(None, [case.client, case.industry, case.format, str(case.year) if case.year else None]))
        metrics = "，".join(f"{k} {v}" for k, v in hit.key_metrics[:3])
        why = "；".join(hit.reasons[:3])
        items.append(f"{case.title}（{head}）" + (f"\n   指标：{metrics}" if metrics else "")
                     + (f"\n   匹配：{why}" if why else ""))
    reply.add(ListBlock(ordered=True, items=items))
    return reply


class KbAskArgs(Args):
    query: str = Field(min_length=2, max_length=500, description="问题原文")


@action("kb.ask", title="问知识库", summary="回答服务/流程类问题（来自知识库）；不确定时如实说明并给出相关文章",
        args=KbAskArgs, cap=Cap.knowledge_read, external=True)
def kb_ask(ctx: Context, args: KbAskArgs) -> Reply:
    reply = Reply(intent="kb.ask")
    try:
        from knowledge.answer import answer_question

        answer = answer_question(ctx.session, ctx.actor, args.query, settings=ctx.settings, now=ctx.now)
    except ImportError:
        return reply.add(Paragraph(text="知识库暂未启用，请稍后再试，或直接联系你的客户经理。", tone="warning"))
    except Exception as exc:
        log.warning("kb answer failed: %s", exc)
        ctx.session.rollback()
        return reply.add(Paragraph(text="知识库暂时无法查询，请稍后再试。", tone="warning"))
    reply.add(Paragraph(text=answer.text))
    if answer.ticket is not None:
        reply.actions.append({"action": "ticket.create", "status": "done", "target": answer.ticket.ref,
                              "number": answer.ticket.number})
    for n in answer.notify:
        staff = ctx.session.get(Staff, n.staff_id)
        if staff is not None:  # the service owner hears of it in their 1:1 chat with the bot
            notify.to_staff(ctx.session, staff, "客户提问待回复", [n.text], dedupe_key=n.dedupe_key, now=ctx.now,
                            settings=ctx.settings)
        reply.actions.append({"action": "notify", "kind": n.kind, "staff": n.staff_ref, "wecom_userid": n.wecom_userid,
                              "dingtalk_userid": n.dingtalk_userid, "text": n.text, "dedupe_key": n.dedupe_key})
    return reply

