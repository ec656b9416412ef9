"""Keep the search index in step with the database.

``sync`` embeds only chunks whose content hash is new for the current model (a vector already stored
for the same hash is copied, never recomputed), deletes the records of vanished chunks, updates the
vector indexes incrementally, rebuilds the cheap lexical side, and persists the result under
``settings.data_dir/index``. Call it after importing cases or articles; searches call
``current_index``, which loads the persisted index and syncs lazily when the database moved on.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from config import Settings, get_settings
from crm_core.models import Case, EmbeddingRecord, KBArticle
from embeddings import VectorIndex
from knowledge.dense import MAX_CHUNKS, DenseIndex, hash_key, vector_id
from knowledge.documents import COLLECTIONS, TEXT_VERSION, Doc, EntityType, case_doc, content_hash, kb_doc
from knowledge.index import KnowledgeIndex, LexicalConfig
from knowledge.retrieval import Embedder

Progress = Callable[[str, int, int], None]  # (stage, done, total)
ChunkKey = tuple[str, int, int]  # (entity_type, entity_id, chunk)
_READ_BATCH = 2000
BM25_K1, BM25_B = 1.2, 0.75

log = logging.getLogger(__name__)
_lock = threading.RLock()  # serialises syncs and guards the cache
_cache: dict[Path, KnowledgeIndex] = {}
_checked: dict[Path, float] = {}


@dataclass
class SyncReport:
    model: str
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # computed by the model in this run
    copied: int = 0  # same content already embedded elsewhere: vector copied
    unchanged: int = 0
    removed: int = 0
    rebuilt: bool = False  # vector indexes rebuilt from the stored records rather than updated
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"索引已更新（模型 {self.model}）：{self.documents} 条记录、{self.chunks} 个片段；新计算向量 "
                f"{self.embedded}，复用 {self.copied + self.unchanged}，删除 {self.removed}，用时 {self.seconds:.1f} 秒")


def _embedder(settings: Settings, embedder: Embedder | None) -> Embedder:
    if embedder is not None:
        return embedder
    from embeddings import get_embedder

    return get_embedder(settings)


def lexical_config(settings: Settings) -> LexicalConfig:
    return LexicalConfig(settings.search_lexical_tokens, settings.search_pinyin, BM25_K1, BM25_B)


def index_dir(session: Session, settings: Settings, model: str) -> Path:
    """One directory per (database, model): tests and deployments never read each other's index."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)[-48:]
    return Path(settings.data_dir) / "index" / f"{slug}-{hashlib.sha1(url.encode()).hexdigest()[:10]}"


def fingerprint(session: Session, settings: Settings, model: str) -> dict[str, Any]:
    """Cheap summary of the indexed tables and of everything that shapes the index."""
    state: dict[str, Any] = {"model": model, "text": TEXT_VERSION, "chunk": [settings.search_chunk_chars,
                             settings.search_chunk_overlap], "lexical": lexical_config(settings).__dict__}
    for name, model_cls in (("case", Case), ("kb", KBArticle)):
        # three subqueries, not one select: each max() is then one index lookup (ix_*_updated_at)
        count, max_id, changed = session.execute(select(
            select(func.count(model_cls.id)).scalar_subquery(), select(func.max(model_cls.id)).scalar_subquery(),
            select(func.max(model_cls.updated_at)).scalar_subquery())).one()
        state[name] = [count, max_id, changed.isoformat() if changed else None]
    return state


_CASE_COLUMNS = (Case.id, Case.ref, Case.title, Case.industry, Case.format, Case.channels, Case.year, Case.period,
                 Case.client, Case.description, Case.metrics, Case.metrics_norm)
_KB_COLUMNS = (KBArticle.id, KBArticle.ref, KBArticle.title, KBArticle.body, KBArticle.category, KBArticle.tags)


def load_docs(session: Session, settings: Settings) -> list[Doc]:
    """Rows, not ORM objects: 100k records must not fill the caller's session."""
    docs: list[Doc] = []
    opts = {"yield_per": _READ_BATCH}
    for row in session.execute(select(*_CASE_COLUMNS).order_by(Case.id).execution_options(**opts)):
        docs.append(case_doc(row))  # type: ignore[arg-type]
    for row in session.execute(select(*_KB_COLUMNS).order_by(KBArticle.id).execution_options(**opts)):
        docs.append(kb_doc(row, settings.search_chunk_chars, settings.search_chunk_overlap))  # type: ignore[arg-type]
    return docs


def _planned(docs: list[Doc]) -> dict[ChunkKey, tuple[str, str]]:
    """Every chunk wanted: key → (text, content hash)."""
    wanted: dict[ChunkKey, tuple[str, str]] = {}
    for doc in docs:
        for i, text in enumerate(doc.chunks[:MAX_CHUNKS]):
            wanted[(doc.entity_type, doc.entity_id, i)] = (text, content_hash(text))
    return wanted


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _vec_bytes(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def _stored_vectors(session: Session, model: str, dim: int, hashes: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for batch in _batches(hashes, 500):
        stmt = select(EmbeddingRecord.content_hash, EmbeddingRecord.vector).where(
            EmbeddingRecord.model == model, EmbeddingRecord.dim == dim, EmbeddingRecord.content_hash.in_(batch))
        for h, vec in session.execute(stmt):
            found.setdefault(h, vec)
    return found


def sync(session: Session, settings: Settings | None = None, *, embedder: Embedder | None = None,
         progress: Progress | None = None, full: bool = False) -> SyncReport:
    """Bring embedding records, vector indexes and the lexical index up to date; the caller commits.

    ``full`` rebuilds the vector indexes from the stored records instead of updating them (what
    ``crmbot index rebuild`` does); unchanged content is still never embedded again.
    """
    settings = settings or get_settings()
    emb = _embedder(settings, embedder)
    started = time.perf_counter()
    report = SyncReport(model=emb.name)
    with _lock:
        t0 = time.perf_counter()
        fp = fingerprint(session, settings, emb.name)
        docs = load_docs(session, settings)
        wanted = _planned(docs)
        report.documents, report.chunks = len(docs), len(wanted)
        report.timings["read"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        existing: dict[ChunkKey, tuple[int, str, int]] = {}
        stmt = select(EmbeddingRecord.id, EmbeddingRecord.entity_type, EmbeddingRecord.entity_id,
                      EmbeddingRecord.chunk, EmbeddingRecord.content_hash, EmbeddingRecord.dim).where(
            EmbeddingRecord.model == emb.name)
        for rid, etype, eid, chunk, h, dim in session.execute(stmt):
            existing[(etype, eid, chunk)] = (rid, h, dim)
        todo = [key for key, (_, h) in wanted.items()
                if key not in existing or existing[key][1] != h or existing[key][2] != emb.dim]
        stale = [key for key in existing if key not in wanted]
        report.unchanged = len(wanted) - len(todo)
        report.timings["plan"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        fresh = _embed_and_store(session, emb, settings, wanted, existing, todo, report, progress)
        for batch in _batches([existing[key][0] for key in stale], 500):
            session.execute(delete(EmbeddingRecord).where(EmbeddingRecord.id.in_(batch)))
        report.removed = len(stale)
        session.flush()
        report.timings["embed+store"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        directory = index_dir(session, settings, emb.name)
        base = None if full else (_cache.get(directory) or KnowledgeIndex.load(directory))
        dense = _update_dense(session, emb, base, wanted, fresh, report, settings)
        report.timings["vectors"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if progress:
            progress("lexical", 0, 1)
        index = KnowledgeIndex.build(docs, dense, emb.name, emb.dim, lexical_config(settings), fp, base=base)
        index.save(directory)
        _cache[directory] = index
        _checked[directory] = time.monotonic()
        if progress:
            progress("lexical", 1, 1)
        report.timings["lexical+save"] = time.perf_counter() - t0
    report.seconds = time.perf_counter() - started
    return report


def _embed_and_store(session: Session, emb: Embedder, settings: Settings, wanted: dict[ChunkKey, tuple[str, str]],
                     existing: dict[ChunkKey, tuple[int, str, int]], todo: list[ChunkKey], report: SyncReport,
                     progress: Progress | None) -> dict[ChunkKey, np.ndarray]:
    """Vectors for ``todo`` (copied when the same content is stored, else computed), written to the DB."""
    fresh: dict[ChunkKey, np.ndarray] = {}
    if not todo:
        return fresh
    stored = _stored_vectors(session, emb.name, emb.dim, list({wanted[k][1] for k in todo}))
    by_hash: dict[str, np.ndarray] = {h: np.frombuffer(v, dtype=np.float32) for h, v in stored.items()}
    need: dict[str, str] = {}  # hash → text, each distinct text embedded once
    for key in todo:
        text, h = wanted[key]
        if h not in by_hash:
            need.setdefault(h, text)
    total = len(need)
    if progress:
        progress("embed", 0, total)
    done = 0
    pending = list(need.items())
    batch_size = settings.search_embed_batch
    for batch in _batches(pending, batch_size):
        vectors = np.asarray(emb.encode([t for _, t in batch], kind="passage", batch_size=batch_size),
                             dtype=np.float32)
        for (h, _), vec in zip(batch, vectors, strict=True):
            by_hash[h] = vec
        done += len(batch)
        if progress:
            progress("embed", done, total)
    report.embedded = total
    report.copied = len(todo) - total
    inserts, updates = [], []
    for key in todo:
        text, h = wanted[key]
        vec = by_hash[h]
        fresh[key] = vec
        row = {"content_hash": h, "dim": emb.dim, "vector": _vec_bytes(vec)}
        if key in existing:
            updates.append({"id": existing[key][0], **row})
        else:
            inserts.append({"entity_type": key[0], "entity_id": key[1], "chunk": key[2], "model": emb.name, **row})
    for batch in _batches(inserts, 1000):
        session.execute(insert(EmbeddingRecord), batch)
    for batch in _batches(updates, 1000):
        session.execute(update(EmbeddingRecord), batch)
    return fresh


def _update_dense(session: Session, emb: Embedder, base: KnowledgeIndex | None,
                  wanted: dict[ChunkKey, tuple[str, str]], fresh: dict[ChunkKey, np.ndarray],
                  report: SyncReport, settings: Settings) -> dict[EntityType, DenseIndex]:
    """Each collection's vector index: the base one updated where content differs, else rebuilt."""
    dense: dict[EntityType, DenseIndex] = {}
    for name in COLLECTIONS:
        want = {vector_id(k[1], k[2]): (k, hash_key(h)) for k, (_, h) in wanted.items() if k[0] == name}
        current = base.dense.get(name) if base is not None and base.model == emb.name and base.dim == emb.dim else None
        if current is not None:
            gone = [vid for vid in current.hashes if vid not in want]
            changed = [vid for vid, (_, h) in want.items() if current.hashes.get(vid) != h]
            vectors = _vectors(session, emb, [want[vid][0] for vid in changed], wanted, fresh)
            if all(v is not None for v in vectors):
                current.remove(np.array(gone, dtype=np.int64))
                if changed:
                    current.upsert(np.array(changed, dtype=np.int64), np.stack(vectors),  # type: ignore[arg-type]
                                   [want[vid][1] for vid in changed])
                if len(current) == len(want):
                    dense[name] = current
                    continue
        report.rebuilt = True
        dense[name] = _dense_from_records(session, emb, name, wanted, settings)
    return dense


def _vectors(session: Session, emb: Embedder, keys: list[ChunkKey], wanted: dict[ChunkKey, tuple[str, str]],
             fresh: dict[ChunkKey, np.ndarray]) -> list[np.ndarray | None]:
    """Vectors for ``keys``: just computed, else stored under the same content hash."""
    missing = list({wanted[k][1] for k in keys if k not in fresh})
    stored = _stored_vectors(session, emb.name, emb.dim, missing) if missing else {}
    out: list[np.ndarray | None] = []
    for k in keys:
        if k in fresh:
            out.append(fresh[k])
        else:
            blob = stored.get(wanted[k][1])
            out.append(np.frombuffer(blob, dtype=np.float32) if blob is not None else None)
    return out


def _dense_from_records(session: Session, emb: Embedder, name: EntityType,
                        wanted: dict[ChunkKey, tuple[str, str]], settings: Settings) -> DenseIndex:
    """Rebuild one collection's vector index from the stored embedding records."""
    ids: list[int] = []
    hashes: list[int] = []
    vectors: list[np.ndarray] = []
    stmt = select(EmbeddingRecord.entity_id, EmbeddingRecord.chunk, EmbeddingRecord.content_hash,
                  EmbeddingRecord.vector).where(EmbeddingRecord.model == emb.name, EmbeddingRecord.entity_type == name,
                                                EmbeddingRecord.dim == emb.dim)
    for eid, chunk, h, vec in session.execute(stmt.execution_options(yield_per=_READ_BATCH)):
        planned = wanted.get((name, eid, chunk))
        if planned is not None and planned[1] == h:
            ids.append(vector_id(eid, chunk))
            hashes.append(hash_key(h))
            vectors.append(np.frombuffer(vec, dtype=np.float32))
    matrix = np.stack(vectors) if vectors else np.zeros((0, emb.dim), dtype=np.float32)
    index = VectorIndex(emb.dim, approx_threshold=settings.vector_approx_threshold, nprobe=settings.vector_nprobe)
    return DenseIndex.build(emb.dim, np.array(ids, dtype=np.int64), matrix, hashes, index)


def current_index(session: Session, settings: Settings | None = None, *,
                  embedder: Embedder | None = None) -> KnowledgeIndex:
    """The index for this database, synced first if the indexed tables changed since it was built.

    The database is asked at most every ``search_index_check_seconds``; ``sync`` in this process
    refreshes the cache at once. While another thread syncs, searches keep using the current index.
    """
    settings = settings or get_settings()
    emb = _embedder(settings, embedder)
    directory = index_dir(session, settings, emb.name)
    index = _cache.get(directory)
    if index is not None and time.monotonic() - _checked.get(directory, 0.0) < settings.search_index_check_seconds:
        return index
    if index is not None and settings.search_index_check_seconds > 0:
        # Due for a check: serve the index we have and check in the background. Asking the database
        # (max(updated_at) over both tables) took 80 ms at 100k records, inside someone's query.
        _checked[directory] = time.monotonic()
        engine = session.get_bind()
        threading.Thread(target=_check_in_background, args=(engine, settings, emb), daemon=True,
                         name="crmbot-index-check").start()
        return index
    return _check(session, settings, emb, directory, index)


def _check_in_background(engine: Any, settings: Settings, emb: Embedder) -> None:
    try:
        with Session(engine) as session, session.begin():  # a sync it starts commits its records
            _check(session, settings, emb, index_dir(session, settings, emb.name), None, wait=False)
    except Exception:  # the next check tries again; searches keep the index they have
        log.exception("background index check failed")


def _check(session: Session, settings: Settings, emb: Embedder, directory: Path, index: KnowledgeIndex | None,
           *, wait: bool | None = None) -> KnowledgeIndex:
    if not _lock.acquire(blocking=index is None if wait is None else wait):
        return index  # type: ignore[return-value]  # a sync is running: serve what we have
    try:
        index = _cache.get(directory)
        fp = fingerprint(session, settings, emb.name)
        if index is None:
            index = KnowledgeIndex.load(directory)
        if index is not None and index.fingerprint == fp:
            _cache[directory] = index
            _checked[directory] = time.monotonic()
            return index
        sync(session, settings, embedder=emb)
        return _cache[directory]
    finally:
        _lock.release()


def forget() -> None:
    """Drop the in-process cache (tests; after the data directory was replaced)."""
    with _lock:
        _cache.clear()
        _checked.clear()
