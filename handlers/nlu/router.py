"""The offline intent router: lexical cues + exemplar similarity + entity evidence.

Score of an intent = its best lexical cue (``config/intents/cues.json``, on the entity-masked text)
+ a bonus from the cosine between the message and the intent's exemplars
(``config/intents/exemplars.json``, on text with entities replaced by placeholders)
+ small adjustments for the entities the intent needs (a customer profile wants a customer, a task
completion wants a task …). Below ``nlu_min_score`` — or when small talk scores best — the message
has no intent. The embedding is skipped when the cues alone are decisive, which keeps most messages
well inside the latency budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from config import Settings
from config.intents import load
from handlers.nlu import embed

CHITCHAT = "chitchat"
# Cues this strong, this far ahead of the runner-up, decide without the embedding (latency).
DECISIVE_SCORE = 4.0
DECISIVE_MARGIN = 1.2
# A winner within this band above the minimum and this close to the runner-up counts as unsure.
UNSURE_BAND = 0.6
UNSURE_MARGIN = 0.45


@dataclass(frozen=True)
class Evidence:
    masked: str  # cue text: entities as Ⓒ Ⓟ Ⓞ Ⓣ Ⓢ Ⓓ Ⓐ Ⓜ
    plain: str  # embedding text: entities as natural placeholders
    kinds: frozenset[str]  # customer, project, opportunity, task, staff, date, amount, metric, ticket_no, …
    context_customer: bool = False  # a pronoun ("它", "这家") and a customer in the dialogue context


@dataclass
class Route:
    intent: str | None
    score: float
    ranked: list[tuple[str, float]]
    lexical: dict[str, float] = field(default_factory=dict)
    semantic: dict[str, float] | None = None

    @property
    def alternatives(self) -> list[str]:
        return [i for i, s in self.ranked if i not in (CHITCHAT, "null", "confirm", "cancel") and s > 0][:3]


@lru_cache(maxsize=1)
def _cues() -> dict[str, list[tuple[re.Pattern[str], float]]]:
    data = load("cues")
    return {intent: [(re.compile(p, re.IGNORECASE), float(w)) for p, w in cues]
            for intent, cues in data.items() if not intent.startswith("_")}


def lexical_scores(masked: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for intent, cues in _cues().items():
        hits = sorted((w for p, w in cues if p.search(masked)), reverse=True)
        if hits:
            out[intent] = hits[0] + (0.3 if len(hits) > 1 else 0.0)
    return out


# What each intent needs or likes to see: (kinds that help, bonus, kinds one of which is required, penalty)
_EVIDENCE: dict[str, tuple[tuple[str, ...], float, tuple[str, ...], float]] = {
    "customer.profile": (("customer",), 0.5, ("customer", "context_customer", "unlinked_name"), 1.2),
    "customer.update": (("customer",), 0.4, ("customer", "context_customer"), 1.0),
    "customer.tag": (("customer",), 0.4, (), 0.0),
    "followup.log": (("customer",), 0.5, ("customer", "context_customer", "unlinked_name"), 0.8),
    "opportunity.stage": (("stage", "opportunity", "amount"), 0.4, ("stage",), 1.2),
    "project.status": (("project",), 0.6, (), 0.0),
    "task.create": (("staff", "date", "project"), 0.25, (), 0.0),
    "task.done": (("task",), 0.8, (), 0.0),
    "ticket.status": (("ticket_no",), 0.6, (), 0.0),
    "ticket.create": (("customer",), 0.3, (), 0.0),
    "case.search": (("metric", "format", "industry"), 0.3, (), 0.0),
    "report.show": (("report",), 0.8, (), 0.0),
    "payment.due": (("customer",), 0.2, (), 0.0),
    "talent.recommend": (("date",), 0.1, (), 0.0),
}


def _adjust(intent: str, score: float, ev: Evidence) -> float:
    spec = _EVIDENCE.get(intent)
    if spec is None:
        return score
    helps, bonus, required, penalty = spec
    kinds = set(ev.kinds) | ({"context_customer"} if ev.context_customer else set())
    score += bonus * sum(1 for k in helps if k in kinds)
    if required and not kinds.intersection(required):
        score -= penalty
    return score


def _semantic_bonus(sim: float, settings: Settings) -> float:
    """Cosine above the floor, scaled into cue units (e5 cosines crowd between 0.75 and 0.95)."""
    return max(0.0, sim - settings.nlu_semantic_floor) * settings.nlu_semantic_weight


def route(ev: Evidence, settings: Settings, embedder: Any | None = None) -> Route:
    lexical = lexical_scores(ev.masked)
    scores = {i: _adjust(i, s, ev) for i, s in lexical.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    decisive = bool(ranked) and ranked[0][1] >= DECISIVE_SCORE and (
        len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= DECISIVE_MARGIN)
    semantic = None
    if embedder is not None and not decisive and ev.plain.strip():
        semantic = embed.similarities(embedder, settings, ev.plain)
        for intent, sim in semantic.items():
            key = CHITCHAT if intent == "null" else intent
            bonus = _semantic_bonus(sim, settings)
            if key in scores:
                scores[key] += bonus
            elif bonus > 0:
                scores[key] = _adjust(key, bonus, ev) if key != CHITCHAT else bonus
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if not ranked:
        return Route(None, 0.0, [], lexical, semantic)
    best, score = ranked[0]
    if best == CHITCHAT or score < settings.nlu_min_score:
        return Route(None, score, ranked, lexical, semantic)
    # a weak winner barely ahead of another intent is a guess: ask instead ("你是想 …")
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < settings.nlu_min_score + UNSURE_BAND and score - runner_up < UNSURE_MARGIN:
        return Route(None, score, ranked, lexical, semantic)
    return Route(best, score, ranked, lexical, semantic)
