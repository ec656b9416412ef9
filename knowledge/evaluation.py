"""Scoring the shared retrieval development set (../shared/evals/retrieval): Recall@1, Recall@5, MRR@10."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The shared development sets live beside the repository (../shared/evals); CRMBOT_EVAL_DIR overrides.
EVAL_DIR = Path(os.environ.get("CRMBOT_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "evals")) / "retrieval"


@dataclass(frozen=True)
class Scores:
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    misses: tuple[str, ...] = ()  # query ids whose first result is not relevant

    def row(self, name: str) -> str:
        return f"| {name} | {self.recall_at_1:.3f} | {self.recall_at_5:.3f} | {self.mrr_at_10:.3f} |"


def load_queries(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or EVAL_DIR / "queries_dev.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(queries: list[dict[str, Any]], ranked: Callable[[dict[str, Any]], list[str]]) -> Scores:
    """``ranked(query)`` → refs best first. Recall@k counts the share of a query's relevant refs found."""
    r1 = r5 = mrr = 0.0
    misses = []
    for q in queries:
        relevant = set(q["relevant"])
        refs = ranked(q)[:10]
        if refs and refs[0] in relevant:
            r1 += 1
        else:
            misses.append(q["id"])
        r5 += len(relevant & set(refs[:5])) / len(relevant)
        mrr += next((1 / (i + 1) for i, ref in enumerate(refs) if ref in relevant), 0.0)
    n = len(queries) or 1
    return Scores(r1 / n, r5 / n, mrr / n, tuple(misses))
