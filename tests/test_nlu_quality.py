"""Language-understanding quality, end to end through the pipeline (as `crmbot chat --json` would run).

1. The development set ``../shared/evals/nlu`` (world A, imported with the importer as its README
   says): intent accuracy ≥ 95 %, entity-slot accuracy ≥ 92 %, all slots ≥ 92 % (free text loosely).
2. Held-out utterances written for this suite about a different agency (``tests/fixtures/nlu_world_h``:
   other customers, staff, projects and phrasings; ``blind.jsonl`` was written before any tuning on
   it), to check that the router generalises rather than memorises.

The per-intent tables are printed (``pytest -s``) and the totals asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.db import Database
from tests.nlu_eval import failures, load_world, read_utterances, run, score

WORLD_A = Path(__file__).resolve().parents[2] / "shared" / "evals" / "nlu"
WORLD_H = Path(__file__).resolve().parent / "fixtures" / "nlu_world_h"


def _report(title: str, outcomes) -> None:  # type: ignore[no-untyped-def]
    sc = score(outcomes)
    print(f"\n== {title} ==\n{sc.table()}")
    for line in failures(outcomes):
        print("  ✗", line)


@pytest.mark.skipif(not WORLD_A.is_dir(), reason="shared/evals not beside the repository")
def test_dev_set_world_a(sqlite_db: Database):
    load_world(sqlite_db, WORLD_A)
    outcomes = run(sqlite_db, read_utterances(WORLD_A / "utterances.jsonl"))
    _report("dev set (world A)", outcomes)
    sc = score(outcomes)
    assert sc.n == 90
    assert sc.intent_accuracy >= 0.95, failures(outcomes)
    assert sc.entity_accuracy >= 0.92, failures(outcomes)
    assert sc.slot_accuracy >= 0.92, failures(outcomes)


@pytest.mark.parametrize("name", ["utterances.jsonl", "blind.jsonl"])
def test_held_out_world_h(sqlite_db: Database, name: str):
    load_world(sqlite_db, WORLD_H)
    outcomes = run(sqlite_db, read_utterances(WORLD_H / name))
    _report(f"held-out (world H, {name})", outcomes)
    sc = score(outcomes)
    assert sc.intent_accuracy >= 0.90, failures(outcomes)
    assert sc.entity_accuracy >= 0.85, failures(outcomes)


def test_dev_set_also_on_postgres_sample(db: Database):
    """The pipeline behaves the same on PostgreSQL: a sample of the held-out set on both engines."""
    load_world(db, WORLD_H)
    sample = read_utterances(WORLD_H / "utterances.jsonl")[::4]
    outcomes = run(db, sample)
    assert score(outcomes).intent_accuracy >= 0.9, failures(outcomes)
