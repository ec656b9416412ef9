"""What every embedder promises: unit-length float32 rows, queries and passages told apart."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


class EmbedderError(RuntimeError):
    """The configured embedder cannot be used (missing model directory, missing package)."""


@runtime_checkable
class Embedder(Protocol):
    name: str  # stored with every embedding record: a new name means everything is re-embedded
    dim: int

    def encode(self, texts: list[str], kind: Kind = "query", batch_size: int = 32) -> np.ndarray: ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def check_kind(kind: str) -> None:
    if kind not in ("query", "passage"):
        raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
