"""The labelled needs (needs.jsonl) over the demo agency, NDCG@3, and a runner through the chat pipeline."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from crm_core.db import Database
from handlers.messages import IncomingMessage
from handlers.pipeline import handle

NEEDS = Path(__file__).with_name("needs.jsonl")
DEMO_TODAY = date(2026, 11, 25)  # a Wednesday; the needs' deadlines are relative to it
DEMO_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ASKER = "demo_am"


@dataclass
class Need:
    id: str
    need: str
    due: str | None
    relevant: dict[str, int]


@dataclass
class Outcome:
    need: Need
    ranked: list[str]
    query: str | None
    due: str | None
    ndcg: float


def read_needs(path: Path = NEEDS) -> list[Need]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Need(r["id"], r["need"], r["due"], r["relevant"]) for r in rows]


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 3) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(ref, 0) for ref in ranked]) / ideal if ideal else 0.0


def run(db: Database, needs: list[Need], sender: str = ASKER) -> list[Outcome]:
    out = []
    for n in needs:
        msg = IncomingMessage(channel="console", text=n.need, sender_id=sender, chat_id=f"dm:{sender}", sent_at=DEMO_NOW)
        reply = handle(db, msg, now=DEMO_NOW)
        ranked = next((a.get("candidates", []) for a in reply.actions if a.get("action") == "talent.recommend"), [])
        out.append(Outcome(n, ranked, reply.slots.get("query"), reply.slots.get("due"), ndcg_at(ranked, n.relevant)))
    return out


def table(outcomes: list[Outcome]) -> str:
    lines = [f"{'id':5} {'NDCG@3':>7}  top 3 (grade)"]
    for o in outcomes:
        top = ", ".join(f"{r}({o.need.relevant.get(r, 0)})" for r in o.ranked[:3])
        lines.append(f"{o.need.id:5} {o.ndcg:7.3f}  {top}   « {o.need.need}")
    mean = sum(o.ndcg for o in outcomes) / len(outcomes)
    lines.append(f"mean NDCG@3 = {mean:.3f} over {len(outcomes)} needs")
    return "\n".join(lines)
