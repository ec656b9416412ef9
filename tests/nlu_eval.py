"""Scoring chat utterances against expected intents and slots (shared/evals/nlu format).

Each line: {"id", "as" (staff ref), "text", "now", "intent", "slots"}. Messages run through the
real pipeline (``handlers.pipeline.handle``) as that staff member's wecom id, in file order, on one
database — exactly like ``crmbot chat --as … --json`` would. Entity slots and other structured
slots are compared exactly; free-text slots (query, summary, title) loosely.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.importing.service import import_path
from crm_core.models import Staff
from handlers.messages import IncomingMessage
from handlers.pipeline import handle

ENTITY_SLOTS = {"customer", "project", "task", "assignee", "owner", "opportunity"}
FREE_SLOTS = {"query", "summary", "title"}
WORLD_KINDS = ("staff", "customers", "projects", "tasks", "opportunities", "leads")


def load_world(db: Database, folder: Path) -> None:
    for kind in WORLD_KINDS:
        path = folder / f"{kind}.jsonl"
        if path.exists():
            report = import_path(db, path, kind, Actor.system(channel="import", name="eval"))
            assert report.ok, report.errors


def read_utterances(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str) -> str:
    return re.sub(r"[\s，,。.；;：:！!？?、的了吧呢啊]", "", str(text)).lower()


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def loose_equal(expected: Any, got: Any) -> bool:
    """Free text: the gist agrees — one contains the other, or they share most character pairs."""
    if got is None:
        return False
    e, g = _norm(expected), _norm(got)
    if not e or not g:
        return e == g
    if e in g or g in e:
        return True
    be, bg = _bigrams(e), _bigrams(g)
    return 2 * len(be & bg) / (len(be) + len(bg)) >= 0.5


@dataclass
class Outcome:
    id: str
    text: str
    intent: str | None
    got_intent: str | None
    slots: dict[str, Any]
    got_slots: dict[str, Any]
    reply: str
    slot_results: dict[str, bool] = field(default_factory=dict)

    @property
    def intent_ok(self) -> bool:
        return self.intent == self.got_intent


def run(db: Database, utterances: list[dict[str, Any]]) -> list[Outcome]:
    with db.unit_of_work() as s:
        ids = {ref: uid for ref, uid in s.execute(select(Staff.ref, Staff.wecom_userid))}
    out = []
    for u in utterances:
        sender = ids[u["as"]]
        now = datetime.fromisoformat(u["now"])
        msg = IncomingMessage(channel="console", text=u["text"], sender_id=sender, chat_id=f"dm:{sender}", sent_at=now)
        reply = handle(db, msg, now=now)
        o = Outcome(u["id"], u["text"], u["intent"], reply.intent, u["slots"], dict(reply.slots), reply.plain())
        for key, want in u["slots"].items():
            got = reply.slots.get(key)
            o.slot_results[key] = loose_equal(want, got) if key in FREE_SLOTS else got == want
        out.append(o)
    return out


@dataclass
class Score:
    n: int
    intent_ok: int
    entity_n: int
    entity_ok: int
    slot_n: int
    slot_ok: int
    per_intent: dict[str, tuple[int, int, int, int]]  # intent → (n, intent ok, slots, slots ok)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_ok / self.n if self.n else 0.0

    @property
    def entity_accuracy(self) -> float:
        return self.entity_ok / self.entity_n if self.entity_n else 1.0

    @property
    def slot_accuracy(self) -> float:
        return self.slot_ok / self.slot_n if self.slot_n else 1.0

    def table(self) -> str:
        lines = [f"{'intent':<20}{'n':>4}{'intent':>9}{'slots':>12}"]
        for intent, (n, ok, sn, sok) in sorted(self.per_intent.items()):
            slots = f"{sok}/{sn}" if sn else "—"
            lines.append(f"{intent:<20}{n:>4}{ok / n:>9.0%}{slots:>12}")
        lines.append(f"{'total':<20}{self.n:>4}{self.intent_accuracy:>9.1%}{self.slot_ok:>6}/{self.slot_n:<5}"
                     f"  entity slots {self.entity_ok}/{self.entity_n} = {self.entity_accuracy:.1%}")
        return "\n".join(lines)


def score(outcomes: list[Outcome]) -> Score:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    ent_n = ent_ok = slot_n = slot_ok = 0
    for o in outcomes:
        row = per[o.intent or "(none)"]
        row[0] += 1
        row[1] += o.intent_ok
        for key, ok in o.slot_results.items():
            row[2] += 1
            row[3] += ok
            slot_n += 1
            slot_ok += ok
            if key in ENTITY_SLOTS:
                ent_n += 1
                ent_ok += ok
    return Score(len(outcomes), sum(o.intent_ok for o in outcomes), ent_n, ent_ok, slot_n, slot_ok,
                 {k: (v[0], v[1], v[2], v[3]) for k, v in per.items()})


def failures(outcomes: list[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        bad = [k for k, ok in o.slot_results.items() if not ok]
        if not o.intent_ok or bad:
            out.append(f"{o.id} {o.text!r}: intent {o.intent} → {o.got_intent}; "
                       + ", ".join(f"{k}: {o.slots[k]!r} → {o.got_slots.get(k)!r}" for k in bad))
    return out
