"""Passage vectors of talent texts (profile summary, past work), embedded once per content.

Vectors are kept in ``embedding_records`` (entity type ``talent``, keyed by content hash and model)
and in a process cache, so a recommendation embeds only the query and whatever text is new.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from crm_core.models import EmbeddingRecord

log = logging.getLogger(__name__)
ENTITY = "talent"
_cache: dict[tuple[str, str], np.ndarray] = {}
_lock = threading.Lock()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embedder(settings: Settings):  # type: ignore[no-untyped-def]
    """The project's embedder, or None when it cannot be loaded (matching then runs on words alone)."""
    try:
        from embeddings import get_embedder

        return get_embedder(settings)
    except Exception as exc:  # an optional signal: say so in the log, never fail the request
        log.warning("talent matching runs without embeddings: %s", exc)
        return None


def passages(session: Session, emb, owners: list[tuple[int, int, str]]) -> dict[tuple[int, int], np.ndarray]:  # type: ignore[no-untyped-def]
    """Vectors for (staff id, chunk, text); new texts are embedded and stored."""
    model = str(getattr(emb, "name", type(emb).__name__))
    hashes = {(sid, chunk): _hash(text) for sid, chunk, text in owners}
    found: dict[str, np.ndarray] = {}
    with _lock:
        for h in set(hashes.values()):
            if (model, h) in _cache:
                found[h] = _cache[(model, h)]
    missing = sorted(set(hashes.values()) - set(found))
    for start in range(0, len(missing), 500):
        batch = missing[start:start + 500]
        for h, blob in session.execute(select(EmbeddingRecord.content_hash, EmbeddingRecord.vector).where(
                EmbeddingRecord.model == model, EmbeddingRecord.content_hash.in_(batch))):
            found[h] = np.frombuffer(blob, dtype=np.float32)
    todo = [(sid, chunk, text) for sid, chunk, text in owners if hashes[(sid, chunk)] not in found]
    unique = list(dict.fromkeys(text for _, _, text in todo))
    if unique:
        vectors = emb.encode(unique, kind="passage")
        by_text = dict(zip(unique, vectors, strict=True))
        _store(session, model, [(sid, chunk, hashes[(sid, chunk)], by_text[text]) for sid, chunk, text in todo])
        for text, vec in by_text.items():
            found[_hash(text)] = np.asarray(vec, dtype=np.float32)
    with _lock:
        for h, vec in found.items():
            _cache[(model, h)] = vec
    return {key: found[h] for key, h in hashes.items()}


def _store(session: Session, model: str, rows: list[tuple[int, int, str, np.ndarray]]) -> None:
    """Upsert by (staff, chunk); a concurrent writer of the same row wins without failing the request."""
    existing = {(r.entity_id, r.chunk): r for r in session.scalars(select(EmbeddingRecord).where(
        EmbeddingRecord.entity_type == ENTITY, EmbeddingRecord.model == model,
        EmbeddingRecord.entity_id.in_({sid for sid, _, _, _ in rows})))}
    try:
        with session.begin_nested():
            for sid, chunk, h, vec in rows:
                blob = np.asarray(vec, dtype=np.float32).tobytes()
                row = existing.get((sid, chunk))
                if row is None:
                    session.add(EmbeddingRecord(entity_type=ENTITY, entity_id=sid, chunk=chunk, model=model,
                                                content_hash=h, dim=len(vec), vector=blob))
                elif row.content_hash != h:
                    row.content_hash, row.dim, row.vector = h, len(vec), blob
    except IntegrityError:
        log.info("talent vectors were stored by another process first")
