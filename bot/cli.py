"""`crmbot` — the command line (see DESIGN.md, "Command line")."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config import Settings, SettingsError, get_settings
from crm_core.db import Database

app = typer.Typer(help="客户助手 crmbot：企业微信/钉钉里的广告公司 CRM。", no_args_is_help=True, add_completion=False)
staff_app = typer.Typer(help="员工账号管理", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
err = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _db(require_schema: bool = True) -> Database:
    from crm_core.schema import current_revision, head_revision

    db = Database.from_settings(_settings())
    if require_schema and current_revision(db) != head_revision(db):
        err.print("[red]数据库尚未初始化或版本过旧，请先运行 `crmbot init`（或 `crmbot demo` 载入演示数据）。[/red]")
        raise typer.Exit(2)
    return db


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False, disable=not err.is_terminal)


def _parse_now(value: str | None, settings: Settings) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--now 需要 ISO 8601 时间，例如 2026-11-25T10:00:00+08:00，收到 {value!r}[/red]")
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)


@app.command()
def init() -> None:
    """创建或升级数据库结构（Alembic）；已是最新时不做任何改动。"""
    from crm_core.schema import upgrade

    db = _db(require_schema=False)
    before, after = upgrade(db)
    if before == after:
        out.print(f"数据库已是最新版本（{after}），无需升级。")
    else:
        out.print(f"数据库已升级：{before or '空库'} → {after}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="JSON Lines / CSV 文件，或 kb 的 Markdown 目录")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="数据类型，如 customers、tasks、kb")],
) -> None:
    """导入数据：同一 ref 再次导入会更新而不是重复；坏行报告 文件:行号 并继续导入其他行。"""
    from crm_core.actor import Actor
    from crm_core.importing.service import KINDS, import_path

    if kind not in KINDS:
        err.print(f"[red]未知类型 {kind}，可选：{'、'.join(KINDS)}[/red]")
        raise typer.Exit(2)
    if not path.exists():
        err.print(f"[red]文件不存在：{path}[/red]")
        raise typer.Exit(2)
    db = _db()
    with _progress() as progress:
        task = progress.add_task(f"导入 {kind}", total=None)
        report = import_path(db, path, kind, Actor.system(channel="import", name="import"),
                             progress=lambda n: progress.advance(task, n))
    for line in report.errors:
        err.print(line, markup=False, highlight=False, soft_wrap=True)  # file:line: reason stays one line
    out.print(f"{kind}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，失败 {report.failed}")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def demo(
    today: Annotated[str | None, typer.Option(help="演示数据的基准日期（默认今天），YYYY-MM-DD")] = None,
) -> None:
    """载入一家演示广告公司（幂等：重复运行不会产生任何改动）。"""
    from datetime import date

    from crm_core.demo.loader import load_demo
    from crm_core.schema import upgrade

    settings = _settings()
    db = _db(require_schema=False)
    upgrade(db)
    base = date.fromisoformat(today) if today else datetime.now(settings.tz).date()
    with _progress() as progress:
        reports = load_demo(db, base, progress=progress)
    failed = 0
    for kind, report in reports.items():
        failed += report.failed
        for line in report.errors:
            err.print(line, markup=False, highlight=False, soft_wrap=True)  # file:line: reason stays one line
        out.print(f"{kind:>14}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，失败 {report.failed}")
    if failed:
        raise typer.Exit(1)
    from bot.cli_knowledge import sync_index

    sync_index(settings, db, full=False)
    out.print("演示数据已就绪。试试：crmbot chat --as demo_am \"/帮助\"")


def _chat_one(db: Database, settings: Settings, text: str, sender: str | None, chat: str | None, external: bool,
              now: datetime | None) -> dict[str, Any]:
    from bot.channels.console import send

    reply = send(db, text, sender=sender, chat=chat, external=external, now=now, settings=settings)
    return {"reply": reply.plain(), "intent": reply.intent, "slots": reply.slots, "actions": reply.actions}


@app.command()
def chat(
    text: Annotated[str, typer.Argument(help="要发送的消息；用 - 从标准输入逐行读取")],
    as_: Annotated[str | None, typer.Option("--as", help="发送者的企业微信 userid")] = None,
    chat_id: Annotated[str | None, typer.Option("--chat", help="会话 id（群聊）")] = None,
    external: Annotated[bool, typer.Option("--external", help="以外部客户身份发送")] = False,
    now: Annotated[str | None, typer.Option(help="消息时间 ISO 8601，相对日期据此计算")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON：reply/intent/slots/actions")] = False,
) -> None:
    """通过控制台渠道给机器人发一条消息并打印回复。"""
    settings = _settings()
    db = _db()
    moment = _parse_now(now, settings)
    if text != "-":
        result = _chat_one(db, settings, text, as_, chat_id, external, moment)
        out.print(json.dumps(result, ensure_ascii=False) if as_json else result["reply"], markup=False,
                  highlight=False, soft_wrap=True)
        return
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        opts: dict[str, Any] = {}
        if line.startswith("{"):
            try:
                opts = json.loads(line)
            except json.JSONDecodeError as exc:
                err.print(f"无法解析的 JSON 行：{exc}", markup=False)
                continue
            line = str(opts.get("text", ""))
        result = _chat_one(db, settings, line, opts.get("as", as_), opts.get("chat", chat_id),
                           bool(opts.get("external", external)),
                           _parse_now(opts.get("now"), settings) if opts.get("now") else moment)
        if as_json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            print(result["reply"] + "\n", flush=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址")] = None,
    port: Annotated[int | None, typer.Option(help="端口")] = None,
    workers: Annotated[int | None, typer.Option(help="服务进程数（默认取设置 SERVE_WORKERS，1）", min=1, max=64)] = None,
) -> None:
    """启动 HTTP 服务：企业微信/钉钉回调、网页控制台 /console、/healthz，并在后台投递发件箱。"""
    from bot import serving
    from bot.app import create_app

    settings = _settings()
    db = _db()
    processes = workers or settings.serve_workers
    if processes > 1:  # each process builds its app from the same settings (the environment)
        db.dispose()
        serving.run(None, factory="bot.app:app_from_settings", workers=processes, host=host or settings.host,
                    port=port or settings.port)
        return
    serving.run(create_app(settings, db), host=host or settings.host, port=port or settings.port)


@staff_app.command("bind")
def staff_bind(
    staff_ref: Annotated[str, typer.Argument(help="员工编号（ref）")],
    wecom: Annotated[str | None, typer.Option(help="企业微信 userid")] = None,
    dingtalk: Annotated[str | None, typer.Option(help="钉钉 staffId")] = None,
) -> None:
    """把企业微信/钉钉账号绑定到员工档案（管理员操作）。"""
    from crm_core.actor import Actor
    from crm_core.errors import CrmError
    from crm_core.services.identity import bind_staff

    if not (wecom or dingtalk):
        err.print("[red]请至少提供 --wecom 或 --dingtalk[/red]")
        raise typer.Exit(2)
    db = _db()
    actor = Actor.system(channel="cli", name="admin-cli")
    try:
        with db.unit_of_work() as session:
            for channel, uid in (("wecom", wecom), ("dingtalk", dingtalk)):
                if uid:
                    staff = bind_staff(session, actor, staff_ref, channel, uid)
                    out.print(f"已绑定：{staff.name}（{staff.ref}）← {channel} {uid}")
    except CrmError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


# Sub-command groups that live in their own modules (they import this one, so they register last).
from bot import cli_knowledge  # noqa: E402

cli_knowledge.register(app)
from bot import cli_outbox  # noqa: E402

cli_outbox.register(app)
from bot import cli_jobs  # noqa: E402

cli_jobs.register(app)
