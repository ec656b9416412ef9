"""What gets indexed for a case or a KB article: one lexical text and a few chunks to embed.

Chunk 0 of every record is a short "card" (the title and its labels); the following chunks carry
the title plus a slice of the body, so a long article is found by the passage that answers and
a short record by its title alike. Measured: a record's best chunk (max over chunks) ranks better
than one vector for the whole text (docs/benchmarks.md, "Retrieval").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from crm_core.models import Case, KBArticle

EntityType = Literal["case", "kb"]
COLLECTIONS: tuple[EntityType, ...] = ("case", "kb")
# Bump when the way text is assembled changes: every chunk hash changes and is re-embedded once.
TEXT_VERSION = "1"
_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", "、", " ", ""]


@dataclass(frozen=True)
class Doc:
    entity_type: EntityType
    entity_id: int
    ref: str | None
    title: str
    text: str  # the lexical text: everything searchable
    chunks: tuple[str, ...]  # the texts embedded, in chunk order
    attrs: dict[str, Any]  # case structure for filters (industry, format, channels, year, metrics_norm)

    @property
    def key(self) -> str:
        return doc_key(self.entity_type, self.entity_id)


def doc_key(entity_type: str, entity_id: int) -> str:
    return f"{entity_type}:{entity_id}"


def parse_key(key: str) -> tuple[EntityType, int]:
    kind, _, ident = key.partition(":")
    return kind, int(ident)  # type: ignore[return-value]


def content_hash(text: str) -> str:
    return hashlib.sha256(f"{TEXT_VERSION}\x00{text}".encode()).hexdigest()


def doc_hash(doc: Doc) -> str:
    """Changes whenever anything the lexical index or the case filters read changes."""
    attrs = json.dumps(doc.attrs, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(f"{TEXT_VERSION}\x00{doc.ref}\x00{doc.title}\x00{doc.text}\x00{attrs}".encode()).hexdigest()


@cache
def _splitter(size: int, overlap: int) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, separators=_SEPARATORS,
                                          keep_separator="end", strip_whitespace=True)


def split_body(body: str, size: int = 300, overlap: int = 50) -> list[str]:
    """Chinese-aware chunks of at most ``size`` characters, cut at paragraph, sentence, then clause ends."""
    body = body.strip()
    if len(body) <= size:
        return [body] if body else []
    return [c for c in _splitter(size, min(overlap, size // 2)).split_text(body) if c.strip()]


def _metrics_line(metrics: dict[str, Any] | None) -> str:
    return "；".join(f"{k} {v}" for k, v in (metrics or {}).items())


def case_doc(case: Case) -> Doc:
    labels = " · ".join(filter(None, [case.industry, case.format, "、".join(case.channels or []),
                                      str(case.year) if case.year else None]))
    card = f"{case.title}\n{labels}" if labels else case.title
    lines = [case.title, labels, case.period or "", case.client or "", case.description or "",
             _metrics_line(case.metrics)]
    full = "\n".join(line for line in lines if line)
    attrs = {"industry": case.industry, "format": case.format, "channels": list(case.channels or []),
             "year": case.year, "period": case.period, "description": case.description, "client": case.client,
             "metrics_norm": dict(case.metrics_norm or {})}
    return Doc("case", case.id, case.ref, case.title, full, (card, full), attrs)


def kb_doc(article: KBArticle, size: int = 300, overlap: int = 50) -> Doc:
    labels = " · ".join(filter(None, [article.category, *(article.tags or [])]))
    card = f"{article.title}\n{labels}" if labels else article.title
    passages = split_body(article.body or "", size, overlap)
    chunks = (card, *(f"{article.title}\n{p}" for p in passages))
    text = "\n".join(filter(None, [article.title, labels, article.body]))
    return Doc("kb", article.id, article.ref, article.title, text, chunks, {})
