"""`crmbot outbox list [--failed] [--json]` and `crmbot outbox retry ID` (registered by ``register``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

MAX_TEXT = 60


def outbox_list(
    failed: Annotated[bool, typer.Option("--failed", help="只看发送失败（dead）的消息，附最后一次错误")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="每条消息输出一行 JSON")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="最多显示条数（最新的在前）")] = 200,
) -> None:
    """列出待发、已发和发送失败的消息（最新的在前）。"""
    from bot import cli as base
    from crm_core.services import outbox

    db = base._db()
    with db.unit_of_work() as session:
        rows = [outbox.as_dict(r) for r in outbox.list_messages(session, failed=failed, limit=limit)]
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return
    if not rows:
        base.out.print("没有发送失败的消息。" if failed else "发件箱是空的。", markup=False)
        return
    for row in rows:
        text = " ".join(str(row["text"]).split())
        text = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
        base.out.print(f"#{row['id']}  {row['status']}  {row['channel']} → {row['target']}  "
                       f"尝试 {row['attempts']} 次  {text}", markup=False, highlight=False, soft_wrap=True)
        if row["last_error"] and (failed or row["status"] != "sent"):
            base.out.print(f"    最后错误：{row['last_error']}", markup=False, highlight=False, soft_wrap=True)


def outbox_retry(message_id: Annotated[int, typer.Argument(help="消息编号（outbox list 中的 #ID）")]) -> None:
    """把发送失败的消息重新放回发送队列（尝试次数清零；同一回复的后续部分一并重发）。"""
    from bot import cli as base
    from crm_core.errors import CrmError
    from crm_core.services import outbox

    db = base._db()
    try:
        with db.unit_of_work() as session:
            rows = outbox.retry(session, message_id)
            ids = "、".join(f"#{r.id}" for r in rows)
    except CrmError as exc:
        base.err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    base.out.print(f"已重新排队：{ids}，发送进程会尽快投递。", markup=False)


def register(app: typer.Typer) -> None:
    """Add `outbox list` and `outbox retry` to the `crmbot` app."""
    outbox_app = typer.Typer(help="发件箱：查看与重发消息", no_args_is_help=True)
    outbox_app.command("list")(outbox_list)
    outbox_app.command("retry")(outbox_retry)
    app.add_typer(outbox_app, name="outbox")
