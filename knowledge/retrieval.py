"""Hybrid retrieval over a ``KnowledgeIndex``: BM25 and dense candidates, fused (weights in settings)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from config import Settings
from knowledge import fusion
from knowledge.documents import COLLECTIONS, EntityType
from knowledge.glossary import expand
from knowledge.index import KnowledgeIndex
from knowledge.lexical import top_k
from knowledge.text import matched_terms
from knowledge.typos import repair

Method = Literal["hybrid", "lexical", "dense"]
# A filter that leaves less than 1/SUBSET_SEARCH_SHARE of a collection is searched exactly within
# what it leaves; a wider one by over-fetching from the whole collection.
SUBSET_SEARCH_SHARE = 10
_ENCODER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="crmbot-query-embed")
METHODS: tuple[Method, ...] = ("hybrid", "lexical", "dense")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str], kind: str = "query", batch_size: int = 32) -> np.ndarray: ...


@dataclass
class Candidate:
    position: int
    key: str
    entity_type: EntityType
    entity_id: int
    score: float  # the ranking score of the method used (fused for hybrid)
    lexical: float = 0.0  # BM25
    dense: float | None = None  # cosine of the best chunk, when the dense side saw it
    chunk: int | None = None  # that chunk
    terms: list[str] = field(default_factory=list)  # query words found in the record


@dataclass
class Retriever:
    index: KnowledgeIndex
    embedder: Embedder
    settings: Settings
    _started: dict[str, Future[np.ndarray]] = field(default_factory=dict, repr=False)

    def encode_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.encode([query], kind="query"), dtype=np.float32)[0]

    def _repaired(self, query: str) -> str:
        return repair(query, self.index.lexical) if self.settings.search_typo_repair else query

    def _embedded(self, repaired: str) -> Future[np.ndarray]:
        """The (typo-repaired) query's vector, being computed on the embedding thread, once per text."""
        text = expand(repaired)
        if text not in self._started:
            self._started[text] = _ENCODER.submit(self.encode_query, text)
        return self._started[text]

    def prefetch(self, query: str, method: Method = "hybrid") -> None:
        """Start embedding ``query`` now, so that parsing and filtering run while the model works; the
        next ``search`` for the same query takes the vector from here."""
        if method != "lexical" and query.strip() and len(self.index):
            self._embedded(self._repaired(query))

    def search(self, query: str, *, collection: EntityType | None = None, k: int = 10, method: Method = "hybrid",
               allowed: np.ndarray | None = None, query_vector: np.ndarray | None = None,
               with_terms: bool = True) -> list[Candidate]:
        """The ``k`` best records for ``query`` (within ``collection`` and the ``allowed`` mask), best first.
        ``with_terms=False``: leave ``Candidate.terms`` empty (``add_terms`` fills it for the ones shown)."""
        index, s = self.index, self.settings
        if len(index) == 0 or not query.strip():
            return []
        mask = index.mask(collection)
        if allowed is not None:
            mask = mask & allowed
        if not mask.any():
            return []
        pool = max(s.search_candidates, k)
        query = self._repaired(query)
        # the embedder (native code, no GIL) works on the other core while BM25 scores here
        pending = self._embedded(query) if method != "lexical" and query_vector is None else None
        lex_all: np.ndarray | None = None
        lex: dict[int, float] = {}
        qtokens: list[str] = []
        if method in ("hybrid", "lexical"):
            lex_all, qtokens = index.lexical.scores(index.lexical_config.tokens(expand(query)))
            lex = dict(top_k(lex_all, pool, mask))
        dense: dict[int, tuple[float, int]] = {}
        if method in ("hybrid", "dense"):
            qvec = pending.result() if pending is not None else query_vector
            assert qvec is not None
            dense = self._dense(qvec, collection, pool, mask)
        if method == "lexical":
            ranked = sorted(lex.items(), key=lambda kv: -kv[1])
        elif method == "dense":
            ranked = sorted(((p, v[0]) for p, v in dense.items()), key=lambda kv: -kv[1])
        else:
            dense_scores = {p: v[0] for p, v in dense.items()}
            exact_lex = {p: float(lex_all[p]) for p in dense_scores} if lex_all is not None else None
            fused = fusion.fuse(s.search_fusion, [lex, dense_scores], [s.search_lexical_weight, s.search_dense_weight],
                                rrf_k=s.search_rrf_k, exact=[exact_lex, None])
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        out = []
        for pos, score in ranked[:k]:
            kind, _, ident = index.keys[pos].partition(":")
            d = dense.get(pos)
            out.append(Candidate(
                position=pos, key=index.keys[pos], entity_type=kind, entity_id=int(ident),  # type: ignore[arg-type]
                score=float(score), lexical=float(lex_all[pos]) if lex_all is not None else 0.0,
                dense=d[0] if d else None, chunk=d[1] if d else None,
                terms=matched_terms(query, index.lexical.doc_terms(index.keys[pos], qtokens))
                if qtokens and with_terms else [],
            ))
        return out

    def add_terms(self, query: str, candidates: list[Candidate]) -> None:
        """Fill in the query words found in each candidate (what ``search(with_terms=False)`` skipped)."""
        index = self.index
        if self.settings.search_typo_repair:
            query = repair(query, index.lexical)
        qtokens = [t for t in dict.fromkeys(index.lexical_config.tokens(expand(query))) if t in index.lexical.vocab]
        for cand in candidates:
            cand.terms = matched_terms(query, index.lexical.doc_terms(cand.key, qtokens)) if qtokens else []

    def _dense(self, qvec: np.ndarray, collection: EntityType | None, pool: int,
               mask: np.ndarray) -> dict[int, tuple[float, int]]:
        """Position → (cosine, chunk) for the best ``pool`` records inside ``mask``."""
        index = self.index
        positions, scores, chunks = [], [], []
        for name in ([collection] if collection else list(COLLECTIONS)):
            dense = index.dense.get(name)
            if dense is None or len(dense) == 0:
                continue
            inside = mask & index.mask(name)
            allowed = int(np.count_nonzero(inside))
            if allowed == 0:
                continue
            total = int(np.count_nonzero(index.mask(name)))
            if allowed * SUBSET_SEARCH_SHARE < total:
                # a filter left a small part: search exactly that part (faiss skips the other ids)
                entities, sims, chunk = dense.search_arrays(qvec, pool, within=index.entity_ids[inside])
            else:
                # a filter leaves most: ask for proportionally more so that enough of it comes back
                want = pool if allowed >= total else min(total, int(pool * total / allowed) + pool)
                entities, sims, chunk = dense.search_arrays(qvec, want)
            pos = index.positions_of(name, entities)
            keep = pos >= 0
            keep[keep] = mask[pos[keep]]
            positions.append(pos[keep])
            scores.append(sims[keep])
            chunks.append(chunk[keep])
        if not positions:
            return {}
        pos, sims, chunk = np.concatenate(positions), np.concatenate(scores), np.concatenate(chunks)
        best = np.argsort(-sims, kind="stable")[:pool]
        return {int(p): (float(sc), int(c)) for p, sc, c in zip(pos[best], sims[best], chunk[best], strict=True)}


def describe(candidate: Candidate) -> dict[str, Any]:
    return {"key": candidate.key, "score": round(candidate.score, 4), "lexical": round(candidate.lexical, 3),
            "dense": None if candidate.dense is None else round(candidate.dense, 4), "terms": candidate.terms}
