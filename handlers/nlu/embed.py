"""The embedding side of the router: the project's embedder and the exemplar matrix, cached.

Exemplar vectors are computed once per process and kept on disk under ``DATA_DIR/nlu`` keyed by the
embedder's name and a hash of the exemplars, so a new ``crmbot chat`` process does not re-embed them.
Without a usable embedder (not installed, failing) the router runs on lexical cues alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from config import Settings
from config.intents import load

log = logging.getLogger(__name__)


class Embedder(Protocol):
    def encode(self, texts: list[str], kind: str = "query") -> np.ndarray: ...


@dataclass
class ExemplarMatrix:
    intents: list[str]  # one per row
    texts: list[str]
    vectors: np.ndarray  # (n, dim), L2-normalised


_lock = threading.Lock()
_embedders: dict[tuple[str, str, str], Any] = {}
_matrices: dict[str, ExemplarMatrix] = {}


def embedder_name(emb: Any) -> str:
    return str(getattr(emb, "name", None) or getattr(emb, "model_name", None) or type(emb).__name__)


def get_router_embedder(settings: Settings) -> Any | None:
    """The project's embedder, or None when embeddings are switched off or unavailable."""
    if not settings.nlu_embeddings:
        return None
    key = (settings.embed_backend, settings.embed_model, str(settings.data_dir))
    with _lock:
        if key in _embedders:
            return _embedders[key]
        try:
            from embeddings import get_embedder

            emb = get_embedder(settings)
        except Exception as exc:  # an optional speed-up: the lexical router still works
            log.warning("intent router runs without embeddings: %s", exc)
            emb = None
        _embedders[key] = emb
        return emb


def set_router_embedder(settings: Settings, emb: Any | None) -> None:
    """Tests and benchmarks inject an embedder (or None to force the lexical router)."""
    with _lock:
        _embedders[(settings.embed_backend, settings.embed_model, str(settings.data_dir))] = emb


@lru_cache(maxsize=1)
def exemplar_items() -> tuple[tuple[str, str], ...]:
    data = load("exemplars")
    return tuple((intent, text) for intent, texts in data.items() if not intent.startswith("_") for text in texts)


def _digest(items: tuple[tuple[str, str], ...], name: str) -> str:
    raw = json.dumps([name, items], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]


def exemplar_matrix(emb: Any, settings: Settings) -> ExemplarMatrix:
    items = exemplar_items()
    name = embedder_name(emb)
    digest = _digest(items, name)
    with _lock:
        if digest in _matrices:
            return _matrices[digest]
        path = Path(settings.data_dir) / "nlu" / f"exemplars-{digest}.npy"
        vectors: np.ndarray | None = None
        if path.is_file():
            try:
                vectors = np.load(path)
                if vectors.shape[0] != len(items):
                    vectors = None
            except (OSError, ValueError):
                vectors = None
        if vectors is None:
            vectors = np.asarray(emb.encode([t for _, t in items], kind="query"), dtype=np.float32)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
            except OSError as exc:  # a read-only data dir only costs start-up time
                log.info("could not cache exemplar vectors: %s", exc)
        matrix = ExemplarMatrix([i for i, _ in items], [t for _, t in items], vectors)
        _matrices[digest] = matrix
        return matrix


_query_cache: dict[tuple[str, str], np.ndarray] = {}


def embed_query(emb: Any, text: str) -> np.ndarray:
    key = (embedder_name(emb), text)
    hit = _query_cache.get(key)
    if hit is not None:
        return hit
    vec = np.asarray(emb.encode([text], kind="query"), dtype=np.float32)[0]
    if len(_query_cache) > 5000:
        _query_cache.clear()
    _query_cache[key] = vec
    return vec


def similarities(emb: Any, settings: Settings, text: str) -> dict[str, float]:
    """Per intent ("null" included): the best cosine between ``text`` and that intent's exemplars."""
    matrix = exemplar_matrix(emb, settings)
    sims = matrix.vectors @ embed_query(emb, text)
    out: dict[str, float] = {}
    for intent, sim in zip(matrix.intents, sims.tolist(), strict=True):
        if sim > out.get(intent, -1.0):
            out[intent] = sim
    return out
