"""`crmbot outbox list [--failed] [--json]` and `crmbot outbox retry ID`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.delivery.pushes import push
from config import reset_settings
from crm_core.db import Database
from crm_core.models import OutboxMessage
from crm_core.services import outbox
from handlers.reply import Reply
from tests.bot.conftest import Agency

pytestmark = pytest.mark.postgres
runner = CliRunner()
KEYS = {"id", "channel", "target", "mentions", "text", "status", "attempts", "dedupe_key", "last_error"}


@pytest.fixture
def queued(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", agency.db.url)
    reset_settings()
    with agency.db.unit_of_work() as session:
        [ok] = push(session, "wrgroup_p1", Reply.text("已送达的提醒", mentions=["planner"]), dedupe_key="job:ok")
        [bad] = push(session, "cidDtGroupP2", Reply.text("一直失败的提醒"), dedupe_key="job:bad")
        session.flush()
        outbox.mark_sent(session, ok.id, via="wecom_webhook")
        for _ in range(8):
            outbox.mark_failed(session, bad.id, "robot/send HTTP 502", retryable=True, max_attempts=8, base=1, cap=1)
        return {"ok": ok.id, "bad": bad.id}


def run(*args: str) -> str:
    result = runner.invoke(app, ["outbox", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_list_json_has_the_documented_fields(queued: dict[str, int]) -> None:
    rows = [json.loads(line) for line in run("list", "--json").splitlines()]
    assert [r["id"] for r in rows] == [queued["bad"], queued["ok"]]
    assert all(set(r) == KEYS for r in rows)
    ok = rows[1]
    assert ok["status"] == "sent" and ok["mentions"] == ["planner"] and ok["channel"] == "wecom_webhook"
    assert ok["target"] == "wrgroup_p1" and ok["dedupe_key"] == "job:ok" and ok["text"] == "已送达的提醒"


def test_failed_shows_dead_letters_with_their_last_error(queued: dict[str, int]) -> None:
    [row] = [json.loads(line) for line in run("list", "--failed", "--json").splitlines()]
    assert row["id"] == queued["bad"] and row["status"] == "dead" and row["attempts"] == 8
    assert row["last_error"] == "robot/send HTTP 502"
    human = run("list", "--failed")
    assert f"#{queued['bad']}" in human and "最后错误：robot/send HTTP 502" in human and "已送达" not in human


def test_retry_puts_a_dead_letter_back(queued: dict[str, int], agency: Agency) -> None:
    assert f"#{queued['bad']}" in run("retry", str(queued["bad"]))
    with agency.db.unit_of_work() as session:
        row = session.get_one(OutboxMessage, queued["bad"])
        assert (row.status, row.attempts) == ("pending", 0)
    assert run("list", "--failed").strip() == "没有发送失败的消息。"


def test_retry_refuses_what_is_not_dead(queued: dict[str, int]) -> None:
    sent = runner.invoke(app, ["outbox", "retry", str(queued["ok"])])
    assert sent.exit_code == 1 and "只有发送失败" in sent.output
    missing = runner.invoke(app, ["outbox", "retry", "99999"])
    assert missing.exit_code == 1 and "99999" in missing.output


def test_empty_outbox(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", db.url)
    reset_settings()
    assert run("list").strip() == "发件箱是空的。"
    assert run("list", "--json") == ""
