"""Retrieval quality on the shared development set (../shared/evals/retrieval), all three methods.

Each query searches its own collection when it names one, as the set's README says; the same figures
over both collections together are printed too. Hybrid (the default) must reach Recall@5 ≥ 0.95 and
MRR@10 ≥ 0.85 and beat lexical-only and dense-only. A second set of questions written for this test
(probe_queries.jsonl: paraphrases, typos, English words, structured case queries) guards against
tuning to the development lines.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm_core.actor import Actor
from crm_core.db import Database
from knowledge.evaluation import EVAL_DIR, Scores, load_queries, score
from knowledge.retrieval import METHODS
from knowledge.search import search

PROBES = Path(__file__).with_name("probe_queries.jsonl")
TODAY = date(2026, 11, 25)
pytestmark = pytest.mark.skipif(not (EVAL_DIR / "queries_dev.jsonl").is_file(), reason="shared evals not found")


def _evaluate(db: Database, queries: list[dict], mixed: bool) -> dict[str, Scores]:
    results = {}
    with db.session() as s:
        for method in METHODS:
            def ranked(q: dict, method: str = method) -> list[str]:
                collection = None if mixed else q.get("collection")
                return [h.ref for h in search(s, Actor.system(), q["text"], collection, k=10, method=method,
                                              today=TODAY)]
            results[method] = score(queries, ranked)
    return results


def _table(title: str, results: dict[str, Scores]) -> str:
    lines = [f"\n{title}", "| method | Recall@1 | Recall@5 | MRR@10 |", "|---|---|---|---|"]
    lines += [sc.row(m) for m, sc in results.items()]
    return "\n".join(lines)


def test_development_set(eval_db: Database, capsys: pytest.CaptureFixture[str]):
    queries = load_queries()
    own = _evaluate(eval_db, queries, mixed=False)
    both = _evaluate(eval_db, queries, mixed=True)
    with capsys.disabled():
        print(_table(f"retrieval dev set ({len(queries)} queries, each in its collection)", own))
        print(_table("same queries over both collections together", both))
    hybrid = own["hybrid"]
    assert hybrid.recall_at_5 >= 0.95, hybrid
    assert hybrid.mrr_at_10 >= 0.85, hybrid
    for single in ("lexical", "dense"):
        assert hybrid.mrr_at_10 > own[single].mrr_at_10, (single, own)
        assert hybrid.recall_at_5 >= own[single].recall_at_5, (single, own)
    assert both["hybrid"].recall_at_5 >= 0.95 and both["hybrid"].mrr_at_10 >= 0.85, both


def test_probe_questions(eval_db: Database, capsys: pytest.CaptureFixture[str]):
    queries = load_queries(PROBES)
    own = _evaluate(eval_db, queries, mixed=False)
    with capsys.disabled():
        print(_table(f"probe questions ({len(queries)}, written for this test)", own))
    assert own["hybrid"].recall_at_5 >= 0.95 and own["hybrid"].mrr_at_10 >= 0.9, own
    assert own["hybrid"].mrr_at_10 >= max(own["lexical"].mrr_at_10, own["dense"].mrr_at_10), own
