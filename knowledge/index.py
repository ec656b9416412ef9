"""The in-memory search index: document table, BM25, one vector index per collection, case structure.

Everything here is derived from the database (records and their EmbeddingRecords) and can be thrown
away: ``knowledge.indexing`` builds, updates and persists it under ``settings.data_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.case_query import Facet, case_facets, case_year
from knowledge.dense import DenseIndex
from knowledge.documents import COLLECTIONS, Doc, EntityType, doc_hash, parse_key
from knowledge.lexical import BM25Index
from knowledge.text import tokens

FORMAT_VERSION = 1


@dataclass
class CaseTable:
    """Filterable case structure over document positions (non-case positions never match)."""

    facets: dict[tuple[Facet, str], np.ndarray] = field(default_factory=dict)  # → bool mask
    years: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # 0 = unknown
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # → float64, NaN = unknown


@dataclass
class LexicalConfig:
    scheme: str
    pinyin: bool
    k1: float
    b: float

    def tokens(self, text: str) -> list[str]:
        return tokens(text, self.scheme, pinyin=self.pinyin)


@dataclass
class KnowledgeIndex:
    model: str
    dim: int
    keys: list[str]
    refs: list[str | None]
    titles: list[str]
    types: np.ndarray  # uint8 index into COLLECTIONS
    lexical: BM25Index
    lexical_config: LexicalConfig
    dense: dict[EntityType, DenseIndex]
    cases: CaseTable
    fingerprint: dict[str, Any]
    case_info: dict[int, dict[str, Any]] = field(default_factory=dict)  # position → stored facets/metrics
    hashes: list[str] = field(default_factory=list)  # per position: what the lexical/structure side saw

    def __post_init__(self) -> None:
        self.position = {k: i for i, k in enumerate(self.keys)}
        self.entity_ids = np.fromiter((int(k.rpartition(":")[2]) for k in self.keys), dtype=np.int64,
                                      count=len(self.keys))
        self._position_of: dict[EntityType, np.ndarray] = {}

    def positions_of(self, collection: EntityType, entities: np.ndarray) -> np.ndarray:
        """Document positions of these entity ids of one collection (-1 where the index has none)."""
        table = self._position_of.get(collection)
        if table is None:
            mine = np.flatnonzero(self.mask(collection))
            ids = self.entity_ids[mine]
            table = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, dtype=np.int64)
            table[ids] = mine
            self._position_of[collection] = table
        entities = np.asarray(entities, dtype=np.int64)
        inside = (entities >= 0) & (entities < len(table))
        out = np.full(len(entities), -1, dtype=np.int64)
        out[inside] = table[entities[inside]]
        return out

    def __len__(self) -> int:
        return len(self.keys)

    def mask(self, collection: EntityType | None) -> np.ndarray:
        if collection is None:
            return np.ones(len(self.keys), dtype=bool)
        return self.types == COLLECTIONS.index(collection)

    def memory_bytes(self) -> dict[str, int]:
        table = sum(m.nbytes for m in self.cases.facets.values()) + self.cases.years.nbytes + sum(
            m.nbytes for m in self.cases.metrics.values()) + self.types.nbytes
        return {"lexical": self.lexical.memory_bytes(), "dense": sum(d.memory_bytes() for d in self.dense.values()),
                "table": int(table)}

    # building --------------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: list[Doc], dense: dict[EntityType, DenseIndex], model: str, dim: int,
              lexical_config: LexicalConfig, fingerprint: dict[str, Any],
              base: KnowledgeIndex | None = None) -> KnowledgeIndex:
        """Index ``docs``; with ``base``, only documents whose text or structure changed are re-analysed."""
        hashes = {d.key: doc_hash(d) for d in docs}
        reuse = base is not None and base.lexical_config == lexical_config
        old_hash = dict(zip(base.keys, base.hashes, strict=True)) if reuse and base else {}
        changed = [d for d in docs if old_hash.get(d.key) != hashes[d.key]]
        if reuse and base is not None:
            gone = {k for k in base.keys if k not in hashes}
            lexical = base.lexical.update(((d.key, lexical_config.tokens(d.text)) for d in changed), gone)
        else:
            lexical = BM25Index.build(((d.key, lexical_config.tokens(d.text)) for d in docs),
                                      lexical_config.k1, lexical_config.b)
        by_key = {d.key: d for d in docs}
        ordered = [by_key[k] for k in lexical.keys]
        fresh = {d.key for d in changed}
        old_info = ({base.keys[p]: info for p, info in base.case_info.items()} if reuse and base else {})
        case_info: dict[int, dict[str, Any]] = {}
        for i, d in enumerate(ordered):
            if d.entity_type != "case":
                continue
            if d.key in old_info and d.key not in fresh:
                case_info[i] = old_info[d.key]
                continue
            a = d.attrs
            facets = case_facets(a.get("industry"), a.get("format"), a.get("channels"), d.title,
                                 a.get("description"), a.get("client"))
            case_info[i] = {"facets": sorted(facets), "year": case_year(a.get("year"), a.get("period")),
                            "metrics": a.get("metrics_norm") or {}}
        return cls(model=model, dim=dim, keys=list(lexical.keys), refs=[d.ref for d in ordered],
                   titles=[d.title for d in ordered],
                   types=np.array([COLLECTIONS.index(d.entity_type) for d in ordered], dtype=np.uint8),
                   lexical=lexical, lexical_config=lexical_config, dense=dense,
                   cases=_case_table(len(ordered), case_info), fingerprint=fingerprint, case_info=case_info,
                   hashes=[hashes[k] for k in lexical.keys])

    # persistence -----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write atomically: a reader sees the old index or the new one, never half of each."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            self.lexical.save(tmp / "lexical")
            for name, index in self.dense.items():
                index.save(tmp / f"dense-{name}")
            table = {"keys": self.keys, "refs": self.refs, "titles": self.titles, "hashes": self.hashes,
                     "cases": {str(pos): info for pos, info in self.case_info.items()}}
            (tmp / "docs.json").write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
            manifest = {"format": FORMAT_VERSION, "model": self.model, "dim": self.dim,
                        "lexical": self.lexical_config.__dict__, "fingerprint": self.fingerprint,
                        "documents": len(self.keys)}
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def read_manifest(directory: Path) -> dict[str, Any] | None:
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return manifest if manifest.get("format") == FORMAT_VERSION else None

    @classmethod
    def load(cls, directory: Path) -> KnowledgeIndex | None:
        """The persisted index, or None when there is none (or it is unreadable: it will be rebuilt)."""
        manifest = cls.read_manifest(directory)
        if manifest is None:
            return None
        try:
            table = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
            lexical = BM25Index.load(directory / "lexical")
            dense = {name: DenseIndex.load(directory / f"dense-{name}", manifest["dim"]) for name in COLLECTIONS}
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        keys = table["keys"]
        case_info = {int(pos): info for pos, info in table["cases"].items()}
        for info in case_info.values():
            info["facets"] = [tuple(f) for f in info["facets"]]
        types = np.array([COLLECTIONS.index(parse_key(k)[0]) for k in keys], dtype=np.uint8)
        return cls(model=manifest["model"], dim=manifest["dim"], keys=keys, refs=table["refs"],
                   titles=table["titles"], types=types, lexical=lexical,
                   lexical_config=LexicalConfig(**manifest["lexical"]), dense=dense,
                   cases=_case_table(len(keys), case_info), fingerprint=manifest["fingerprint"],
                   case_info=case_info, hashes=table["hashes"])


def _case_table(n: int, case_info: dict[int, dict[str, Any]]) -> CaseTable:
    table = CaseTable(years=np.zeros(n, dtype=np.int32))
    for pos, info in case_info.items():
        for facet in info["facets"]:
            key = (facet[0], facet[1])
            if key not in table.facets:
                table.facets[key] = np.zeros(n, dtype=bool)
            table.facets[key][pos] = True
        table.years[pos] = info.get("year") or 0
        for metric, value in (info.get("metrics") or {}).items():
            if isinstance(value, int | float):
                if metric not in table.metrics:
                    table.metrics[metric] = np.full(n, np.nan)
                table.metrics[metric][pos] = float(value)
    return table


def positions(index: KnowledgeIndex, keys: Iterable[str]) -> list[int]:
    return [p for k in keys if (p := index.position.get(k)) is not None]
