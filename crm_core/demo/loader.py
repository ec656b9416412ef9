"""`crmbot demo`: generate the demo agency and load it through the importer (idempotent)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.demo.generator import generate
from crm_core.importing.service import ImportReport, import_rows, rows_from_dicts


class ProgressLike(Protocol):
    def add_task(self, description: str, total: float | None = ...) -> int: ...  # type: ignore[empty-body]
    def advance(self, task_id: int, advance: float = ...) -> None: ...


def load_demo(db: Database, today: date, progress: ProgressLike | None = None) -> dict[str, ImportReport]:
    """Load every kind in order; a second run on the same day writes nothing."""
    actor = Actor.system(channel="demo", name="demo")
    reports: dict[str, ImportReport] = {}
    for kind, records in generate(today).items():
        task = progress.add_task(f"演示数据 {kind}", total=len(records)) if progress else None

        def advance(n: int, task: int | None = task) -> None:
            if progress is not None and task is not None:
                progress.advance(task, n)

        with db.unit_of_work() as session:
            reports[kind] = import_rows(session, kind, rows_from_dicts(kind, records, source="demo"), actor,
                                        progress=advance)
    return reports
