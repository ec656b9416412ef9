"""A faiss vector index with stable int64 ids: exact while small, IVF beyond a threshold.

Vectors are unit length, so inner product is cosine. Small collections (the usual agency: a few
thousand cases and articles) use an exact flat index; past ``approx_threshold`` vectors the index
is rebuilt as IVF-Flat, trained on what it holds, which keeps removal by id and scans only
``nprobe`` of its lists. Both kinds keep their id map inside the faiss file, so ``save``/``load``
restore ids exactly. The database's embedding records stay the source of truth: any index can be
rebuilt from them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

IndexKind = Literal["exact", "ivf"]
DEFAULT_APPROX_THRESHOLD = 20_000
DEFAULT_NPROBE = 48
_FILE, _META = "vectors.faiss", "vectors.json"


def _ids(ids: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)


def _vecs(vectors: np.ndarray, dim: int) -> np.ndarray:
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if out.ndim != 2 or out.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {out.shape}")
    return out


class VectorIndex:
    def __init__(self, dim: int, *, approx_threshold: int = DEFAULT_APPROX_THRESHOLD,
                 nprobe: int = DEFAULT_NPROBE) -> None:
        self.dim, self.approx_threshold, self.nprobe = dim, approx_threshold, nprobe
        self.kind: IndexKind = "exact"
        self._index: faiss.Index = self._exact()

    def _exact(self) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _ivf(self, vectors: np.ndarray) -> faiss.Index:
        nlist = max(16, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 39))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(self.nprobe, nlist)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace everything with these vectors; picks the index kind for their number."""
        ids, vectors = _ids(ids), _vecs(vectors, self.dim)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in build")
        if len(ids) >= self.approx_threshold:
            self._index, self.kind = self._ivf(vectors), "ivf"
        else:
            self._index, self.kind = self._exact(), "exact"
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = _ids(ids), _vecs(vectors, self.dim)
        if not len(ids):
            return
        # the last vector given for an id wins
        last = {int(i): n for n, i in enumerate(ids)}
        keep = np.fromiter(last.values(), dtype=np.int64, count=len(last))
        ids, vectors = ids[keep], vectors[keep]
        self.remove(ids)
        if self.kind == "exact" and len(self) + len(ids) >= self.approx_threshold:
            all_ids, all_vecs = self._exact_contents()
            self.build(np.concatenate([all_ids, ids]), np.concatenate([all_vecs, vectors]))
            return
        self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = _ids(ids)
        if not len(ids) or not len(self):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(self, queries: np.ndarray, k: int, *, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """faiss's answer: (scores, ids), each (n_queries, k), padded with id -1 past the end.

        ``within``: only these ids, searched exactly (every IVF list is visited, skipping other ids),
        for a filter that leaves a small part of the collection."""
        queries = _vecs(queries.reshape(-1, self.dim) if queries.ndim == 1 else queries, self.dim)
        if within is not None:
            within = _ids(within)
            k = min(k, len(within))
        if k <= 0 or not len(self):
            return (np.zeros((len(queries), 0), dtype=np.float32), np.zeros((len(queries), 0), dtype=np.int64))
        if within is None:
            return self._index.search(queries, min(k, len(self)))
        selector = faiss.IDSelectorBatch(within)
        params = (faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nlist) if self.kind == "ivf"
                  else faiss.SearchParameters(sel=selector))
        return self._index.search(queries, min(k, len(self)), params=params)

    def ids(self) -> np.ndarray:
        if self.kind == "exact":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        invlists = self._index.invlists
        parts = [faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                 for i in range(invlists.nlist) if invlists.list_size(i)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def _exact_contents(self) -> tuple[np.ndarray, np.ndarray]:
        # the flat index stores rows in insertion order, the same order as the id map
        return self.ids(), self._index.index.reconstruct_n(0, len(self))

    def memory_bytes(self) -> int:
        n = len(self)
        per_vector = self.dim * 4 + 8  # the vector and its id
        if self.kind == "exact":
            return n * per_vector
        return n * per_vector + int(self._index.nlist) * self.dim * 4

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (_FILE + ".tmp")
        faiss.write_index(self._index, str(tmp))
        tmp.replace(directory / _FILE)  # a reader never sees half a file
        meta = {"dim": self.dim, "kind": self.kind, "count": len(self), "approx_threshold": self.approx_threshold,
                "nprobe": self.nprobe}
        (directory / _META).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        directory = Path(directory)
        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        index = cls(int(meta["dim"]), approx_threshold=int(meta["approx_threshold"]), nprobe=int(meta["nprobe"]))
        index._index = faiss.read_index(str(directory / _FILE))
        index.kind = meta["kind"]
        if index.kind == "ivf":
            index._index.nprobe = min(index.nprobe, int(index._index.nlist))
        if len(index) != int(meta["count"]):
            raise ValueError(f"vector index in {directory} is inconsistent: {len(index)} != {meta['count']}")
        return index
