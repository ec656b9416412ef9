"""Okapi BM25 in numpy: postings of (document, term frequency), one ``bincount`` per query.

Postings keep raw term frequencies (2 bytes) and documents keep their length normaliser, so the
index can be updated incrementally: ``update`` re-tokenises only changed documents and rebuilds the
postings with vectorised numpy (seconds at 100k documents). Term weights are computed at query
time from idf, tf and the document's normaliser.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from knowledge.text import PINYIN, UNIGRAM

# Unigrams and pinyin bigrams are weaker evidence than a matching bigram or whole word, so they
# count for part of their idf (measured on the development set, docs/benchmarks.md).
TOKEN_CLASS_WEIGHT = {UNIGRAM: 0.5, PINYIN: 0.5}
_TF_MAX = np.iinfo(np.uint16).max


def _class_weight(token: str) -> float:
    return TOKEN_CLASS_WEIGHT.get(token[:2], 1.0)


class BM25Index:
    def __init__(self, keys: list[str], terms: list[str], indptr: np.ndarray, docs: np.ndarray, tfs: np.ndarray,
                 lengths: np.ndarray, k1: float = 1.2, b: float = 0.75) -> None:
        self.keys = keys
        self.terms = terms
        self.vocab = {t: i for i, t in enumerate(terms)}
        self.indptr = indptr  # term → slice of docs/tfs
        self.docs = docs  # int32 document positions, sorted by term then document
        self.tfs = tfs  # uint16 term frequencies
        self.lengths = lengths  # float32 tokens per document
        self.k1, self.b = k1, b
        self._position = {key: i for i, key in enumerate(keys)}
        self._derive()

    def _derive(self) -> None:
        n = len(self.keys)
        df = np.diff(self.indptr).astype(np.float64)
        weight = np.fromiter((_class_weight(t) for t in self.terms), dtype=np.float64, count=len(self.terms))
        self.idf = (np.log1p((n - df + 0.5) / (df + 0.5)) * weight).astype(np.float32)
        avgdl = float(self.lengths.mean()) if n and self.lengths.sum() else 1.0
        self.norm = (self.k1 * (1.0 - self.b + self.b * self.lengths / avgdl)).astype(np.float32)
        # each posting's tf part of BM25, ready to be scaled by its term's idf: a query then adds one
        # array slice per term instead of gathering lengths and dividing (4x faster at 100k documents)
        tf = self.tfs.astype(np.float32)
        self.impacts = tf * np.float32(self.k1 + 1.0) / (tf + self.norm[self.docs])

    def __len__(self) -> int:
        return len(self.keys)

    # building --------------------------------------------------------------------------------

    @classmethod
    def build(cls, items: Iterable[tuple[str, Sequence[str]]], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        empty = cls([], [], np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.uint16),
                    np.zeros(0, np.float32), k1, b)
        return empty.update(items, set())

    def update(self, items: Iterable[tuple[str, Sequence[str]]], removed: set[str]) -> BM25Index:
        """A new index: documents in ``removed`` dropped, ``items`` (key, tokens) added or replaced.

        ``items`` is consumed once, one document at a time, into compact arrays: a full build of
        100,000 documents must not hold every document's token list at once (it peaked at 6.8 GB)."""
        terms = list(self.terms)
        vocab = dict(self.vocab)
        added: list[str] = []
        add_doc, add_term, add_tf, add_len = array("i"), array("i"), array("H"), array("f")
        for key, toks in items:
            local = len(added)
            added.append(key)
            for tok, tf in Counter(toks).items():
                tid = vocab.get(tok)
                if tid is None:
                    tid = vocab[tok] = len(terms)
                    terms.append(tok)
                add_doc.append(local)
                add_term.append(tid)
                add_tf.append(min(tf, _TF_MAX))
            add_len.append(float(len(toks)))
        replaced = removed | set(added)
        keep = np.array([key not in replaced for key in self.keys], dtype=bool)
        # forward view of the kept documents: (old position, term, tf) sorted by position
        order = np.argsort(self.docs, kind="stable")
        post_doc = self.docs[order]
        post_term = np.repeat(np.arange(len(self.terms), dtype=np.int32), np.diff(self.indptr))[order]
        post_tf = self.tfs[order]
        kept = keep[post_doc] if len(post_doc) else np.zeros(0, dtype=bool)
        renumber = np.cumsum(keep, dtype=np.int64) - 1
        new_keys = [k for k, ok in zip(self.keys, keep, strict=True) if ok]
        offset = len(new_keys)  # the added documents follow the kept ones
        new_keys.extend(added)
        docs = np.concatenate([renumber[post_doc[kept]].astype(np.int32),
                               np.frombuffer(add_doc, dtype=np.intc).astype(np.int32) + np.int32(offset)])
        term_ids = np.concatenate([post_term[kept], np.frombuffer(add_term, dtype=np.intc).astype(np.int32)])
        tfs = np.concatenate([post_tf[kept], np.frombuffer(add_tf, dtype=np.uint16)])
        lengths = np.concatenate([self.lengths[keep], np.frombuffer(add_len, dtype=np.float32)])
        del add_doc, add_term, add_tf, add_len
        by_term = np.argsort(term_ids, kind="stable")  # documents stay ascending within a term
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(terms)), out=indptr[1:])
        return BM25Index(new_keys, terms, indptr, docs[by_term], tfs[by_term], lengths, self.k1, self.b)

    # querying --------------------------------------------------------------------------------

    def position(self, key: str) -> int | None:
        return self._position.get(key)

    def scores(self, query_tokens: Iterable[str]) -> tuple[np.ndarray, list[str]]:
        """BM25 score of every document, and the query tokens the index knows."""
        known = [t for t in dict.fromkeys(query_tokens) if t in self.vocab]
        out = np.zeros(len(self.keys), dtype=np.float32)
        if not known:
            return out, known
        for tok in known:
            tid = self.vocab[tok]
            lo, hi = self.indptr[tid], self.indptr[tid + 1]
            if lo == hi:
                continue
            out[self.docs[lo:hi]] += self.idf[tid] * self.impacts[lo:hi]
        return out, known

    def doc_terms(self, key: str, tokens: Iterable[str]) -> list[str]:
        """Which of ``tokens`` occur in document ``key`` (for "matched terms")."""
        pos = self._position.get(key)
        if pos is None:
            return []
        out = []
        for t in dict.fromkeys(tokens):
            tid = self.vocab.get(t)
            if tid is None:
                continue
            postings = self.docs[self.indptr[tid]:self.indptr[tid + 1]]
            i = int(np.searchsorted(postings, pos))
            if i < len(postings) and postings[i] == pos:
                out.append(t)
        return out

    def memory_bytes(self) -> int:
        arrays = (self.indptr, self.docs, self.tfs, self.lengths, self.idf, self.norm, self.impacts)
        return int(sum(a.nbytes for a in arrays))

    # persistence ------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "bm25.npz", indptr=self.indptr, docs=self.docs, tfs=self.tfs, lengths=self.lengths)
        meta = {"keys": self.keys, "terms": self.terms, "k1": self.k1, "b": self.b}
        (directory / "bm25.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        meta = json.loads((directory / "bm25.json").read_text(encoding="utf-8"))
        with np.load(directory / "bm25.npz") as a:
            return cls(meta["keys"], meta["terms"], a["indptr"], a["docs"], a["tfs"], a["lengths"],
                       meta["k1"], meta["b"])


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best positive scores (restricted to ``mask``), best first."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k <= 0:
        return []
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx]
