"""LangChain ``Embeddings`` over the project's embedder, so LangChain components reuse the same vectors."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from embeddings.base import Embedder


class LangChainEmbeddings(Embeddings):
    def __init__(self, embedder: Embedder, batch_size: int = 32) -> None:
        self.embedder, self.batch_size = embedder, batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts), kind="passage", batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode([text], kind="query")[0].tolist()
