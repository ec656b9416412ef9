"""/帮助, and /确认 /取消 for those who prefer typing a command."""

from __future__ import annotations

from handlers.commands.base import apply
from handlers.registry import Context, registry
from handlers.reply import Reply


@registry.command("帮助", intent="help", summary="命令总览，或某个命令的用法", aliases=("help", "h", "?", "？"),
                  usage="/帮助 [命令]", examples=("/帮助", "/帮助 任务"), group="常用")
def help_command(ctx: Context, args: str) -> Reply:
    return apply(ctx, "help", {"topic": args.strip()} if args.strip() else {})


@registry.command("确认", intent="confirm", summary="确认待执行的操作", aliases=("confirm", "yes"), hidden=True)
def confirm_command(ctx: Context, args: str) -> Reply:
    from handlers.conversation import answer_pending

    return answer_pending(ctx, "confirm")


@registry.command("取消", intent="cancel", summary="取消待执行的操作", aliases=("cancel", "no"), hidden=True)
def cancel_command(ctx: Context, args: str) -> Reply:
    from handlers.conversation import answer_pending

    return answer_pending(ctx, "cancel")
