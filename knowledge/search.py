"""Search services for handlers and the CLI: cases (with parsed filters) and KB articles, permission-checked.

``search_cases(session, actor, "美妆 短视频 转化率>5%")`` → only cases that meet every parsed filter,
best first, each saying why it matched and showing its key metrics. When the format/channel/industry
filters together leave nothing, they are relaxed one at a time (format, then channel, then industry)
and the result says so; metric and year conditions are never relaxed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from crm_core.actor import Actor
from crm_core.metrics import LABELS, canonical_metric
from crm_core.models import Case, KBArticle
from crm_core.permissions import Cap, can, require
from knowledge.case_query import FACET_LABELS, CaseQuery, Facet, format_metric, parse_case_query
from knowledge.documents import EntityType, split_body
from knowledge.index import KnowledgeIndex
from knowledge.indexing import _embedder, current_index
from knowledge.retrieval import Candidate, Embedder, Method, Retriever
from knowledge.text import char_tokens

RELAX_ORDER: tuple[Facet, ...] = ("format", "channel", "industry")
KEY_METRICS = ("cvr", "roi", "ctr", "impressions", "gmv", "cpl", "cpa", "engagement")


@dataclass
class CaseHit:
    case: Case
    score: float
    reasons: list[str]  # filters met, then matched terms: ready to show
    filters_met: list[str] = field(default_factory=list)
    matched_terms: list[str] = field(default_factory=list)
    key_metrics: list[tuple[str, str]] = field(default_factory=list)  # (name as written, value as written)

    @property
    def ref(self) -> str | None:
        return self.case.ref

    @property
    def title(self) -> str:
        return self.case.title


class CaseResults(list[CaseHit]):
    """The hits (a list), plus what the query was read as and which filters had to be relaxed."""

    def __init__(self, hits: list[CaseHit], parsed: CaseQuery, relaxed: list[str], matching: int) -> None:
        super().__init__(hits)
        self.parsed = parsed
        self.relaxed = relaxed  # labels of relaxed facets, e.g. ["形式"]
        self.matching = matching  # cases meeting the (possibly relaxed) filters

    @property
    def filters(self) -> list[str]:
        return self.parsed.describe()


@dataclass
class KBHit:
    article: KBArticle
    score: float
    passage: str  # the part of the article that best matches
    matched_terms: list[str] = field(default_factory=list)
    dense: float | None = None  # cosine of the best chunk
    lexical: float = 0.0

    @property
    def ref(self) -> str | None:
        return self.article.ref

    @property
    def title(self) -> str:
        return self.article.title


@dataclass
class Hit:
    """One result of a search over both collections (``crmbot search``)."""

    entity_type: EntityType
    ref: str | None
    title: str
    score: float
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.ref, "title": self.title, "score": round(self.score, 4)}


# --- internals -----------------------------------------------------------------------------------


def _context(session: Session, settings: Settings | None, embedder: Embedder | None) -> tuple[Retriever, Settings]:
    settings = settings or get_settings()
    emb = _embedder(settings, embedder)
    return Retriever(current_index(session, settings, embedder=emb), emb, settings), settings


def filter_mask(index: KnowledgeIndex, parsed: CaseQuery, relaxed: frozenset[Facet] = frozenset()) -> np.ndarray:
    """Positions of the cases meeting every parsed filter (facets in ``relaxed`` ignored)."""
    mask = index.mask("case")
    none = np.zeros(len(index), dtype=bool)
    for f in parsed.facets:
        if f.facet not in relaxed:
            mask = mask & index.cases.facets.get((f.facet, f.value), none)
    if parsed.years:
        years = index.cases.years
        mask = mask & (years > 0)
        if parsed.years.lo is not None:
            mask = mask & (years >= parsed.years.lo)
        if parsed.years.hi is not None:
            mask = mask & (years <= parsed.years.hi)
    for cond in parsed.metrics:
        if cond.is_filter:
            values = index.cases.metrics.get(cond.metric)
            mask = mask & (cond.mask(values) if values is not None else none)
    return mask


def _relaxed_mask(index: KnowledgeIndex, parsed: CaseQuery) -> tuple[np.ndarray, list[Facet]]:
    relaxed: list[Facet] = []
    mask = filter_mask(index, parsed)
    for facet in RELAX_ORDER:
        if mask.any() or not any(f.facet == facet for f in parsed.facets):
            continue
        relaxed.append(facet)
        mask = filter_mask(index, parsed, frozenset(relaxed))
    return mask, relaxed


def _order_by_metric(index: KnowledgeIndex, parsed: CaseQuery, mask: np.ndarray,
                     relevance: dict[int, float], k: int) -> list[tuple[int, float]]:
    """Purely structural queries: best value of the compared metric first, relevance breaks ties."""
    cond = parsed.metrics[0]
    values = index.cases.metrics.get(cond.metric)
    positions = np.flatnonzero(mask)
    if values is None:
        return sorted(((int(p), relevance.get(int(p), 0.0)) for p in positions), key=lambda kv: -kv[1])[:k]
    sign = -1.0 if cond.descending else 1.0
    ranked = sorted(positions, key=lambda p: (math.isnan(values[p]), sign * (0 if math.isnan(values[p]) else values[p]),
                                              -relevance.get(int(p), 0.0)))
    found = [values[p] for p in ranked if not math.isnan(values[p])]
    lo, hi = (min(found), max(found)) if found else (0.0, 0.0)
    span = hi - lo
    out = []
    for p in ranked[:k]:
        v = values[p]
        if math.isnan(v):
            score = 0.0
        elif span == 0:
            score = 1.0
        else:
            score = (v - lo) / span if cond.descending else (hi - v) / span
        out.append((int(p), round(0.5 + 0.5 * score, 4)))
    return out


def _key_metrics(case: Case, parsed: CaseQuery, limit: int = 4) -> list[tuple[str, str]]:
    raw = case.metrics or {}
    canon = {name: canonical_metric(str(name)) for name in raw}
    wanted = [c.metric for c in parsed.metrics] + [m for m in KEY_METRICS if m not in {c.metric for c in parsed.metrics}]
    out: list[tuple[str, str]] = []
    for metric in wanted:
        for name, value in raw.items():
            if canon[name] == metric and (str(name), str(value)) not in out:
                out.append((str(name), str(value)))
                break
    for name, value in raw.items():  # then whatever the agency recorded, in its order
        if len(out) >= limit:
            break
        if (str(name), str(value)) not in out:
            out.append((str(name), str(value)))
    return out[:limit]


def _filters_met(case: Case, parsed: CaseQuery, relaxed: list[Facet]) -> list[str]:
    met = [f"{f.describe()} ✓" for f in parsed.facets if f.facet not in relaxed]
    if parsed.years:
        met.append(f"{parsed.years.describe()} ✓")
    norm = case.metrics_norm or {}
    for cond in parsed.metrics:
        actual = norm.get(cond.metric)
        if cond.is_filter:
            met.append(cond.describe(actual))
        elif actual is not None:
            met.append(f"{LABELS.get(cond.metric, cond.metric)} {format_metric(cond.metric, actual)}")
    return met


def _reasons(filters: list[str], terms: list[str], cand: Candidate | None) -> list[str]:
    reasons = list(filters)
    if terms:
        reasons.append("匹配词：" + "、".join(terms))
    elif cand is not None and cand.dense is not None:
        reasons.append("语义相近")
    return reasons


# --- cases ---------------------------------------------------------------------------------------


def search_cases(session: Session, actor: Actor, query: str, k: int = 5, *, method: Method = "hybrid",
                 today: date | None = None, settings: Settings | None = None,
                 embedder: Embedder | None = None) -> CaseResults:
    """Cases for ``query``: parsed filters applied, best first, each with reasons and key metrics."""
    require(actor, Cap.case_read)
    retriever, settings = _context(session, settings, embedder)
    retriever.prefetch(query, method)
    index = retriever.index
    parsed = parse_case_query(query, today or datetime.now(settings.tz).date())
    relaxed: list[Facet] = []
    allowed = None
    if parsed.has_filters:
        allowed, relaxed = _relaxed_mask(index, parsed)
    matching = int(np.count_nonzero(allowed if allowed is not None else index.mask("case")))
    if matching == 0:
        return CaseResults([], parsed, [FACET_LABELS[f] for f in relaxed], 0)
    if parsed.structural_only and parsed.metrics and allowed is not None:
        pool = retriever.search(query, collection="case", k=min(matching, settings.search_candidates),
                                method=method, allowed=allowed, with_terms=False)
        relevance = {c.position: c.score for c in pool}
        by_pos = {c.position: c for c in pool}
        ranked = _order_by_metric(index, parsed, allowed, relevance, k)
        cands = [(p, s, by_pos.get(p)) for p, s in ranked]
        if method != "dense":
            retriever.add_terms(query, [c for _, _, c in cands if c is not None])
    else:
        cands = [(c.position, c.score, c) for c in retriever.search(query, collection="case", k=k, method=method,
                                                                     allowed=allowed)]
    ids = [int(index.keys[p].split(":")[1]) for p, _, _ in cands]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    hits = []
    for (_, score, cand), cid in zip(cands, ids, strict=True):
        case = cases.get(cid)
        if case is None:  # deleted since the index was built
            continue
        met = _filters_met(case, parsed, relaxed)
        terms = cand.terms if cand else []
        hits.append(CaseHit(case=case, score=score, reasons=_reasons(met, terms, cand), filters_met=met,
                            matched_terms=terms, key_metrics=_key_metrics(case, parsed)))
    return CaseResults(hits, parsed, [FACET_LABELS[f] for f in relaxed], matching)


# --- knowledge base ------------------------------------------------------------------------------


def best_passage(article: KBArticle, query: str, chunk: int | None, settings: Settings) -> str:
    """The chunk the dense side liked (chunk 0 is the title card), else the one sharing most words."""
    passages = split_body(article.body or "", settings.search_chunk_chars, settings.search_chunk_overlap)
    if not passages:
        return ""
    if chunk is not None and 1 <= chunk <= len(passages):
        return passages[chunk - 1]
    q = set(char_tokens(query))
    return max(passages, key=lambda p: len(q & set(char_tokens(p))))


def search_kb(session: Session, actor: Actor, query: str, k: int = 5, *, method: Method = "hybrid",
              settings: Settings | None = None, embedder: Embedder | None = None) -> list[KBHit]:
    require(actor, Cap.knowledge_read)
    retriever, settings = _context(session, settings, embedder)
    cands = retriever.search(query, collection="kb", k=k, method=method)
    ids = [c.entity_id for c in cands]
    articles = {a.id: a for a in session.scalars(select(KBArticle).where(KBArticle.id.in_(ids)))}
    hits = []
    for cand in cands:
        article = articles.get(cand.entity_id)
        if article is not None:
            hits.append(KBHit(article=article, score=cand.score, passage=best_passage(article, query, cand.chunk, settings),
                              matched_terms=cand.terms, dense=cand.dense, lexical=cand.lexical))
    return hits


# --- both ----------------------------------------------------------------------------------------


def search(session: Session, actor: Actor, query: str, collection: EntityType | None = None, k: int = 5, *,
           method: Method = "hybrid", today: date | None = None, settings: Settings | None = None,
           embedder: Embedder | None = None) -> list[Hit]:
    """Search one collection, or both together (cases only for actors who may read them).

    Over both, a query that is clearly about cases (a metric comparison, 案例 …) searches the cases.
    """
    if collection == "case":
        return [Hit("case", h.ref, h.title, h.score, h.reasons)
                for h in search_cases(session, actor, query, k, method=method, today=today, settings=settings,
                                      embedder=embedder)]
    if collection == "kb" or not can(actor, Cap.case_read):
        return [Hit("kb", h.ref, h.title, h.score, [f"匹配词：{'、'.join(h.matched_terms)}"] if h.matched_terms else [])
                for h in search_kb(session, actor, query, k, method=method, settings=settings, embedder=embedder)]
    settings = settings or get_settings()
    parsed = parse_case_query(query, today or datetime.now(settings.tz).date())
    if parsed.wants_cases and can(actor, Cap.case_read):
        return search(session, actor, query, "case", k, method=method, today=today, settings=settings,
                      embedder=embedder)
    require(actor, Cap.knowledge_read)
    retriever, settings = _context(session, settings, embedder)
    retriever.prefetch(query, method)
    index = retriever.index
    allowed = None
    if parsed.has_filters:
        cases_ok, _ = _relaxed_mask(index, parsed)
        allowed = cases_ok | index.mask("kb")
    cands = retriever.search(query, k=k, method=method, allowed=allowed)
    return [Hit(c.entity_type, index.refs[c.position], index.titles[c.position], c.score,
                [f"匹配词：{'、'.join(c.terms)}"] if c.terms else []) for c in cands]
