"""The command bus: a typed registry of slash commands with Chinese names, English aliases, help and examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from crm_core.actor import Actor
from handlers.messages import IncomingMessage
from handlers.reply import Reply


@dataclass
class Context:
    session: Session
    actor: Actor
    message: IncomingMessage
    now: datetime  # aware, in the configured timezone
    settings: Settings
    source: str = "command"  # command | nlu | agent | dialogue: how the request arrived
    cache: dict[str, Any] = field(default_factory=dict)  # per-message memo (entity catalogue …)


Handler = Callable[[Context, str], Reply]


@dataclass
class Command:
    name: str
    intent: str
    summary: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    usage: str = ""
    examples: tuple[str, ...] = ()
    group: str = "常用"
    hidden: bool = False
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.names = (self.name, *self.aliases)


class Registry:
    def __init__(self) -> None:
        self._by_name: dict[str, Command] = {}
        self._ordered: list[Command] = []

    def register(self, cmd: Command) -> Command:
        for n in cmd.names:
            key = n.lower()
            if key in self._by_name:
                raise ValueError(f"command name {n!r} registered twice")
            self._by_name[key] = cmd
        self._ordered.append(cmd)
        return cmd

    def command(self, name: str, *, intent: str, summary: str, aliases: tuple[str, ...] = (), usage: str = "",
                examples: tuple[str, ...] = (), group: str = "常用", hidden: bool = False) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.register(Command(name=name, intent=intent, summary=summary, handler=fn, aliases=aliases,
                                  usage=usage, examples=examples, group=group, hidden=hidden))
            return fn
        return deco

    def get(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    def all(self) -> list[Command]:
        return [c for c in self._ordered if not c.hidden]

    def find_by_intent(self, intent: str) -> Command | None:
        return next((c for c in self._ordered if c.intent == intent), None)


registry = Registry()


def split_command(text: str) -> tuple[str, str] | None:
    """"/客户 奇点科技" → ("客户", "奇点科技"); full-width slash accepted; None if not a command."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "/／":
        return None
    body = stripped[1:].strip()
    if not body:
        return None
    name, _, rest = body.partition(" ")
    if "\u3000" in name:
        name, _, more = name.partition("\u3000")
        rest = f"{more} {rest}".strip()
    return name, rest.strip()
