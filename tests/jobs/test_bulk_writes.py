"""The jobs' bulk writes (``crm_core.services.bulk``) store exactly what one ORM insert would, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crm_core.models import CustomerRisk, OutboxMessage, PushRecord, RiskScore
from crm_core.services import bulk
from tests.factories import build_world

TRICKY = '第一行\n第二行 "引号" \\反斜杠\\ 😀 <font color="warning">逾期</font>'


def test_rows_of_every_column_type_come_back_as_written(db):
    now = datetime(2026, 12, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    with db.unit_of_work() as s:
        bulk.insert_rows(s, OutboxMessage.__table__, [
            {"channel": "wecom", "target": "grp_1", "msg_type": "markdown", "text": TRICKY,
             "payload": {"markdown": {"content": TRICKY}, "n": 3, "ok": True}, "mentions": ["张三", "@all"],
             "dedupe_key": "k:1", "rate_key": None, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now, "after_id": None}])
    with db.unit_of_work() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.text == TRICKY and row.payload == {"markdown": {"content": TRICKY}, "n": 3, "ok": True}
        assert row.mentions == ["张三", "@all"] and row.rate_key is None
        assert row.next_attempt_at == now.astimezone(UTC)


def test_conflicting_rows_are_skipped_and_only_new_ones_returned(db):
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)

    def claim(*entities):
        with db.unit_of_work() as s:
            return bulk.insert_rows(
                s, PushRecord.__table__,
                [{"job": "overdue_tasks", "entity": e, "period": "2026-12-02", "recipient": "chat:g", "day": now,
                  "status": "sent", "urgent": False, "created_at": now} for e in entities],
                returning=("id", "entity"), on_conflict_do_nothing=("job", "entity", "period", "recipient"))

    assert sorted(r.entity for r in claim("task:1", "task:2")) == ["task:1", "task:2"]
    assert [r.entity for r in claim("task:2", "task:3")] == ["task:3"]
    with db.unit_of_work() as s:
        assert {r.day for r in s.scalars(select(PushRecord))} == {date(2026, 12, 2)}  # a datetime given for a date


def test_update_rows_sets_each_row_by_key(db):
    with db.unit_of_work() as s:
        world = build_world(s)
        ids = [c.id for c in world.customers.values()]
        s.flush()
        day = date(2026, 12, 2)
        bulk.insert_rows(s, CustomerRisk.__table__, [
            {"customer_id": cid, "score": 10, "method": "rules", "reasons": [], "signal_keys": [], "as_of": day,
             "above": False, "above_since": None, "history_id": None} for cid in ids])
    with db.unit_of_work() as s:
        bulk.update_rows(s, CustomerRisk.__table__, "customer_id", [
            {"customer_id": ids[0], "score": 72, "reasons": ["近 3 次提案打开率 33%"], "above": True, "above_since": day},
            {"customer_id": ids[1], "score": None, "reasons": [], "above": False, "above_since": None}])
    with db.unit_of_work() as s:
        got = {r.customer_id: r for r in s.scalars(select(CustomerRisk))}
        assert (got[ids[0]].score, got[ids[0]].reasons, got[ids[0]].above, got[ids[0]].above_since) == \
            (72, ["近 3 次提案打开率 33%"], True, day)
        assert got[ids[1]].score is None and got[ids[1]].method == "rules"


def test_a_naive_datetime_is_refused_not_stored_shifted(db):
    with db.unit_of_work() as s, pytest.raises(Exception, match="naive datetime"):  # SQLite wraps it in StatementError
        bulk.insert_rows(s, RiskScore.__table__, [{"customer_id": 1, "as_of": date(2026, 12, 2),
                                                  "scored_at": datetime(2026, 12, 2, 9, 0), "score": 1,
                                                  "method": "rules", "reasons": [], "features": {},
                                                  "above": False, "crossed": False}])
