"""`crmbot` end to end: send a message through the console channel, assert the reply a user sees."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app
from config import reset_settings
from crm_core.db import Database
from tests.factories import build_world

runner = CliRunner()


@pytest.fixture
def world_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    with db.unit_of_work() as s:
        build_world(s)
    monkeypatch.setenv("CRMBOT_DATABASE_URL", db.url)
    reset_settings()
    return db


def chat(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, ["chat", *args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_creates_then_is_noop(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    reset_settings()
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0 and "已升级" in first.output
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0 and "无需升级" in second.output


def test_chat_before_init_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    reset_settings()
    result = runner.invoke(app, ["chat", "--as", "x", "/帮助"])
    assert result.exit_code == 2 and "crmbot init" in result.output


def test_bad_setting_stops_the_cli_naming_it(monkeypatch):
    monkeypatch.setenv("CRMBOT_TIMEZONE", "Nowhere/City")
    reset_settings()
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2 and "CRMBOT_TIMEZONE" in result.output


def test_owner_sees_full_profile_with_phone(world_db):
    out = chat("--as", "am1", "--now", "2026-11-25T10:00:00+08:00", "/客户 星屿科技")
    assert "客户档案｜星屿科技（C-1）" in out
    assert "级别：战略级" in out and "负责人：甲经理" in out
    assert "13812341234" in out  # the owner sees the real number
    assert "合同谈判" in out and "星屿科技品牌升级" in out
    assert "逾期回款 1 笔" in out and "下一笔回款：2026-" in out


def test_english_alias_and_legal_name(world_db):
    out = chat("--as", "am1", "/customer 上海星屿科技有限公司")
    assert "客户档案｜星屿科技" in out


def test_other_account_manager_is_refused_without_leaking(world_db):
    out = chat("--as", "am2", "/客户 星屿科技")
    assert "没有找到你可以查看的客户" in out
    assert "13812341234" not in out and "战略级" not in out and "甲经理" not in out


def test_planner_on_the_project_sees_masked_contacts(world_db):
    out = chat("--as", "planner", "/客户 星屿科技")
    assert "138****1234" in out and "13812341234" not in out
    assert "已脱敏" in out


def test_unknown_user_is_told_how_to_get_access(world_db):
    out = chat("--as", "stranger", "/客户 星屿科技")
    assert "还没有和公司员工档案绑定" in out and "crmbot staff bind" in out
    assert "星屿科技" not in out


def test_external_client_cannot_read_customer_profiles(world_db):
    out = chat("--as", "wm_client_1", "--external", "/客户 星屿科技")
    assert "仅限公司内部同事" in out and "13812341234" not in out


def test_help_lists_commands_and_explains_one(world_db):
    out = chat("--as", "designer", "/帮助")
    assert "/客户" in out and "/帮助" in out
    out = chat("--as", "designer", "/帮助 客户")
    assert "/客户 <客户名称>" in out and "/customer" in out


def test_small_talk_gets_a_friendly_reply_and_unknown_commands_are_named(world_db):
    data = json.loads(chat("--as", "am1", "--json", "今天中午吃什么"))
    assert data["intent"] is None and data["actions"] == [] and data["reply"]
    assert "没有「/买票」这个命令" in chat("--as", "am1", "/买票 北京")


def test_json_output(world_db):
    data = json.loads(chat("--as", "am1", "--json", "/客户 星屿"))
    assert data["intent"] == "customer.profile"
    assert data["slots"] == {"customer": "C-1"}
    assert data["actions"] == [] and "星屿科技" in data["reply"]


def test_stdin_many_messages_with_overrides(world_db):
    lines = "\n".join([
        "/帮助",
        json.dumps({"text": "/客户 星屿科技", "as": "am2"}),
        json.dumps({"text": "/客户 星屿科技", "as": "am1"}),
    ])
    out = chat("--as", "am1", "--json", "-", input=lines)
    replies = [json.loads(line) for line in out.strip().splitlines()]
    assert [r["intent"] for r in replies] == ["help", "customer.profile", "customer.profile"]
    assert "没有找到" in replies[1]["reply"] and "13812341234" in replies[2]["reply"]


def test_staff_bind_then_chat(world_db):
    result = runner.invoke(app, ["staff", "bind", "S-am2", "--wecom", "am2_new"])
    assert result.exit_code == 0 and "已绑定" in result.output
    assert "客户档案｜澜山茶饮" in chat("--as", "am2_new", "/客户 澜山")
    clash = runner.invoke(app, ["staff", "bind", "S-am1", "--wecom", "am2_new"])
    assert clash.exit_code == 1 and "已绑定到员工" in clash.output


def test_healthz(world_db):
    client = TestClient(create_app(db=world_db))
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["schema"] == body["schema_head"]


def test_natural_language_write_confirmed_in_a_separate_invocation(world_db):
    preview = json.loads(chat("--as", "am1", "--json", "--now", "2026-11-25T10:00:00+08:00",
                              "给策划甲建个任务：整理竞品资料，周五前"))
    assert preview["intent"] == "task.create" and preview["actions"][0]["status"] == "pending_confirmation"
    assert preview["slots"] == {"title": "整理竞品资料", "assignee": "S-planner", "due": "2026-11-27"}
    done = json.loads(chat("--as", "am1", "--json", "--now", "2026-11-25T10:01:00+08:00", "确认"))
    assert done["intent"] == "confirm" and done["actions"][0]["status"] == "done"
    assert "已新建任务「整理竞品资料」" in done["reply"]


def test_context_carries_across_invocations(world_db):
    chat("--as", "am1", "--now", "2026-11-25T10:00:00+08:00", "星屿科技最近怎么样")
    data = json.loads(chat("--as", "am1", "--json", "--now", "2026-11-25T10:02:00+08:00", "它的负责人是谁"))
    assert data["intent"] == "customer.profile" and data["slots"] == {"customer": "C-1"}
    assert "负责人是 甲经理" in data["reply"]
