"""Domain errors. Each carries a Chinese message safe to show the sender (it never names hidden records)."""

from __future__ import annotations


class CrmError(Exception):
    """Base class; ``str(exc)`` is the user-facing Chinese message."""


class PermissionDenied(CrmError):
    pass


class NotFound(CrmError):
    pass


class Conflict(CrmError):
    """A stale update: the record changed since the sender read it."""


class InvalidInput(CrmError):
    pass


class Ambiguous(CrmError):
    """Several records match; ``candidates`` lists (ref, label) for a numbered clarification."""

    def __init__(self, message: str, candidates: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.candidates = candidates
