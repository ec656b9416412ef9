"""Issue acceptance: world A imports through `crmbot import` in its README order, twice, and a broken
file reports file:line while the good rows load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from config import reset_settings
from crm_core.db import Database
from crm_core.models import AuditLog, Customer, Opportunity, Project, Staff, Task

WORLD_A = Path(__file__).resolve().parents[2] / "shared" / "evals" / "nlu"
ORDER = [("staff", Staff, 12), ("customers", Customer, 15), ("projects", Project, 10), ("tasks", Task, 30),
         ("opportunities", Opportunity, 10)]
runner = CliRunner()

pytestmark = pytest.mark.skipif(not WORLD_A.is_dir(), reason="shared/evals not beside the repository")


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", db.url)
    reset_settings()
    return db


def counts(db: Database) -> dict[str, int]:
    with db.unit_of_work() as s:
        return {kind: s.scalar(select(func.count()).select_from(model)) or 0 for kind, model, _ in ORDER}


def import_world(db: Database) -> None:
    for kind, _, _ in ORDER:
        result = runner.invoke(app, ["import", str(WORLD_A / f"{kind}.jsonl"), "--kind", kind])
        assert result.exit_code == 0, result.output


def test_world_a_imports_in_readme_order_and_reimport_changes_nothing(cli_db):
    import_world(cli_db)
    assert counts(cli_db) == {kind: n for kind, _, n in ORDER}
    with cli_db.unit_of_work() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditLog))
        customer = s.scalars(select(Customer).where(Customer.ref == "C-A01")).one()
        assert customer.owner.ref == "S-A01" and customer.tier == "战略级"
        assert set(customer.tag_names) == {"SaaS", "B2B", "品牌升级"}
    import_world(cli_db)
    assert counts(cli_db) == {kind: n for kind, _, n in ORDER}
    with cli_db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audit_before


def test_world_a_owner_sees_profile_after_import(cli_db):
    import_world(cli_db)
    result = runner.invoke(app, ["chat", "--as", "chensiyuan", "/客户 奇点科技"])
    assert result.exit_code == 0 and "客户档案｜奇点科技（C-A01）" in result.output
    other = runner.invoke(app, ["chat", "--as", "linxiaowen", "/客户 奇点科技"])
    assert "没有找到你可以查看的客户" in other.output and "战略级" not in other.output


def test_broken_lines_are_reported_and_the_rest_loads(cli_db, tmp_path):
    runner.invoke(app, ["import", str(WORLD_A / "staff.jsonl"), "--kind", "staff"])
    lines = (WORLD_A / "customers.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(2, '{"ref": "C-BAD", "name": ')  # line 3: not JSON
    bad_owner = json.loads(lines[5])
    bad_owner["owner"] = "S-NOBODY"
    lines[5] = json.dumps(bad_owner, ensure_ascii=False)  # line 6: unknown owner
    broken = tmp_path / "customers.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(broken), "--kind", "customers"])
    assert result.exit_code == 1
    assert f"{broken}:3:" in result.output and f"{broken}:6:" in result.output
    with cli_db.unit_of_work() as s:
        refs = set(s.scalars(select(Customer.ref)))
    assert len(refs) == 14 and bad_owner["ref"] not in refs and "C-BAD" not in refs


def test_unknown_kind_and_missing_file_are_refused(cli_db, tmp_path):
    result = runner.invoke(app, ["import", str(tmp_path / "x.jsonl"), "--kind", "customers"])
    assert result.exit_code == 2 and "文件不存在" in result.output
    result = runner.invoke(app, ["import", str(WORLD_A / "staff.jsonl"), "--kind", "robots"])
    assert result.exit_code == 2 and "未知类型" in result.output
