"""Fixtures for knowledge tests: the shared development set imported into ``db``, a counting embedder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.importing import import_path
from knowledge import indexing
from knowledge.evaluation import EVAL_DIR


@pytest.fixture(autouse=True)
def _fresh_index_cache() -> Iterator[None]:
    indexing.forget()
    yield
    indexing.forget()


class MemoEmbedder:
    """The configured embedder with a memory: the same text is computed once per test session."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo: dict[tuple[str, str], np.ndarray] = {}

    def encode(self, texts: list[str], kind: str = "query", batch_size: int = 32) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if (kind, t) not in self.memo))
        if todo:
            for text, vec in zip(todo, self.inner.encode(todo, kind=kind, batch_size=batch_size), strict=True):
                self.memo[(kind, text)] = np.asarray(vec, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memo[(kind, t)] for t in texts])


@pytest.fixture(scope="session")
def _memo() -> MemoEmbedder:
    import embeddings

    return MemoEmbedder(embeddings.get_embedder())


@pytest.fixture(autouse=True)
def _memoised_embedder(_memo: MemoEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests recompute nothing they computed before; vectors are the model's own."""
    import embeddings

    monkeypatch.setattr(embeddings, "get_embedder", lambda settings=None: _memo)


class CountingEmbedder:
    """Wraps the configured embedder; counts passages embedded; can pose as another model."""

    def __init__(self, name: str | None = None) -> None:
        import embeddings

        self.inner = embeddings.get_embedder()
        self.name = name or self.inner.name
        self.dim = self.inner.dim
        self.passages: list[str] = []
        self.queries: list[str] = []

    def encode(self, texts: list[str], kind: str = "query", batch_size: int = 32) -> np.ndarray:
        (self.passages if kind == "passage" else self.queries).extend(texts)
        return self.inner.encode(texts, kind=kind, batch_size=batch_size)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder()


def import_eval(db: Database, kinds: tuple[str, ...] = ("cases", "kb")) -> None:
    files = {"cases": "cases.jsonl", "kb": "kb.jsonl"}
    for kind in kinds:
        report = import_path(db, EVAL_DIR / files[kind], kind, Actor.system())
        assert report.ok, report.errors


@pytest.fixture
def eval_db(db: Database) -> Database:
    """The development set's 60 articles and 40 cases, indexed."""
    import_eval(db)
    with db.unit_of_work() as session:
        indexing.sync(session)
    return db


def rows(**fields: Any) -> dict[str, Any]:
    return fields
