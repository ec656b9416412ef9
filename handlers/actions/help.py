"""What the bot can do for this sender: the commands their role may use, with examples."""

from __future__ import annotations

from pydantic import Field

from handlers.actions.base import ACTIONS, Args, action
from handlers.registry import Context, registry
from handlers.reply import Heading, ListBlock, Paragraph, Reply


class HelpArgs(Args):
    topic: str | None = Field(default=None, description="命令名，如「任务」")


def usable_commands(ctx: Context) -> list:  # type: ignore[type-arg]
    out = []
    for cmd in registry.all():
        act = ACTIONS.get(cmd.intent)
        if act is None or act.allowed(ctx.actor):
            out.append(cmd)
    return out


@action("help", title="帮助", summary="我能做什么，或某个命令的用法", args=HelpArgs, external=True)
def help_reply(ctx: Context, args: HelpArgs) -> Reply:
    topic = (args.topic or "").strip().lstrip("/／")
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
        act = ACTIONS.get(cmd.intent)
        if act is not None and not act.allowed(ctx.actor):
            reply.add(Paragraph(text="（你的角色暂时不能使用这个命令。）", tone="comment"))
        return reply
    reply = Reply(intent="help").add(Heading(text="客户助手能帮你做这些"))
    reply.add(ListBlock(items=[f"/{c.name}（{'/'.join(c.aliases[:1]) or c.name}）— {c.summary}"
                               for c in usable_commands(ctx)]))
    if ctx.actor.kind == "staff":
        reply.add(Paragraph(text="也可以直接说中文，例如「星屿科技最近怎么样」「给张三建个任务，周五前交海报」；"
                                 "改动会先给你预览，回复「确认」才执行。", tone="comment"))
    reply.add(Paragraph(text="发送「/帮助 命令名」查看用法和示例，例如 /帮助 客户。", tone="comment"))
    return reply
