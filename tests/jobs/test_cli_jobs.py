"""`crmbot jobs run --once --now …`: fills the outbox once; on the demo agency, with group reminders that
@ the right people, personal alerts, and churn alerts with reasons and cases — all visible in the console."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app
from bot.jobs import JOB_ORDER, PUSH_JOBS
from config import reset_settings
from config.settings import load_settings
from crm_core.db import Database
from crm_core.demo.loader import load_demo
from crm_core.models import ChatBinding
from tests.factories import build_world
from tests.jobs.conftest import queued

runner = CliRunner()
DEMO_DAY = date(2026, 12, 2)  # a Wednesday
DEMO_MORNING = "2026-12-02T09:00:00+08:00"


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", db.url)
    monkeypatch.setenv("CRMBOT_NLU_EMBEDDINGS", "false")
    reset_settings()
    return db


def test_jobs_run_once_then_again_adds_nothing(cli_db):
    with cli_db.unit_of_work() as s:
        world = build_world(s)
        s.add(ChatBinding(channel="wecom", chat_id="grp_p1", kind="project_group", project_id=world.projects["p1"].id))
    first = runner.invoke(app, ["jobs", "run", "--once", "--now", "2026-11-25T09:00:00+08:00"])
    assert first.exit_code == 0, first.output
    assert "逾期任务：1 条消息，1 项新提醒" in first.output and "回款提醒：2 条消息" in first.output
    count = len(queued(cli_db))
    again = runner.invoke(app, ["jobs", "run", "--once", "--now", "2026-11-25T09:30:00+08:00", "--json"])
    assert again.exit_code == 0, again.output
    lines = [json.loads(line) for line in again.output.splitlines()]
    assert [r["job"] for r in lines] == list(JOB_ORDER)
    assert sum(r["messages"] for r in lines) == 0 and sum(r["already"] for r in lines) > 0
    assert len(queued(cli_db)) == count


def test_jobs_run_options_are_checked(cli_db):
    assert runner.invoke(app, ["jobs", "run", "--now", DEMO_MORNING]).exit_code == 2  # --now needs --once
    bad = runner.invoke(app, ["jobs", "run", "--once", "--job", "nope"])
    assert bad.exit_code == 2 and "未知任务" in bad.output
    one = runner.invoke(app, ["jobs", "run", "--once", "--job", "ticket_sla", "--now", DEMO_MORNING])
    assert one.exit_code == 0 and one.output.strip().startswith("工单超时")
    assert runner.invoke(app, ["jobs", "run", "--once", "--now", "yesterday"]).exit_code == 2


def test_demo_agency_weekday_morning(sqlite_db, monkeypatch):
    monkeypatch.setenv("CRMBOT_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("CRMBOT_NLU_EMBEDDINGS", "false")
    reset_settings()
    load_demo(sqlite_db, DEMO_DAY)
    first = runner.invoke(app, ["jobs", "run", "--once", "--now", DEMO_MORNING])
    assert first.exit_code == 0, first.output
    rows = queued(sqlite_db)
    assert len({r.dedupe_key for r in rows}) == len(rows)
    jobs = Counter(r.dedupe_key.split(":")[0] for r in rows)
    assert all(jobs[j] > 0 for j in PUSH_JOBS), jobs

    groups = [r for r in rows if r.dedupe_key.startswith("overdue_tasks:chat:")]
    assert {r.channel for r in groups} == {"wecom_webhook", "dingtalk_webhook"}
    for r in groups:
        assert r.mentions and "@" in r.text and "已逾期" in r.text and "历史相似任务平均耗时" in r.text
    personal = [r for r in rows if r.target.startswith("dm:")]
    assert len(personal) > len(groups) and all(r.mentions == [] for r in personal)

    [churn, *_] = [r for r in rows if r.dedupe_key.startswith("churn_risk:")]
    assert "续约风险预警" in churn.text and "主要原因：" in churn.text and "推荐参考案例：1. 《" in churn.text
    assert "服务方案" in churn.text

    again = runner.invoke(app, ["jobs", "run", "--once", "--now", DEMO_MORNING])
    assert again.exit_code == 0 and len(queued(sqlite_db)) == len(rows)

    settings = load_settings(database_url=sqlite_db.url, nlu_embeddings=False)
    with TestClient(create_app(settings, sqlite_db, worker=False)) as client:
        shown = client.get("/console/api/pushes", params={"chat": groups[0].target}).json()
        assert any("逾期任务提醒" in p["html"] for p in shown)
        shown = client.get("/console/api/pushes", params={"chat": churn.target}).json()
        assert any("续约风险预警" in p["html"] and "推荐参考案例" in p["html"] for p in shown)
