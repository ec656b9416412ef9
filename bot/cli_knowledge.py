"""`crmbot search cases|kb QUERY` and `crmbot index rebuild` (registered on the main app by ``register``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config import Settings
from crm_core.db import Database

STAGES = {"embed": "计算向量", "lexical": "构建关键词索引"}


class Collection(StrEnum):
    cases = "cases"
    kb = "kb"


def search(
    collection: Annotated[Collection, typer.Argument(help="cases（案例库）或 kb（知识库）")],
    query: Annotated[str, typer.Argument(help="查询，如 \"美妆 短视频 转化率>5%\"")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="返回条数")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 列表：id/title/score")] = False,
) -> None:
    """语义检索案例库或知识库（关键词 + 向量混合检索；案例支持行业/形式/渠道/年份/指标条件）。"""
    from bot import cli as base
    from crm_core.actor import Actor
    from knowledge.search import search_cases, search_kb

    settings = base._settings()
    db = base._db()
    actor = Actor.system(channel="cli", name="cli")
    with db.unit_of_work() as session:
        if collection is Collection.cases:
            hits = search_cases(session, actor, query, k, settings=settings)
            rows = [{"id": h.ref, "title": h.title, "score": round(h.score, 4)} for h in hits]
            if as_json:
                print(json.dumps(rows, ensure_ascii=False), flush=True)
                return
            if hits.relaxed:
                base.out.print(f"没有同时满足全部条件的案例，已放宽：{'、'.join(hits.relaxed)}", markup=False, soft_wrap=True)
            if not hits:
                wanted = "；".join(hits.filters) or query
                base.out.print(f"没有找到符合条件的案例（{wanted}）。", markup=False, soft_wrap=True)
            for i, h in enumerate(hits, 1):
                base.out.print(f"{i}. [{h.ref}] {h.title}  （得分 {h.score:.3f}）", markup=False, highlight=False, soft_wrap=True)
                if h.reasons:
                    base.out.print(f"   理由：{'；'.join(h.reasons)}", markup=False, highlight=False, soft_wrap=True)
                if h.key_metrics:
                    shown = "；".join(f"{name} {value}" for name, value in h.key_metrics)
                    base.out.print(f"   指标：{shown}", markup=False, highlight=False, soft_wrap=True)
        else:
            kb_hits = search_kb(session, actor, query, k, settings=settings)
            rows = [{"id": h.ref, "title": h.title, "score": round(h.score, 4)} for h in kb_hits]
            if as_json:
                print(json.dumps(rows, ensure_ascii=False), flush=True)
                return
            if not kb_hits:
                base.out.print("知识库中没有找到相关文章。", markup=False, soft_wrap=True)
            for i, h in enumerate(kb_hits, 1):
                base.out.print(f"{i}. [{h.ref}] {h.title}  （得分 {h.score:.3f}）", markup=False, highlight=False, soft_wrap=True)
                base.out.print(f"   {h.passage[:120]}", markup=False, highlight=False, soft_wrap=True)


def index_rebuild() -> None:
    """从数据库重建检索索引：只为内容有变化的记录计算向量，向量索引由数据库中的向量记录重建。"""
    from bot import cli as base

    sync_index(base._settings(), base._db(), full=True)


def sync_index(settings: Settings, db: Database, *, full: bool) -> None:
    """Bring the case/KB index up to date with a progress bar (``crmbot index rebuild``, ``crmbot demo``)."""
    from bot import cli as base
    from knowledge.indexing import sync

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=base.err, transient=False, disable=not base.err.is_terminal)
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(STAGES.get(stage, stage), total=total or None)
        progress.update(tasks[stage], completed=done, total=total or None)

    with progress, db.unit_of_work() as session:
        result = sync(session, settings, progress=report, full=full)
    base.out.print(result.summary(), markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `search` and `index rebuild` to the `crmbot` app."""
    app.command("search")(search)
    index_app = typer.Typer(help="检索索引管理", no_args_is_help=True)
    index_app.command("rebuild")(index_rebuild)
    app.add_typer(index_app, name="index")
