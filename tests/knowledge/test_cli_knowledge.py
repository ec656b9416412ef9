"""`crmbot search cases|kb` and `crmbot index rebuild` through a Typer app, as a user runs them."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from bot.cli_knowledge import register
from config import reset_settings
from crm_core.db import Database
from tests.knowledge.conftest import import_eval

runner = CliRunner()


@pytest.fixture
def cli(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    import_eval(sqlite_db)
    monkeypatch.setenv("CRMBOT_DATABASE_URL", sqlite_db.url)
    reset_settings()
    from bot.cli import app

    if not any(getattr(c, "name", None) == "search" for c in app.registered_commands):
        register(app)
    return app


def run(app: typer.Typer, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_search_cases_json_returns_only_matching_cases_best_first(cli: typer.Typer):
    rows = json.loads(run(cli, "search", "cases", "美妆 短视频 转化率>5%", "--json"))
    assert rows and all(set(r) == {"id", "title", "score"} for r in rows)
    assert rows[0]["id"] == "case-010"
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_search_cases_prints_reasons_and_metrics(cli: typer.Typer):
    text = run(cli, "search", "cases", "美妆 短视频 转化率>5%")
    assert "case-010" in text and "理由：" in text and "转化率 5.2% > 5%" in text and "指标：" in text


def test_search_kb(cli: typer.Typer):
    rows = json.loads(run(cli, "search", "kb", "发票开错了怎么重开", "--k", "3", "--json"))
    assert len(rows) == 3 and rows[0]["id"] == "kb-003"
    assert "kb-003" in run(cli, "search", "kb", "发票开错了怎么重开")


def test_index_rebuild(cli: typer.Typer):
    first = run(cli, "index", "rebuild")
    assert "索引已更新" in first and "新计算向量 200" in first
    assert "新计算向量 0" in run(cli, "index", "rebuild")
