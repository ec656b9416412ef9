"""How a failed send is treated: retried with backoff, retried after a rate-limit pause, or given up."""

from __future__ import annotations


class DeliveryError(Exception):
    retryable = True
    min_delay = 0.0

    def __init__(self, message: str, *, min_delay: float | None = None) -> None:
        super().__init__(message)
        if min_delay is not None:
            self.min_delay = min_delay


class Transient(DeliveryError):
    """Network error, timeout, 5xx, "system busy": try again later."""


class RateLimited(Transient):
    """The messenger says too many messages: wait at least a minute."""

    min_delay = 60.0


class Permanent(DeliveryError):
    """Retrying cannot help (bad address, no permission, malformed message): dead-letter now."""

    retryable = False
