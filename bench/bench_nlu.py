"""Conversation benchmark: time to handle one natural-language message, end to end, offline.

    python -m bench.bench_nlu [--messages 400] [--embedder project|none] [--record]

A synthetic agency at demo scale (150 customers, 40 staff, 60 projects, 600 tasks, 150
opportunities; bench/nlu_data.py) is imported into a fresh SQLite database. Messages are generated
from templates about random records and sent through ``handlers.pipeline.handle`` as random staff
(account managers, managers, creatives) — actor resolution, dialogue state, entity linking over the
sender's visible records, routing (with exemplar embeddings unless ``--embedder none``), slot
extraction, the service calls and the reply. Writes stop at their preview (as they do in chat).
Case and knowledge-base questions are left out: their latency belongs to ``bench_retrieval``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.nlu_data import TEMPLATES, generate
from bench.record import load_average, percentile, record_section

SECTION = "## Conversation"
SPEED = "### Speed"


def _messages(world: dict[str, list[dict[str, Any]]], n: int, seed: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    senders = [s for s in world["staff"] if s["role"] in ("account_manager", "sales", "manager", "designer", "planner")]
    out = []
    for _ in range(n):
        sender = rnd.choice(senders)
        mine = [c for c in world["customers"] if c["owner"] == sender["ref"]] or world["customers"]
        customer = rnd.choice(mine)
        projects = [p for p in world["projects"] if p["customer"] == customer["ref"]] or world["projects"]
        staff = rnd.choice(world["staff"])
        text = rnd.choice(TEMPLATES).format(
            customer=customer["name"], brand=customer["name"][:2], project=rnd.choice(projects)["name"],
            given=staff["name"][1:] if len(staff["name"]) == 3 else staff["name"], staff=staff["name"],
            task=rnd.choice(world["tasks"])["title"], amount=rnd.randint(5, 200), industry=customer["industry"],
            skill=rnd.choice(["C4D", "插画", "短视频脚本", "直播策划", "信息流投放"]))
        out.append((sender["wecom_userid"], text))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from config import get_settings, reset_settings
    from config.settings import load_settings
    from crm_core.actor import Actor
    from crm_core.db import Database
    from crm_core.importing.service import import_rows, rows_from_dicts
    from crm_core.schema import upgrade
    from handlers.messages import IncomingMessage
    from handlers.nlu import embed
    from handlers.pipeline import handle

    tmp = Path(tempfile.mkdtemp(prefix="bench-nlu-"))
    os.environ["CRMBOT_DATA_DIR"] = str(tmp / "var")
    reset_settings()
    settings = load_settings(data_dir=tmp / "var", nlu_embeddings=args.embedder != "none")
    reset_settings(settings)
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db)
    world = generate(seed=args.seed)
    t0 = time.perf_counter()
    for kind in ("staff", "customers", "projects", "tasks", "opportunities"):
        with db.unit_of_work() as session:
            report = import_rows(session, kind, rows_from_dicts(kind, world[kind], source="bench"),
                                 Actor.system(channel="bench", name="bench"))
            assert report.ok, report.errors[:3]
    load_seconds = time.perf_counter() - t0
    emb = embed.get_router_embedder(get_settings())
    t1 = time.perf_counter()
    if emb is not None:
        embed.exemplar_matrix(emb, settings)
    exemplar_seconds = time.perf_counter() - t1
    now = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
    messages = _messages(world, args.messages + args.warmup, args.seed)
    times, intents = [], Counter()
    embedded = 0
    real_sims = embed.similarities

    def counting(*a: Any, **kw: Any) -> Any:
        nonlocal embedded
        embedded += 1
        return real_sims(*a, **kw)

    embed.similarities = counting  # type: ignore[assignment]
    try:
        for i, (sender, text) in enumerate(messages):
            msg = IncomingMessage(channel="console", text=text, sender_id=sender, chat_id=f"bench:{i}", sent_at=now)
            start = time.perf_counter()
            reply = handle(db, msg, settings=settings, now=now)
            elapsed = (time.perf_counter() - start) * 1000
            if i >= args.warmup:
                times.append(elapsed)
                intents[reply.intent or "(none)"] += 1
    finally:
        embed.similarities = real_sims  # type: ignore[assignment]
    return {
        "scale": {k: len(v) for k, v in world.items()},
        "embedder": embed.embedder_name(emb) if emb is not None else "none (lexical cues only)",
        "messages": len(times),
        "embedding_share": round(embedded / len(messages), 3),
        "ms": {"p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1), "p99": round(percentile(times, 99), 1),
               "mean": round(float(np.mean(times)), 1), "max": round(max(times), 1)},
        "import_seconds": round(load_seconds, 1),
        "exemplar_seconds": round(exemplar_seconds, 2),
        "intents": dict(intents.most_common()),
        "cpu": os.cpu_count(),
        "load": load_average(),
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [SPEED, "",
             "`python -m bench.bench_nlu` — one natural-language message through `handlers.pipeline.handle` "
             "(sender lookup, dialogue state, entity linking over the sender's visible records, routing, slots, "
             "services, reply), SQLite, one process, offline. Scale: "
             + ", ".join(f"{v} {k}" for k, v in results[0]["scale"].items()) + ".", "",
             "| router | messages | embedded | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        ms = r["ms"]
        lines.append(f"| {r['embedder']} | {r['messages']} | {r['embedding_share']:.0%} | {ms['p50']} | {ms['p95']} | "
                     f"{ms['p99']} | {ms['max']} |")
    r = results[0]
    lines += ["", f"Machine: {r['cpu']} CPUs, load {r['load']}, {r['when']}. \"embedded\" = share of messages for "
              "which the cues were not decisive and the message was embedded; exemplar vectors are computed once "
              f"({max(x['exemplar_seconds'] for x in results)} s) and cached under `DATA_DIR/nlu`. Case and knowledge-base questions are "
              "timed in the Retrieval section.", ""]
    return "\n".join(lines)


def record(speed: str, path: Path) -> None:
    """Replace the "### Speed" part of the "## Conversation" section of docs/benchmarks.md; leave the rest alone."""
    record_section(speed, SECTION, SPEED, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--embedder", choices=["project", "none", "both"], default="both")
    parser.add_argument("--record", action="store_true", help="write the section into docs/benchmarks.md")
    args = parser.parse_args()
    results = []
    for which in (["none", "project"] if args.embedder == "both" else [args.embedder]):
        results.append(run(argparse.Namespace(**{**vars(args), "embedder": which})))
        print(json.dumps(results[-1], ensure_ascii=False, indent=1))
    section = markdown(results)
    print(section)
    if args.record:
        record(section, Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
