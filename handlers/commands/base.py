"""Shared helpers for command handlers."""

from __future__ import annotations

from typing import Any

from handlers.dialogue import Conversation
from handlers.dispatch import perform
from handlers.registry import Context
from handlers.reply import Reply


def conversation(ctx: Context) -> Conversation:
    return ctx.cache["conversation"]  # set by the pipeline before any handler runs


def apply(ctx: Context, intent: str, slots: dict[str, Any], extras: dict[str, Any] | None = None) -> Reply:
    """Commands skip language understanding and apply writes directly."""
    return perform(ctx, conversation(ctx), intent, slots, extras, confirmed=True)


def usage(intent: str, text: str) -> Reply:
    return Reply.text(text, intent=intent)
