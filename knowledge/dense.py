"""One collection's chunk vectors in an ``embeddings.VectorIndex``, searched per record (best chunk wins)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from embeddings import VectorIndex

CHUNK_BITS = 10  # vector id = entity_id << CHUNK_BITS | chunk
MAX_CHUNKS = 1 << CHUNK_BITS


def vector_id(entity_id: int, chunk: int) -> int:
    return (entity_id << CHUNK_BITS) | chunk


def split_vector_id(vid: int) -> tuple[int, int]:
    return vid >> CHUNK_BITS, vid & (MAX_CHUNKS - 1)


def _faiss_threads(n: int | None) -> None:
    """faiss runs its own OpenMP pool; after a search its idle threads spin and starve the query
    embedder's threads (measured: embedding p95 13 ms → 80+ ms). One query needs no parallelism,
    so searches run single-threaded and index building gets every core back."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - another vector backend
        return
    faiss.omp_set_num_threads(n or os.cpu_count() or 1)


def hash_key(content_hash: str) -> int:
    """64 bits of a chunk's content hash: enough to tell which content a stored vector was made from."""
    return int(content_hash[:15], 16)


class DenseIndex:
    """Also remembers which content each vector came from, so a sync can update exactly what changed."""

    def __init__(self, dim: int, index: VectorIndex | None = None, hashes: dict[int, int] | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else VectorIndex(dim)
        self.hashes: dict[int, int] = hashes or {}  # vector id → hash_key of its content
        self._lock = threading.Lock()  # a sync may update the index while searches read it
        self._sorted: np.ndarray | None = None  # every vector id, ascending (for ``search_within``)

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, hashes: list[int],
              index: VectorIndex | None = None) -> DenseIndex:
        dense = cls(dim, index, hashes=dict(zip((int(i) for i in ids), hashes, strict=True)))
        _faiss_threads(None)
        if len(ids):
            dense.index.build(np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32))
        return dense

    def upsert(self, ids: np.ndarray, vectors: np.ndarray, hashes: list[int]) -> None:
        if len(ids):
            _faiss_threads(None)
            with self._lock:
                self.index.upsert(np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32))
                self.hashes.update(zip((int(i) for i in ids), hashes, strict=True))
                self._sorted = None

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            with self._lock:
                self.index.remove(np.asarray(ids, dtype=np.int64))
                for i in ids:
                    self.hashes.pop(int(i), None)
                self._sorted = None

    def search(self, query: np.ndarray, k: int) -> dict[int, tuple[float, int]]:
        """Up to ``k`` records: entity id → (best chunk's cosine, that chunk)."""
        entities, sims, chunks = self.search_arrays(query, k)
        return {int(e): (float(sc), int(c)) for e, sc, c in zip(entities, sims, chunks, strict=True)}

    def search_arrays(self, query: np.ndarray, k: int,
                      within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to ``k`` records, best first, as arrays: entity ids, best chunk's cosine, that chunk.
        ``within``: only these entities (searched exactly)."""
        vids_within = self.vector_ids_of(within) if within is not None else None
        size = len(self.index) if vids_within is None else len(vids_within)
        if size == 0 or k <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0, dtype=np.float32), empty
        fetch = min(size, k * 3)
        _faiss_threads(1)
        while True:
            with self._lock:
                scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), fetch, within=vids_within)
            found = ids[0] >= 0
            vids, sims = ids[0][found], scores[0][found]
            entities = vids >> CHUNK_BITS
            # faiss answers best first, so an entity's first occurrence is its best chunk
            _, first = np.unique(entities, return_index=True)
            first.sort()
            if len(first) >= k or fetch >= size:
                break
            fetch = min(size, fetch * 4)
        first = first[:k]
        return entities[first], sims[first], vids[first] & (MAX_CHUNKS - 1)

    def vector_ids_of(self, entities: np.ndarray) -> np.ndarray:
        """The ids of every chunk vector of these entities."""
        if self._sorted is None:
            self._sorted = np.sort(np.fromiter(self.hashes, dtype=np.int64, count=len(self.hashes)))
        owners = self._sorted >> CHUNK_BITS
        wanted = np.unique(np.asarray(entities, dtype=np.int64))
        lo, hi = np.searchsorted(owners, wanted, "left"), np.searchsorted(owners, wanted, "right")
        counts = hi - lo
        if not counts.sum():
            return np.zeros(0, dtype=np.int64)
        # positions lo[i] .. hi[i]-1 for every entity, without a Python loop
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        return self._sorted[starts + np.arange(int(counts.sum()))]

    def memory_bytes(self) -> int:
        return int(self.index.memory_bytes())

    def save(self, directory: Path) -> None:
        self.index.save(directory)
        ids = np.fromiter(self.hashes, dtype=np.int64, count=len(self.hashes))
        keys = np.fromiter(self.hashes.values(), dtype=np.int64, count=len(self.hashes))
        np.savez(directory / "knowledge-content.npz", ids=ids, hashes=keys)

    @classmethod
    def load(cls, directory: Path, dim: int) -> DenseIndex:
        with np.load(directory / "knowledge-content.npz") as a:
            hashes = dict(zip(a["ids"].tolist(), a["hashes"].tolist(), strict=True))
        return cls(dim, VectorIndex.load(directory), hashes)
