"""Fusing ranked lists from the lexical and the dense retriever.

``zscore``: each method's scores are standardised over its own candidate list (mean and spread of
its top-K), then mixed with the configured weights; a record a method did not return gets that
method's lowest candidate score. Unlike reciprocal-rank fusion it keeps *how much* better the top
hit is, which measured better on the development set (docs/benchmarks.md, "Retrieval").
``rrf``: weighted reciprocal-rank fusion, Σ wᵢ / (k + rankᵢ), kept for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _standardise(scores: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.size == 0:
        return 0.0, 1.0
    std = float(arr.std())
    return float(arr.mean()), std if std > 1e-9 else 1.0


def zscore(lists: Sequence[Mapping[int, float]], weights: Sequence[float],
           exact: Sequence[Mapping[int, float] | None] | None = None) -> dict[int, float]:
    """Fuse ``lists`` (item → score, each a method's candidates).

    ``exact[i]``, when given, supplies method i's true score for items outside its list (the
    lexical scorer knows every document's score); otherwise the list's minimum stands in.
    """
    items = set().union(*lists) if lists else set()
    fused = dict.fromkeys(items, 0.0)
    for i, (scores, weight) in enumerate(zip(lists, weights, strict=True)):
        if weight == 0 or not scores:
            continue
        mean, std = _standardise(list(scores.values()))
        floor = min(scores.values())
        known = exact[i] if exact is not None else None
        for item in items:
            if item in scores:
                value = scores[item]
            elif known is not None and item in known:
                value = known[item]
            else:
                value = floor
            fused[item] += weight * (value - mean) / std
    return fused


def rrf(lists: Sequence[Mapping[int, float]], weights: Sequence[float], k: float = 60.0) -> dict[int, float]:
    fused: dict[int, float] = {}
    for scores, weight in zip(lists, weights, strict=True):
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        for rank, (item, _) in enumerate(ranked):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def fuse(method: str, lists: Sequence[Mapping[int, float]], weights: Sequence[float], *, rrf_k: float = 60.0,
         exact: Sequence[Mapping[int, float] | None] | None = None) -> dict[int, float]:
    if method == "rrf":
        return rrf(lists, weights, rrf_k)
    return zscore(lists, weights, exact)
