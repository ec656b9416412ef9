"""One action per intent; importing this package registers them all."""

from handlers.actions import (  # noqa: F401
    curation,
    customers,
    help,
    knowledge,
    reports,
    sales,
    service,
    talent,
    work,
)
from handlers.actions.base import ACTIONS, Action, Args, Missing, NeedChoice, available, get_action

__all__ = ["ACTIONS", "Action", "Args", "Missing", "NeedChoice", "available", "get_action"]
