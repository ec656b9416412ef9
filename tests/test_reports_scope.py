"""Reports are as private as the records under them: an account manager's funnel is their own."""

from __future__ import annotations

import pytest

from bot.channels.console import send
from crm_core.db import Database
from tests.factories import TODAY, build_world


@pytest.fixture
def world_db(db: Database) -> Database:
    with db.unit_of_work() as s:
        build_world(s)
    return db


def ask(db: Database, who: str, text: str) -> str:
    from datetime import datetime, time

    from config import get_settings

    now = datetime.combine(TODAY, time(10), tzinfo=get_settings().tz)
    return send(db, text, sender=who, chat=None, external=False, now=now).plain()


def test_account_manager_sees_only_their_own_funnel(world_db):
    mine = ask(world_db, "am1", "/报表 漏斗")
    assert "120万" in mine and "没有" not in mine.split("\n")[0]
    other = ask(world_db, "am2", "/报表 漏斗")
    assert "120万" not in other  # am1's opportunity does not leak into am2's numbers


def test_account_manager_payment_report_is_scoped(world_db):
    mine = ask(world_db, "am1", "/报表 回款")
    assert "应收 80万 · 已收 0元" in mine and "逾期未收 30万" in mine and "暂无" not in mine
    other = ask(world_db, "am2", "/报表 回款")
    assert "30万" not in other and "50万" not in other


def test_planner_still_may_not_read_reports(world_db):
    assert "没有执行此操作的权限" in ask(world_db, "planner", "/报表 漏斗")
