"""Which lexical terms and which fusion: the measurements behind the search defaults.

    python -m bench.retrieval_ablation

Imports the shared development set (../shared/evals/retrieval) into a scratch SQLite database and
scores Recall@1 / Recall@5 / MRR@10 of every lexical term scheme (character n-grams, jieba words,
both; with and without pinyin bigrams) and of both fusion schemes over a range of weights, on the
development queries and on the probe questions written for the test suite. Prints Markdown.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.evaluation import EVAL_DIR, Scores, load_queries, score

PROBES = Path(__file__).resolve().parents[1] / "tests" / "knowledge" / "probe_queries.jsonl"
TODAY = date(2026, 11, 25)


def _fmt(s: Scores) -> str:
    return f"{s.recall_at_1:.3f} / {s.recall_at_5:.3f} / {s.mrr_at_10:.3f}"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="crmbot-ablation-"))
    os.environ["CRMBOT_DATA_DIR"] = str(workdir)
    from config.settings import load_settings
    from crm_core.actor import Actor
    from crm_core.db import Database
    from crm_core.importing import import_path
    from crm_core.schema import upgrade
    from knowledge import indexing
    from knowledge.search import search

    db = Database(f"sqlite:///{workdir / 'ablation.db'}")
    upgrade(db)
    actor = Actor.system()
    for kind, name in (("kb", "kb.jsonl"), ("cases", "cases.jsonl")):
        report = import_path(db, EVAL_DIR / name, kind, actor)
        assert report.ok, report.errors
    sets = {"dev": load_queries(), "probe": load_queries(PROBES)}

    def evaluate(overrides: dict[str, Any], method: str, queries: list[dict[str, Any]]) -> Scores:
        settings = load_settings(**overrides)
        with db.unit_of_work() as s:
            indexing.sync(s, settings)
        with db.session() as s:
            return score(queries, lambda q: [h.ref for h in search(s, actor, q["text"], q["collection"], 10,
                                                                   method=method, today=TODAY, settings=settings)])

    print("### Lexical terms (R@1 / R@5 / MRR@10, each query in its collection)\n")
    print("| terms | pinyin | dev lexical | dev hybrid | probe lexical | probe hybrid |")
    print("|---|---|---|---|---|---|")
    for scheme in ("char", "word", "char+word"):
        for pinyin in (False, True):
            ov = {"search_lexical_tokens": scheme, "search_pinyin": pinyin}
            cells = [_fmt(evaluate(ov, m, sets[name])) for name in ("dev", "probe") for m in ("lexical", "hybrid")]
            print(f"| {scheme} | {'yes' if pinyin else 'no'} | " + " | ".join(cells) + " |")
    print("\n### Fusion (default terms; R@1 / R@5 / MRR@10)\n")
    print("| fusion | lexical weight | dense weight | dev | probe |")
    print("|---|---|---|---|---|")
    for fusion, weights in (("zscore", (0.3, 0.4, 0.5, 0.6, 0.7)), ("rrf", (0.5, 1.0, 1.5))):
        for wl in weights:
            wd = 1.0 - wl if fusion == "zscore" else 1.0
            ov = {"search_fusion": fusion, "search_lexical_weight": wl, "search_dense_weight": wd}
            cells = [_fmt(evaluate(ov, "hybrid", sets[name])) for name in ("dev", "probe")]
            print(f"| {fusion} | {wl} | {wd:.1f} | " + " | ".join(cells) + " |")
    print("\n| single method (default terms) | dev | probe |\n|---|---|---|")
    for method in ("lexical", "dense"):
        print(f"| {method} | " + " | ".join(_fmt(evaluate({}, method, sets[n])) for n in ("dev", "probe")) + " |")


if __name__ == "__main__":
    main()
