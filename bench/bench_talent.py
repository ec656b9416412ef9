"""Talent recommendations on the demo agency: NDCG@3 over the labelled needs, with and without the embedder,
and the time one need takes through the chat pipeline. Writes "## Talent" in docs/benchmarks.md.

    .venv/bin/python -m bench.bench_talent [--no-record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.record import record_section
from crm_core.db import Database
from crm_core.demo.loader import load_demo
from crm_core.models import TalentProfile
from crm_core.schema import upgrade
from crm_core.services import talent_vectors
from tests.talent.devset import DEMO_TODAY, Outcome, read_needs, run

HELDOUT = Path(__file__).resolve().parents[1] / "tests" / "talent" / "needs_heldout.jsonl"


def _mean(outs: list[Outcome]) -> float:
    return sum(o.ndcg for o in outs) / len(outs)


def _demo(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    load_demo(db, DEMO_TODAY)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    dev, held = read_needs(), read_needs(HELDOUT)
    with tempfile.TemporaryDirectory() as tmp:
        db = _demo(Path(tmp) / "demo.db")
        with db.unit_of_work() as s:
            profiles = s.scalar(select(func.count()).select_from(TalentProfile)) or 0
        start = time.perf_counter()
        run(db, dev[:1])
        cold = time.perf_counter() - start
        timings = []
        for need in dev + held:
            t = time.perf_counter()
            run(db, [need])
            timings.append((time.perf_counter() - t) * 1000)
        full = (run(db, dev), run(db, held))
        real = talent_vectors.embedder
        talent_vectors.embedder = lambda settings: None  # type: ignore[assignment]
        try:
            lexical = (run(db, dev), run(db, held))
        finally:
            talent_vectors.embedder = real
    rows = [("words + embedder (shipped)", *full), ("words only (embedder unavailable)", *lexical)]
    quality = ["### Quality", "",
               "`pytest tests/talent/test_ndcg.py -s` sends each need through the chat pipeline as demo_am would "
               "(`handlers.pipeline.handle`, demo agency of `crmbot demo` as of 2026-11-25) and scores the top three "
               "against graded labels read off the demo data (3: every named skill and style and a free day "
               "before the deadline; 2: the deliverable's skill without the style; 1: an adjacent skill, or a "
               "full match with no free day). The dev set was used while tuning; the held-out set was written and "
               "labelled before the ranker first ran on it.", "",
               "| ranker | dev NDCG@3 (16 needs) | held-out NDCG@3 (8 needs) |", "|---|---|---|"]
    quality += [f"| {name} | {_mean(d):.3f} | {_mean(h):.3f} |" for name, d, h in rows]
    quality += ["| previous skill-substring ranker (`crm_core/services/talent.py` before this work), same parsed "
                "needs, measured once | 0.903 | 0.919 |",
                "| a random top three (200 draws per need) | 0.174 | 0.165 |", "",
                "Held-out history: 0.955 on first run; 0.984 after one bug fix it exposed (the role word 媒介 was "
                "also a form of the skill 媒介排期, so \"户外广告投放的媒介\" asked for a skill instead of a role). "
                "The test asserts ≥ 0.93 per set and ≥ 0.95 overall, so a fall to the previous ranker's level "
                "fails. The demo's profiles use the vocabulary's own words, so on this data the embedder adds "
                "little; it is there for needs and past work written in words the vocabulary does not know, "
                "which this set does not measure.", ""]
    speed = ["### Speed", "",
             f"One need through the pipeline on SQLite (routing, slots, ranking {profiles} talent profiles with up "
             f"to 8 past projects each, reply): p50 {statistics.median(timings):.0f} ms, "
             f"p95 {statistics.quantiles(timings, n=20)[-1]:.0f} ms over {len(timings)} needs, warm. The first "
             f"need after loading the demo took {cold:.1f} s: it embeds every profile and past-work text once "
             f"(stored in `embedding_records`, so later processes reuse them) and loads the router's exemplars. "
             f"Machine: {os.cpu_count()} CPUs, load {', '.join(f'{x:.2f}' for x in os.getloadavg())}, "
             f"{datetime.now(UTC).isoformat(timespec='seconds')}.", ""]
    text = "\n".join(quality + speed)
    print(text)
    if not args.no_record:
        record_section("\n".join(quality), "## Talent", "### Quality")
        record_section("\n".join(speed), "## Talent", "### Speed")


if __name__ == "__main__":
    main()
