"""Answering a question from the knowledge base, honestly.

Confident: the best article's relevant passage under its title (or, with an LLM configured, an
answer composed from the retrieved passages only, citing them). Not confident: say so, list up to
three related articles, and — when a client asked — open a ticket with the question and record who
should be notified (the customer's owner, else the service desk). Delivery of that notification is
the channels' outbox; this module only says what to send.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from crm_core.actor import Actor
from crm_core.errors import CrmError
from crm_core.models import Customer, KBArticle, Role, Staff, Ticket
from crm_core.permissions import Cap, require
from crm_core.services.tickets import create_ticket
from knowledge.compose import Source, chat_model, compose
from knowledge.search import KBHit, search_kb

# Logistic calibration of "the best article answers the question", fitted on the development
# questions plus questions the knowledge base cannot answer (docs/benchmarks.md, "Retrieval").
# Inputs: the best chunk's cosine (a model-specific scale) and the z-fused score. Models without an
# entry use the z-fused score alone; with RRF fusion only the cosine is used.
Calibration = tuple[float, float, float]  # (w_cosine, w_fused, bias)
CALIBRATION: dict[str, dict[str, Calibration]] = {  # model-name fragment → fusion → weights
    "e5": {"zscore": (58.56, 1.339, -55.61), "rrf": (94.46, 0.0, -82.70)},
}
FALLBACK_CALIBRATION: dict[str, Calibration] = {"zscore": (0.0, 2.219, -6.688), "rrf": (0.0, 0.0, 0.0)}
RELATED_LIMIT = 3
TICKET_CATEGORY = "咨询"


@dataclass(frozen=True)
class Citation:
    ref: str | None
    title: str
    passage: str


@dataclass(frozen=True)
class Notification:
    """Someone to tell, for the channels' outbox."""

    kind: str  # "kb.unanswered"
    staff_id: int
    staff_ref: str | None
    name: str
    wecom_userid: str | None
    dingtalk_userid: str | None
    text: str
    dedupe_key: str


@dataclass
class KBAnswer:
    question: str
    confident: bool
    confidence: float  # 0..1
    text: str  # the reply, ready to show
    title: str | None = None  # the answering article (confident)
    passage: str | None = None
    article: KBArticle | None = None
    related: list[KBHit] = field(default_factory=list)  # up to three when not confident
    citations: list[Citation] = field(default_factory=list)
    ticket: Ticket | None = None
    notify: list[Notification] = field(default_factory=list)
    composed_by: Literal["extractive", "llm", "none"] = "extractive"


def confidence(hit: KBHit | None, model_name: str, fusion: str = "zscore") -> float:
    if hit is None:
        return 0.0
    table = next((c for frag, c in CALIBRATION.items() if frag in model_name.lower()), FALLBACK_CALIBRATION)
    w_cos, w_fused, bias = table.get(fusion, FALLBACK_CALIBRATION["zscore"])
    if hit.dense is None:
        w_cos = 0.0
    z = w_cos * (hit.dense or 0.0) + w_fused * hit.score + bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def service_owners(session: Session, actor: Actor) -> list[Staff]:
    """Who answers for this client: the customer's owner, else the active service staff."""
    customer = session.get(Customer, actor.customer_id) if actor.customer_id else None
    if customer is not None and customer.owner is not None and customer.owner.active:
        return [customer.owner]
    return list(session.scalars(select(Staff).where(Staff.role == Role.service.value, Staff.active.is_(True))
                                .order_by(Staff.id).limit(3)))


def _extractive(hit: KBHit) -> str:
    return f"【{hit.title}】\n{hit.passage}"


def _related_text(related: list[KBHit]) -> str:
    return "\n".join(f"{i}. {h.title}" for i, h in enumerate(related, 1))


def answer_question(session: Session, actor: Actor, question: str, *, settings: Settings | None = None,
                    embedder: Any = None, llm: Any = None, now: datetime | None = None) -> KBAnswer:
    """Answer ``question`` from the KB; for a client the unanswerable becomes a ticket (the caller commits)."""
    require(actor, Cap.knowledge_read)
    settings = settings or get_settings()
    from knowledge.indexing import _embedder

    emb = _embedder(settings, embedder)
    hits = search_kb(session, actor, question, k=5, settings=settings, embedder=emb)
    best = hits[0] if hits else None
    conf = confidence(best, emb.name, settings.search_fusion)
    if best is not None and conf >= settings.kb_answer_min_confidence:
        return _confident(question, best, hits, conf, settings, llm)
    return _not_sure(session, actor, question, hits, conf, now)


def _confident(question: str, best: KBHit, hits: list[KBHit], conf: float, settings: Settings,
               llm: Any) -> KBAnswer:
    answer = KBAnswer(question=question, confident=True, confidence=conf, text=_extractive(best), title=best.title,
                      passage=best.passage, article=best.article,
                      citations=[Citation(best.ref, best.title, best.passage)])
    model = llm if llm is not None else chat_model(settings)
    if model is None:
        return answer
    # the passages close to the best one, so the model can combine them, and nothing else
    pool = [h for h in hits[:3] if h is best or h.score >= best.score - 1.0]
    sources = [Source(h.ref, h.title, h.passage) for h in pool]
    composed = compose(model, question, sources)
    if composed is None:
        return answer
    answer.text = composed.text + "\n\n" + "\n".join(f"[{i + 1}] {sources[i].title}" for i in composed.cited)
    answer.citations = [Citation(sources[i].ref, sources[i].title, sources[i].passage) for i in composed.cited]
    answer.composed_by = "llm"
    return answer


def _not_sure(session: Session, actor: Actor, question: str, hits: list[KBHit], conf: float,
              now: datetime | None) -> KBAnswer:
    related = hits[:RELATED_LIMIT]
    lines = ["这个问题我暂时没有把握准确回答，不想给你不准确的信息。"]
    if related:
        lines.append("以下文章可能有帮助：\n" + _related_text(related))
    answer = KBAnswer(question=question, confident=False, confidence=conf, text="", related=related,
                      composed_by="none")
    if actor.is_external:
        try:
            ticket = create_ticket(session, actor, None, question.strip()[:300], category=TICKET_CATEGORY,
                                   now=now)
        except CrmError:
            ticket = None
        if ticket is not None:
            answer.ticket = ticket
            answer.notify = _notifications(session, actor, ticket, question)
            lines.append(f"已为你创建工单 #{ticket.number}，服务同事会尽快跟进回复。")
        else:
            lines.append("请联系你的客户经理，我们会尽快答复。")
    else:
        lines.append("可以换个说法再问，或把问题转给客服同事。")
    answer.text = "\n".join(lines)
    return answer


def _notifications(session: Session, actor: Actor, ticket: Ticket, question: str) -> list[Notification]:
    customer = session.get(Customer, ticket.customer_id)
    who = customer.name if customer is not None else "客户"
    text = (f"客户「{who}」的{actor.name}提问，知识库没有把握回答，已生成工单 #{ticket.number}：{question.strip()}"
            "\n请尽快跟进回复。")
    return [Notification(kind="kb.unanswered", staff_id=s.id, staff_ref=s.ref, name=s.name,
                         wecom_userid=s.wecom_userid, dingtalk_userid=s.dingtalk_userid, text=text,
                         dedupe_key=f"kb.unanswered:{ticket.number}:{s.id}")
            for s in service_owners(session, actor)]
