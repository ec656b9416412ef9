"""The hot reads (``crm_core.hot_reads``) give what SQLAlchemy gives, on SQLite and PostgreSQL.

Every statement the profile card, the sender lookup and the dialogue state run through a HotRead is
executed both ways on the same data — tz-aware datetimes, dates, money, JSON, NULLs, Chinese text —
and the rows must be equal value for value, type for type, and by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, select

from crm_core.db import Database
from crm_core.hot_reads import HotRead
from crm_core.models import (
    Contract,
    CustomerRisk,
    CustomerTag,
    DialogueState,
    Interaction,
    Tag,
    TagCategory,
    TierAssessment,
    TierChange,
)
from crm_core.permissions import scope_of
from crm_core.services import customer_profile, identity, lookup, tiering
from handlers import dialogue
from tests.factories import TODAY, build_world

pytestmark = pytest.mark.postgres


def _enrich(session: Any, world: Any) -> int:
    c1 = world.customers["c1"]
    category = TagCategory(name="行业属性")
    session.add(category)
    session.flush()
    tag = Tag(name="高潜力", category_id=category.id)
    bare_tag = Tag(name="无分类标签")
    session.add_all([tag, bare_tag])
    session.flush()
    session.add_all([
        CustomerTag(customer_id=c1.id, tag_id=tag.id, source="rule", reason="近一年预算增长 40%"),
        CustomerTag(customer_id=c1.id, tag_id=bare_tag.id, source="manual", reason=None),
        Interaction(customer_id=c1.id, staff_id=world.staff["am1"].id, kind="拜访", summary="讨论双十一「种草」方案",
                    occurred_at=datetime(2026, 11, 20, 3, 15, 7, 123456, tzinfo=UTC)),
        TierAssessment(customer_id=c1.id, tier="战略级", score=81.5, parts={"budget": 40},
                       reasons=["预算贡献 40/50", "合作 3 年"]),
        CustomerRisk(customer_id=c1.id, score=None, method="insufficient", reasons=[], as_of=TODAY),
        TierChange(customer_id=c1.id, old_tier=None, new_tier="战略级", source="rule", score=81.5,
                   reasons=["首次评定"], actor="system", created_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),
        Contract(ref="K-2", customer_id=c1.id, title="年度框架", amount=Decimal("1234567.89"),
                 signed_at=TODAY - timedelta(days=40), owner_id=world.staff["am1"].id),
        DialogueState(channel="wecom", chat_id="dm:am1", sender_id="am1",
                      context={"customer": "C-1", "at": "2026-11-25T09:00:00+08:00"}, pending=None),
    ])
    session.flush()
    return c1.id


def _same(hot: HotRead, conn: Any, params: dict[str, Any]) -> list[Any]:
    fast = hot.rows(conn, params)
    slow = conn.execute(hot.statement, params).all()
    assert [tuple(r) for r in fast] == [tuple(r) for r in slow]
    assert [[type(v) for v in r] for r in fast] == [[type(v) for v in r] for r in slow]
    for f, s in zip(fast, slow, strict=True):
        assert f._fields == s._fields  # the same names for attribute access
    return fast


def test_every_hot_read_of_a_message_gives_what_sqlalchemy_gives(db: Database) -> None:
    with db.unit_of_work() as session:
        world = build_world(session)
        cid = _enrich(session, world)
        conn = session.connection()
        actor = world.actor(session, "am1")
        shape, scope = scope_of(actor)
        cases = [
            (customer_profile._head_statement(shape, True), {**scope, "key": "C-1"}),
            (customer_profile._head_statement(shape, False), {**scope, "key": cid}),
            (lookup._exact_statement(shape), {**scope, "text": "星屿科技"}),
            (customer_profile._CONTACTS, {"cid": cid}),
            (customer_profile._TAGS, {"cid": cid}),
            (customer_profile._OPPORTUNITIES, {"cid": cid}),
            (customer_profile._PROJECTS, {"cid": cid, "today": TODAY}),
            (customer_profile._UNPAID, {"cid": cid}),
            (customer_profile._LAST_CONTACT, {"cid": cid}),
            (tiering._ASSESSMENT, {"cid": cid}),
            (tiering._LAST_CHANGE, {"cid": cid}),
            (identity._STAFF_BY_ID["wecom"], {"uid": "am1"}),
            (identity._STAFF_BY_ID["dingtalk"], {"uid": "dt_am1"}),
            (dialogue._LOAD, {"channel": "wecom", "chat_id": "dm:am1", "sender_id": "am1"}),
        ]
        reads = tiering._contract_reads(("已终止",))
        entered = datetime(2026, 9, 1, tzinfo=UTC)
        cases += [(reads.of_one, {"cid": cid}),
                  (reads.window, {"since": TODAY - timedelta(days=365), "entered": entered})]
        found = {id(hot): _same(hot, conn, params) for hot, params in cases}

    head = found[id(cases[0][0])][0]
    assert head.name == "星屿科技" and head.assessed_tier == "战略级" and head.assessed_reasons == ["预算贡献 40/50", "合作 3 年"]
    assert head.risk_score is None and head.risk_as_of == TODAY
    last = found[id(customer_profile._LAST_CONTACT)][0]
    assert last.occurred_at == datetime(2026, 11, 20, 3, 15, 7, 123456, tzinfo=UTC) and last.occurred_at.tzinfo
    unpaid = found[id(customer_profile._UNPAID)]
    assert [p.amount for p in unpaid] == [Decimal(300000), Decimal(500000)] and unpaid[0].due == TODAY - timedelta(days=5)
    projects = found[id(customer_profile._PROJECTS)]
    assert [(p.ref, p.count_1, p.coalesce_1) for p in projects] == [("P-1", 1, 1)]
    assert found[id(dialogue._LOAD)][0].context["customer"] == "C-1"
    # K-2 was signed 40 days ago; K-1 has no dates and counts from its entry, after ``entered``
    assert sorted(c.amount for c in found[id(reads.window)]) == [Decimal(800000), Decimal("1234567.89")]


def test_a_parameter_passes_through_its_type_like_sqlalchemy(db: Database) -> None:
    """A tz-aware datetime parameter is compared as SQLAlchemy would compare it (in UTC, in the column's format)."""
    changed = HotRead(select(TierChange.new_tier).where(TierChange.created_at >= bindparam("since"))
                      .order_by(TierChange.id))
    with db.unit_of_work() as session:
        world = build_world(session)
        _enrich(session, world)
        conn = session.connection()
        shanghai = ZoneInfo("Asia/Shanghai")  # the change was made at 08:00 UTC, 16:00 in Shanghai
        assert [r.new_tier for r in changed.rows(conn, {"since": datetime(2026, 11, 1, 15, 0, tzinfo=shanghai)})] == ["战略级"]
        assert changed.rows(conn, {"since": datetime(2026, 11, 1, 17, 0, tzinfo=shanghai)}) == []
        assert changed.first(conn, {"since": datetime(2030, 1, 1, tzinfo=UTC)}) is None


def test_what_a_hot_read_cannot_do_is_refused() -> None:
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    by_ids = HotRead(select(Contract.id).where(Contract.id.in_(bindparam("ids", expanding=True))))
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="plain bindparam"):
            by_ids.rows(conn, {"ids": [1, 2]})
        with pytest.raises(KeyError, match="cid"):
            HotRead(select(Contract.id).where(Contract.id == bindparam("id"))).rows(conn, {"cid": 1})


def test_a_claim_is_committed_before_it_returns_and_wins_once(db: Database) -> None:
    """The dedupe claim runs outside any unit of work: another session sees it at once, and a second
    claim of the same key — a retry, another process — loses."""
    from crm_core.models import ProcessedMessage
    from crm_core.services import inbound

    assert inbound.claim(db, "wecom", "msg-1")
    with db.unit_of_work() as session:
        [(status, received_at)] = session.execute(select(ProcessedMessage.status, ProcessedMessage.received_at)
                                                  .where(ProcessedMessage.message_key == "msg-1")).all()
        assert status == "received" and received_at.tzinfo is not None
        assert not inbound.claim_message(session, "wecom", "msg-1")  # the session's own claim agrees
    assert not inbound.claim(db, "wecom", "msg-1")
    assert inbound.claim(db, "wecom_event", "msg-1") and inbound.claim(db, "wecom", "msg-2")


def test_a_hot_write_must_be_given_every_value() -> None:
    """A column left to a Python-side default would be left empty on the cursor: refused, not guessed."""
    from sqlalchemy import create_engine, insert

    from crm_core.hot_reads import HotWrite
    from crm_core.models import ProcessedMessage

    table = ProcessedMessage.__table__
    engine = create_engine("sqlite://")
    with engine.connect() as conn, pytest.raises(ValueError, match="received_at"):
        HotWrite(insert(table).values(channel=bindparam("channel"), message_key=bindparam("key"),
                                      status=bindparam("status"))).rows(conn, {"channel": "x", "key": "y",
                                                                               "status": "received"})


def test_hot_writes_store_what_sqlalchemy_stores(db: Database) -> None:
    """The reply's outbox row and the dialogue state's update, written on the cursor, leave the same
    stored values — compared as the driver returns them — as the same statements through SQLAlchemy."""
    from sqlalchemy import text

    from crm_core.models import OutboxMessage
    from crm_core.services import outbox
    from handlers import dialogue

    moment = datetime(2026, 11, 25, 9, 30, 15, 250000, tzinfo=ZoneInfo("Asia/Shanghai"))
    values: dict[str, Any] = {
        "channel": "wecom", "target": "am1", "msg_type": "text", "text": "客户档案｜星屿科技",
        "payload": {"passive_text": "客户档案", "n": [1, 2.5, None]}, "mentions": ["张三"], "dedupe_key": None,
        "rate_key": None, "status": "sent", "attempts": 1, "next_attempt_at": moment, "created_at": moment,
        "after_id": None, "sent_at": moment, "delivered_via": "passive"}
    state = {"context": {"customer": "C-1", "at": moment.isoformat()}, "pending": None, "updated_at": moment}

    def stored(conn: Any, table: str, row_id: int, *columns: str) -> tuple[Any, ...]:
        return tuple(conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table} WHERE id = {int(row_id)}").one())

    with db.unit_of_work() as session:
        conn = session.connection()
        for deduped in (False, True):
            write = outbox._INSERTS[db.dialect, deduped]
            given = {**values, "dedupe_key": "k-fast" if deduped else None}
            [fast] = write.rows(conn, given)
            slow = conn.execute(write.statement, {**given, "dedupe_key": "k-slow" if deduped else None}).scalar_one()
            columns = [c.name for c in OutboxMessage.__table__.c if c.name not in ("id", "dedupe_key")]
            assert stored(conn, "outbox", fast.id, *columns) == stored(conn, "outbox", slow, *columns)
        ids = [conn.execute(text("INSERT INTO dialogue_states (channel, chat_id, sender_id, context, updated_at) "
                                 "VALUES ('wecom', :chat, 'am1', '{}', :at) RETURNING id"),
                            {"chat": chat, "at": moment.replace(tzinfo=None)}).scalar_one() for chat in ("a", "b")]
        assert [r.id for r in dialogue._SAVE.rows(conn, {**state, "row_id": ids[0]})] == [ids[0]]
        conn.execute(dialogue._SAVE.statement, {**state, "row_id": ids[1]})
        columns = ["context", "pending", "updated_at"]
        assert stored(conn, "dialogue_states", ids[0], *columns) == stored(conn, "dialogue_states", ids[1], *columns)
        assert conn.execute(text("SELECT count(*) FROM dialogue_states WHERE pending IS NULL")).scalar_one() == 0
