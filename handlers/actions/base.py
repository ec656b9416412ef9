"""Actions: one per intent, the single place where a request becomes service calls and a Reply.

Commands, the offline language understanding and the LLM agent all end here with an intent and
typed arguments (pydantic; entity arguments are refs), and the sender's Actor in the context.
Writes have a ``preview`` (what would change, checked against permissions where possible) and a
``run`` (apply and say what changed); whether a preview waits for "确认" is the caller's choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_core.actor import Actor
from crm_core.errors import Ambiguous
from crm_core.permissions import Cap, can
from handlers.registry import Context
from handlers.reply import Reply


class Args(BaseModel):
    """Base of every action's arguments. Fields marked ``exclude=True`` are hints, not slots."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    page: int = Field(default=1, ge=1, exclude=True)

    def slots(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class NeedChoice(Ambiguous):
    """Several records fit one argument: ask with a numbered list, then resume with the choice."""

    def __init__(self, message: str, slot: str, candidates: list[tuple[str, str]]) -> None:
        super().__init__(message, candidates)
        self.slot = slot


class Missing(Exception):
    """A required argument is absent; the message says what to send."""

    def __init__(self, slot: str, message: str) -> None:
        super().__init__(message)
        self.slot = slot


Runner = Callable[[Context, Any], Reply]
Previewer = Callable[[Context, Any], list[str]]


@dataclass
class Action:
    intent: str
    title: str  # a short label: "查看客户档案"
    summary: str  # what it does, for help and for the LLM's tool description
    args: type[Args]
    run: Runner
    preview: Previewer | None = None
    cap: Cap | None = None
    write: bool = False
    external: bool = False  # client contacts may use it too

    def allowed(self, actor: Actor) -> bool:
        if actor.kind == "guest":
            return False
        if actor.kind == "external" and not self.external:
            return False
        return self.cap is None or can(actor, self.cap)


ACTIONS: dict[str, Action] = {}


def action(intent: str, *, title: str, summary: str, args: type[Args], cap: Cap | None = None, write: bool = False,
           external: bool = False, preview: Previewer | None = None) -> Callable[[Runner], Runner]:
    def deco(fn: Runner) -> Runner:
        if intent in ACTIONS:
            raise ValueError(f"action {intent!r} registered twice")
        ACTIONS[intent] = Action(intent=intent, title=title, summary=summary, args=args, run=fn, preview=preview,
                                 cap=cap, write=write, external=external)
        return fn
    return deco


def get_action(intent: str) -> Action | None:
    return ACTIONS.get(intent)


def available(actor: Actor) -> list[Action]:
    return [a for a in ACTIONS.values() if a.allowed(actor)]
