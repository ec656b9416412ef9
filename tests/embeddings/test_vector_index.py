"""The faiss index: exact while small, IVF past the threshold, ids kept through updates and disk."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import VectorIndex, normalise_rows


def unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    return normalise_rows(np.random.default_rng(seed).normal(size=(n, dim)))


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    return normalise_rows(centres[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, dim)))


def test_small_collection_is_exact_and_finds_itself():
    vecs = unit(50)
    index = VectorIndex(32)
    index.build(np.arange(100, 150), vecs)
    assert index.kind == "exact" and len(index) == 50
    scores, ids = index.search(vecs[7], 3)
    assert ids[0][0] == 107 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores[0]) == sorted(scores[0], reverse=True)


def test_upsert_replaces_and_remove_deletes_by_id():
    vecs = unit(20)
    index = VectorIndex(32)
    index.build(np.arange(20), vecs)
    index.upsert(np.array([3]), vecs[15:16])  # id 3 now points where 15 is
    assert len(index) == 20
    _, ids = index.search(vecs[3], 1)
    assert ids[0][0] != 3
    _, ids = index.search(vecs[15], 2)
    assert set(ids[0]) == {3, 15}
    assert index.remove(np.array([15, 999])) == 1
    _, ids = index.search(vecs[15], 1)
    assert ids[0][0] == 3 and len(index) == 19
    assert sorted(index.ids().tolist()) == [i for i in range(20) if i != 15]


def test_search_pads_past_the_end_and_handles_empty():
    index = VectorIndex(32)
    assert index.search(unit(1)[0], 5)[1].shape == (1, 0)
    index.build(np.arange(2), unit(2))
    _, ids = index.search(unit(1, seed=3)[0], 5)
    assert sorted(ids[0].tolist()) == [0, 1]


def test_large_collection_is_ivf_with_recall_close_to_exact():
    vecs = clustered(3000)
    exact, approx = VectorIndex(32, approx_threshold=10**9), VectorIndex(32, approx_threshold=1000, nprobe=16)
    exact.build(np.arange(3000), vecs)
    approx.build(np.arange(3000), vecs)
    assert exact.kind == "exact" and approx.kind == "ivf"
    queries = clustered(100, seed=9)
    _, truth = exact.search(queries, 10)
    _, got = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got, strict=True)])
    assert recall >= 0.9
    approx.remove(np.array([int(truth[0][0])]))
    _, after = approx.search(queries[:1], 10)
    assert int(truth[0][0]) not in after[0]


def test_growing_past_the_threshold_switches_to_ivf_keeping_every_id():
    index = VectorIndex(32, approx_threshold=500)
    index.build(np.arange(400), clustered(400))
    index.upsert(np.arange(400, 700), clustered(300, seed=1))
    assert index.kind == "ivf" and len(index) == 700
    assert sorted(index.ids().tolist()) == list(range(700))


@pytest.mark.parametrize("threshold", [10**9, 100])
def test_save_and_load_keep_ids_and_answers(tmp_path, threshold):
    vecs = clustered(600)
    ids = np.arange(600) * 1024 + 5  # sparse ids, as chunk ids are
    index = VectorIndex(32, approx_threshold=threshold)
    index.build(ids, vecs)
    index.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    assert again.kind == index.kind and len(again) == 600
    q = clustered(5, seed=4)
    assert np.array_equal(index.search(q, 5)[1], again.search(q, 5)[1])
    assert sorted(again.ids().tolist()) == sorted(ids.tolist())
    assert again.memory_bytes() >= 600 * 32 * 4


def test_rejects_wrong_shapes_and_duplicate_ids():
    index = VectorIndex(32)
    with pytest.raises(ValueError):
        index.build(np.arange(3), unit(3, dim=16))
    with pytest.raises(ValueError):
        index.build(np.array([1, 1]), unit(2))


@pytest.mark.parametrize("threshold", [10**9, 1000])
def test_search_within_a_subset_is_exact_there(threshold):
    """A filter that leaves few records: the best of those few, even where IVF would not probe them."""
    vecs = clustered(3000)
    index = VectorIndex(32, approx_threshold=threshold, nprobe=1)
    index.build(np.arange(3000), vecs)
    subset = np.arange(5, 3000, 37)
    query = clustered(1, seed=4)[0]
    scores, ids = index.search(query, 5, within=subset)
    truth = subset[np.argsort(-(vecs[subset] @ query))[:5]]
    assert ids[0].tolist() == truth.tolist()
    assert list(scores[0]) == sorted(scores[0], reverse=True)
    _, few = index.search(query, 50, within=subset[:3])
    assert sorted(few[0].tolist()) == subset[:3].tolist()
