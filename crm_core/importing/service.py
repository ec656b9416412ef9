"""Run an import: permission check, one SAVEPOINT per row, a report of what happened.

Each row is all-or-nothing (a failing row rolls back alone, with its tags, members, versions …);
the good rows are kept and committed by the caller's unit of work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from config import get_settings
from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.errors import InvalidInput
from crm_core.importing.base import Fields, ImportContext, RowError
from crm_core.importing.loaders import KINDS, LOADERS
from crm_core.importing.readers import Row, read_rows, rows_from_dicts
from crm_core.models import utcnow
from crm_core.permissions import Cap, require

__all__ = ["KINDS", "KIND_LABELS", "ImportReport", "Row", "import_path", "import_rows", "rows_from_dicts"]

KIND_LABELS: dict[str, str] = {
    "staff": "员工", "customers": "客户", "contacts": "联系人", "leads": "线索", "opportunities": "商机",
    "projects": "项目", "chat_bindings": "群绑定", "tasks": "任务", "talents": "人才档案", "contracts": "合同",
    "payments": "回款计划", "proposals": "方案", "interactions": "跟进记录", "tickets": "工单", "cases": "案例",
    "kb": "知识库",
}
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # "{file}:{line}: {reason}"

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        label = KIND_LABELS.get(self.kind, self.kind)
        return (f"{label}：新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
                f"失败 {self.failed}（共 {self.total} 行）")


def check_kind(kind: str) -> None:
    if kind not in LOADERS:
        raise InvalidInput(f"未知类型 {kind}（可选：{'/'.join(KINDS)}）")


def _db_reason(exc: SQLAlchemyError) -> str:
    if isinstance(exc, IntegrityError):
        return "与已有数据冲突（唯一字段重复或引用无效），该行未写入"
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
    return f"数据库拒绝写入：{detail}"


def import_rows(session: Session, kind: str, rows: Iterable[Row], actor: Actor,
                progress: Progress | None = None, *, tz: str | None = None) -> ImportReport:
    """Load ``rows`` of one kind into the session's transaction (the caller commits)."""
    require(actor, Cap.data_import)
    check_kind(kind)
    loader = LOADERS[kind]
    ctx = ImportContext(session, dataclasses.replace(actor, channel="import"), tz or get_settings().timezone)
    report = ImportReport(kind)
    touched: set[int] = set()  # customers whose contracts changed: their tier is recomputed
    for row in rows:
        reason = row.error
        if reason is None:
            try:
                with session.begin_nested():
                    outcome, record = loader(ctx, Fields(ctx, row.data or {}))
            except RowError as exc:
                reason = str(exc)
            except SQLAlchemyError as exc:
                reason = _db_reason(exc)
        if reason is None:
            ctx.commit()
            setattr(report, outcome, getattr(report, outcome) + 1)
            if kind == "contracts" and outcome != "unchanged":
                touched.add(record.customer_id)  # type: ignore[attr-defined]
        else:
            ctx.rollback()
            report.failed += 1
            report.errors.append(f"{row.file}:{row.line}: {reason}")
        if progress is not None:
            progress(1)
    if touched:
        from crm_core.services.tiering import recompute_customers

        recompute_customers(session, sorted(touched), utcnow())
    return report


def import_path(db: Database, path: str | Path, kind: str, actor: Actor,
                progress: Progress | None = None) -> ImportReport:
    """Import one file (or a Markdown folder for ``kb``) in a single transaction of per-row savepoints."""
    require(actor, Cap.data_import)
    check_kind(kind)
    rows = read_rows(path)
    with db.unit_of_work() as session:
        return import_rows(session, kind, rows, actor, progress)
