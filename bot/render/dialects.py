"""Render a ``Reply`` as WeCom markdown, DingTalk markdown, plain text or console HTML.

- WeCom markdown is a subset: headings, bold, links, quotes, ``<font color="info|comment|warning">``;
  no tables. Every line stands alone (a coloured paragraph is coloured line by line), so a reply can
  be split at any line boundary without breaking a tag.
- DingTalk markdown: headings, bold, lists, quotes; a line break needs a blank line or two trailing
  spaces; colour via ``<font color="#RRGGBB">``. Mentions only light up when "@id" is in the text.
- HTML (the web console) is escaped; tones become CSS classes.
"""

from __future__ import annotations

import html
from enum import StrEnum

from bot.render import limits
from bot.render.split import split_message
from handlers.reply import Block, Fields, Heading, Paragraph, Reply


class Dialect(StrEnum):
    text = "text"
    wecom_markdown = "wecom_markdown"
    dingtalk_markdown = "dingtalk_markdown"
    html = "html"


LIMITS = {
    Dialect.text: limits.WECOM_TEXT_BYTES,
    Dialect.wecom_markdown: limits.WECOM_MARKDOWN_BYTES,
    Dialect.dingtalk_markdown: limits.DINGTALK_MARKDOWN_BYTES,
}

DINGTALK_TONES = {"info": "#1E9E4A", "comment": "#8C8C8C", "warning": "#E8590C"}


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.split("\n")]


def _wecom_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [f"### {block.text}"]
    if isinstance(block, Paragraph):
        if block.tone:
            return [f'<font color="{block.tone}">{line}</font>' if line else "" for line in _lines(block.text)]
        return _lines(block.text)
    if isinstance(block, Fields):
        return [f"> **{label}**：{value}" for label, value in block.pairs]
    out = [f"**{block.title}**"] if block.title else []
    out.extend(f"{i}. {item}" if block.ordered else f"- {item}" for i, item in enumerate(block.items, 1))
    return out


def _dingtalk_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [f"### {block.text}"]
    if isinstance(block, Paragraph):
        lines = _lines(block.text)
        if block.tone:
            color = DINGTALK_TONES[block.tone]
            lines = [f'<font color="{color}">{line}</font>' if line else "" for line in lines]
        return [line + "  " if line else line for line in lines]
    if isinstance(block, Fields):
        return [f"- **{label}**：{value}" for label, value in block.pairs]
    out = [f"**{block.title}**  "] if block.title else []
    out.extend(f"{i}. {item}" if block.ordered else f"- {item}" for i, item in enumerate(block.items, 1))
    return out


def _html_block(block: Block) -> str:
    esc = html.escape
    if isinstance(block, Heading):
        return f"<h3>{esc(block.text)}</h3>"
    if isinstance(block, Paragraph):
        tone = f' class="tone-{block.tone}"' if block.tone else ""
        return f"<p{tone}>{'<br>'.join(esc(line) for line in _lines(block.text))}</p>"
    if isinstance(block, Fields):
        rows = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in block.pairs)
        return f"<dl>{rows}</dl>"
    title = f"<div class=\"list-title\">{esc(block.title)}</div>" if block.title else ""
    tag = "ol" if block.ordered else "ul"
    items = "".join(f"<li>{esc(item)}</li>" for item in block.items)
    return f"{title}<{tag}>{items}</{tag}>"


def render(reply: Reply, dialect: Dialect, *, mentions_in_text: bool = False) -> str:
    """The whole reply in one dialect (no splitting)."""
    if dialect is Dialect.html:
        return "".join(_html_block(b) for b in reply.blocks)
    if dialect is Dialect.text:
        body = reply.plain()
        if mentions_in_text and reply.mentions:
            body += "\n" + " ".join(f"@{m}" for m in reply.mentions)
        return body
    render_block = _wecom_block if dialect is Dialect.wecom_markdown else _dingtalk_block
    sections = ["\n".join(render_block(b)) for b in reply.blocks]
    joiner = "\n" if dialect is Dialect.wecom_markdown else "\n\n"
    body = joiner.join(s for s in sections if s)
    if mentions_in_text and reply.mentions:
        body += joiner + " ".join(f"@{m}" for m in reply.mentions)
    return body


def render_parts(reply: Reply, dialect: Dialect, *, limit_bytes: int | None = None,
                 mentions_in_text: bool = False) -> list[str]:
    """The reply in one dialect, split into numbered parts under the dialect's byte limit."""
    body = render(reply, dialect, mentions_in_text=mentions_in_text)
    limit = limit_bytes or LIMITS.get(dialect)
    return split_message(body, limit) if limit else [body]


def title_of(reply: Reply, fallback: str = "客户助手") -> str:
    """A short title (DingTalk markdown and cards need one; it shows in the chat list)."""
    for block in reply.blocks:
        if isinstance(block, Heading):
            return block.text[:40]
    first = reply.plain().strip().split("\n", 1)[0]
    return first[:40] or fallback
