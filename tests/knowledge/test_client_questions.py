"""A client's question through the chat pipeline: an answer, or a ticket and a message to the owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.channels.console import send
from crm_core.db import Database
from crm_core.models import OutboxMessage, Ticket
from tests.factories import build_world
from tests.knowledge.conftest import import_eval

ASKED = datetime.fromisoformat("2026-11-25T10:00:00+08:00")  # office hours: nothing waits for quiet hours


def test_unanswerable_client_question_opens_a_ticket_and_tells_the_owner(db: Database):
    with db.unit_of_work() as s:
        build_world(s)
    import_eval(db, ("kb",))
    reply = send(db, "你们公司楼下有停车位吗", sender="wm_client_1", external=True, now=ASKED).plain()
    assert "没有把握" in reply and "已为你创建工单 #" in reply
    with db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.title == "你们公司楼下有停车位吗")).one()
        (note,) = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("kb.unanswered:%")))
        assert f"#{ticket.number}" in note.text and "停车位" in note.text
        assert note.target.endswith("am1")  # 星屿科技's owner, in their 1:1 chat with the bot
    # the same question again is another ticket, but the owner is not told twice about one ticket
    send(db, "你们公司楼下有停车位吗", sender="wm_client_1", external=True, now=ASKED)
    with db.session() as s:
        assert len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("kb.unanswered:%"))))) == 2


def test_answerable_client_question_tells_nobody(db: Database):
    with db.unit_of_work() as s:
        build_world(s)
    import_eval(db, ("kb",))
    reply = send(db, "发票开错了怎么重开", sender="wm_client_1", external=True, now=ASKED).plain()
    assert "红字" in reply
    with db.session() as s:
        assert s.scalars(select(Ticket)).first() is None
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("kb.unanswered:%"))).first() is None


def test_a_client_statement_without_a_question_mark_is_still_a_service_question(db: Database):
    """A client writes "海外投放的税务备案", not "…怎么办？": the knowledge base answers it, and nobody asks
    them to pick "问知识库" from a list of one. A greeting stays small talk."""
    with db.unit_of_work() as s:
        build_world(s)
    import_eval(db, ("kb",))
    reply = send(db, "境外公司合作的发票和税务备案", sender="wm_client_1", external=True, now=ASKED).plain()
    assert "你是想" not in reply and "【" in reply, reply  # an article's passage under its title
    with db.session() as s:
        assert s.scalars(select(Ticket)).first() is None
    greeting = send(db, "你好", sender="wm_client_1", external=True, now=ASKED).plain()
    assert "工单" not in greeting and "你是想" not in greeting
