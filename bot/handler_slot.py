"""One message handled at a time, unless the one being handled is slow.

Handlers are Python and hold the GIL; several at once on one process do not finish sooner, they
hand the GIL back and forth at every database call (SQLite releases it per statement step), and
those hand-overs cost more CPU than the messages themselves (a `/客户` lookup: 2.8 ms alone, 4.8 ms
with eight at once, bench/bench_channels.py). So a handler waits for the slot before it starts.
A handler that keeps the slot longer than ``exclusive_for`` (an LLM call, a long search) stops
blocking: the next waiting handler starts beside it, so a slow message delays the others by at
most that long, never by its whole duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class HandlerSlot:
    def __init__(self, exclusive_for: float) -> None:
        """``exclusive_for`` seconds; 0 lets every handler start at once (no slot)."""
        self.exclusive_for = exclusive_for
        self._cond = threading.Condition()
        self._holder: object | None = None
        self._since = 0.0

    def run(self, work: Callable[[], T]) -> T:
        if self.exclusive_for <= 0:
            return work()
        token = object()
        with self._cond:
            while self._holder is not None:
                left = self.exclusive_for - (time.monotonic() - self._since)
                if left <= 0:
                    break  # the holder is slow: start beside it
                self._cond.wait(left)
            self._holder, self._since = token, time.monotonic()
        try:
            return work()
        finally:
            with self._cond:
                if self._holder is token:
                    self._holder = None
                    self._cond.notify()
