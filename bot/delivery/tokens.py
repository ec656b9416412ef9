"""An access token cached per process, refreshed before it expires and on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenCache:
    """``fetch`` returns (token, lifetime in seconds). The token is renewed once less than
    ``margin`` of its life is left (at most half of it), or after ``invalidate`` — which callers do
    when the messenger says the token is invalid or expired."""

    def __init__(self, fetch: Callable[[], tuple[str, float]], *, margin: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetches = 0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                token, lifetime = self._fetch()
                self.fetches += 1
                self._token = token
                self._renew_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the token (only if it is still ``token``, so a fresh one fetched meanwhile survives)."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None
