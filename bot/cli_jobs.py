"""`crmbot jobs run [--once] [--now ISO] [--job NAME]…` (registered on the main app by ``register``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

JOBS_HELP = "churn_risk, digest, overdue_tasks, due_soon, stale_followups, payments, ticket_sla"


def jobs_run(
    once: Annotated[bool, typer.Option("--once", help="把（选定的）每个任务立即运行一次后退出；不加则按时间表常驻运行")] = False,
    now: Annotated[str | None, typer.Option("--now", help="以此时刻运行（ISO 8601，如 2026-12-02T09:00:00+08:00），仅与 --once 一起用")] = None,
    job: Annotated[list[str] | None, typer.Option("--job", help=f"只运行这些任务（可重复）：{JOBS_HELP}")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="每个任务输出一行 JSON")] = False,
) -> None:
    """运行定时提醒任务：逾期任务、即将到期、商机跟进、回款、工单超时、流失风险、每日提醒。

    同一提醒（任务、对象、周期）只推送一次：重复运行不会重复推送；多个进程同时运行时由数据库租约和推送台账保证只推一次。"""
    from bot import cli as base
    from bot.jobs import JOB_ORDER, JobRunner
    from bot.scheduler import JobScheduler

    settings = base._settings()
    if now and not once:
        base.err.print("[red]--now 只能与 --once 一起使用（常驻运行按真实时间触发）。[/red]")
        raise typer.Exit(2)
    unknown = [j for j in job or [] if j not in JOB_ORDER]
    if unknown:
        base.err.print(f"[red]未知任务 {', '.join(unknown)}；可选：{JOBS_HELP}[/red]")
        raise typer.Exit(2)
    db = base._db()
    if not once:
        scheduler = JobScheduler(db, settings)
        for name, at in scheduler.next_runs().items():
            base.out.print(f"{name:>16}: {'下次 ' + at.strftime('%Y-%m-%d %H:%M') if at else '未启用'}", markup=False)
        base.out.print("定时任务已启动（Ctrl-C 退出）。", markup=False)
        scheduler.run_forever()
        return
    moment = base._parse_now(now, settings)
    results = JobRunner(db, settings).run(job or None, now=moment)
    for result in results:
        if as_json:
            print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
        else:
            base.out.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `jobs run` to the `crmbot` app."""
    jobs_app = typer.Typer(help="定时提醒任务", no_args_is_help=True)
    jobs_app.command("run")(jobs_run)
    app.add_typer(jobs_app, name="jobs")
