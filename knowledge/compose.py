"""Optional LLM composition of a KB answer with LangChain: from the retrieved passages only, citing them.

The extractive answer stays the default; this runs when an LLM endpoint is configured (or a chat
model is passed in, as tests do with LangChain's fake chat models). Any failure, an answer without
a valid citation, or an answer that says the material does not cover the question falls back to
the extractive answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from config import Settings

log = logging.getLogger(__name__)

SYSTEM = (
    "你是广告公司的客户服务助手。只能依据下面编号的资料回答客户的问题，不得补充资料以外的信息或编造数字。"
    "每句关键信息后用 [编号] 标注出处。资料不足以回答时，只回复：资料中没有相关信息。"
    "用简体中文，语气礼貌，控制在150字以内。"
)
NO_INFO = "资料中没有相关信息"
_CITE = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class Source:
    ref: str | None
    title: str
    passage: str


@dataclass(frozen=True)
class Composed:
    text: str
    cited: list[int]  # 0-based indexes into the sources


def chat_model(settings: Settings) -> Any | None:
    """A LangChain chat model for the configured OpenAI-compatible endpoint, or None."""
    if not settings.llm_enabled:
        return None
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        log.warning("LLM endpoint configured but langchain-openai is not installed; answering extractively")
        return None
    return ChatOpenAI(base_url=settings.llm_base_url, api_key=settings.llm_api_key or "none",  # type: ignore[arg-type]
                      model=settings.llm_model, temperature=0, timeout=20, max_retries=1)


def prompt_messages(question: str, sources: list[Source]) -> list[tuple[str, str]]:
    material = "\n\n".join(f"[{i + 1}] {s.title}\n{s.passage}" for i, s in enumerate(sources))
    return [("system", SYSTEM), ("human", f"资料：\n{material}\n\n客户问题：{question}")]


def compose(model: Any, question: str, sources: list[Source]) -> Composed | None:
    """The model's answer when it cites at least one given source; None means use the extractive one."""
    if not sources:
        return None
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_messages([("system", "{system}"), ("human", "{human}")]) | model | StrOutputParser()
    system, human = (m[1] for m in prompt_messages(question, sources))
    try:
        text = str(chain.invoke({"system": system, "human": human})).strip()
    except Exception as exc:  # the endpoint is optional: any failure means the extractive answer
        log.warning("LLM composition failed: %s", exc)
        return None
    cited = sorted({int(n) - 1 for n in _CITE.findall(text) if 1 <= int(n) <= len(sources)})
    if not text or NO_INFO in text or not cited:
        return None
    return Composed(text, cited)
