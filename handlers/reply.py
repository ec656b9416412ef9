"""One channel-neutral reply; each channel renders it in its own dialect (see bot/)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Tone = Literal["info", "comment", "warning"]


class Heading(BaseModel):
    kind: Literal["heading"] = "heading"
    text: str


class Paragraph(BaseModel):
    kind: Literal["paragraph"] = "paragraph"
    text: str
    tone: Tone | None = None


class Fields(BaseModel):
    """Label/value pairs, e.g. 级别: 战略级."""

    kind: Literal["fields"] = "fields"
    pairs: list[tuple[str, str]]


class ListBlock(BaseModel):
    kind: Literal["list"] = "list"
    items: list[str]
    ordered: bool = False
    title: str | None = None


Block = Heading | Paragraph | Fields | ListBlock


class Reply(BaseModel):
    blocks: list[Block] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)  # messenger user ids to @
    intent: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    actions: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def text(cls, text: str, tone: Tone | None = None, **kw: Any) -> Reply:
        return cls(blocks=[Paragraph(text=text, tone=tone)], **kw)

    def add(self, block: Block) -> Reply:
        self.blocks.append(block)
        return self

    def plain(self) -> str:
        """Plain-text rendering (console, tests, and the base for every channel dialect)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Heading):
                out.append(f"【{b.text}】")
            elif isinstance(b, Paragraph):
                out.append(b.text)
            elif isinstance(b, Fields):
                out.extend(f"{label}：{value}" for label, value in b.pairs)
            else:
                if b.title:
                    out.append(b.title)
                out.extend(f"{i}. {item}" if b.ordered else f"· {item}" for i, item in enumerate(b.items, 1))
        return "\n".join(out)
