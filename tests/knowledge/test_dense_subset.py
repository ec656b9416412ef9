"""Per-record dense search inside a filter's subset: every chunk of the allowed records, and nothing else."""

from __future__ import annotations

import numpy as np

from embeddings import VectorIndex, normalise_rows
from knowledge.dense import DenseIndex, vector_id


def _index(threshold: int) -> tuple[DenseIndex, dict[int, np.ndarray]]:
    rng = np.random.default_rng(1)
    chunks = {e: normalise_rows(rng.normal(size=(1 + e % 3, 16))) for e in range(1, 400)}
    ids = np.array([vector_id(e, c) for e, v in chunks.items() for c in range(len(v))], dtype=np.int64)
    vecs = np.concatenate(list(chunks.values()))
    dense = DenseIndex.build(16, ids, vecs, [0] * len(ids), VectorIndex(16, approx_threshold=threshold, nprobe=1))
    return dense, chunks


def test_vector_ids_of_lists_every_chunk_of_the_entities():
    dense, chunks = _index(10**9)
    got = dense.vector_ids_of(np.array([7, 3, 7, 5000]))
    assert sorted(got.tolist()) == sorted(vector_id(e, c) for e in (3, 7) for c in range(len(chunks[e])))


def test_search_within_returns_the_best_chunk_of_allowed_records_only():
    for threshold in (10**9, 200):  # exact and IVF (one probed list: the subset must still be complete)
        dense, chunks = _index(threshold)
        allowed = np.arange(2, 400, 25)
        query = normalise_rows(np.random.default_rng(9).normal(size=(1, 16)))[0]
        entities, sims, best = dense.search_arrays(query, 4, within=allowed)
        truth = sorted(allowed, key=lambda e: -float((chunks[e] @ query).max()))[:4]
        assert entities.tolist() == truth
        for e, s, c in zip(entities, sims, best, strict=True):
            assert s == np.float32((chunks[e] @ query).max()) or abs(s - (chunks[e] @ query).max()) < 1e-5
            assert c == int(np.argmax(chunks[e] @ query))
