"""sentence-transformers over a model directory that the deployment provides (e.g. bge-small-zh).

Loading is local only: a directory that does not exist is refused before anything is imported, and
the library is told never to reach a model hub.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from embeddings.base import EmbedderError, Kind, check_kind, normalise_rows


class SentenceTransformerEmbedder:
    def __init__(self, model_dir: str | Path, query_prompt: str = "", passage_prompt: str = "") -> None:
        path = Path(model_dir).expanduser()
        if not str(model_dir).strip():
            raise EmbedderError("CRMBOT_EMBED_MODEL 未设置：sentence-transformers 后端需要一个本地模型目录")
        if not path.is_dir():
            raise EmbedderError(f"CRMBOT_EMBED_MODEL 指向的模型目录不存在：{path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("sentence-transformers 未安装：先 pip install torch==2.13.0，再 pip install "
                                "'crmbot[st]'") from exc
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # a directory that is not a model
            raise EmbedderError(f"无法从 {path} 载入 sentence-transformers 模型：{exc}") from exc
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        # the records remember which model made a vector: same directory name, other weights → other name
        digest = hashlib.sha1(f"{path.resolve()}|{query_prompt}|{passage_prompt}".encode()).hexdigest()[:8]
        self.name = f"st-{path.name}-{digest}"
        self._lock = threading.Lock()

    def encode(self, texts: list[str], kind: Kind = "query", batch_size: int = 32) -> np.ndarray:
        check_kind(kind)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.query_prompt if kind == "query" else self.passage_prompt
        with self._lock:
            vectors = self._model.encode([prefix + t for t in texts], batch_size=batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return normalise_rows(vectors)
