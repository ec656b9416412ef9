"""/帮助: what the bot can do, or how to use one command."""

from __future__ import annotations

from handlers.registry import Context, registry
from handlers.reply import Heading, ListBlock, Paragraph, Reply


@registry.command("帮助", intent="help", summary="查看我能做什么，或某个命令的用法", aliases=("help", "h", "?", "？"),
                  usage="/帮助 [命令]", examples=("/帮助", "/帮助 客户"))
def help_command(ctx: Context, args: str) -> Reply:
    topic = args.strip().lstrip("/／")
    if topic:
        cmd = registry.get(topic)
        if cmd is None:
            return Reply.text(f"没有「{topic}」这个命令。发送 /帮助 查看全部命令。", intent="help")
        reply = Reply(intent="help").add(Heading(text=f"/{cmd.name} — {cmd.summary}"))
        reply.add(Paragraph(text=f"用法：{cmd.usage or '/' + cmd.name}"))
        if cmd.aliases:
            reply.add(Paragraph(text="别名：" + "、".join("/" + a for a in cmd.aliases)))
        if cmd.examples:
            reply.add(ListBlock(title="示例：", items=list(cmd.examples)))
        return reply
    reply = Reply(intent="help").add(Heading(text="客户助手能帮你做这些"))
    reply.add(ListBlock(items=[f"/{c.name}（{'/'.join(c.aliases[:1]) or c.name}）— {c.summary}" for c in registry.all()]))
    reply.add(Paragraph(text="发送「/帮助 命令名」查看用法和示例，例如 /帮助 客户。", tone="comment"))
    return reply
