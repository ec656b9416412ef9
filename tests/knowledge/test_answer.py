"""KB answers: the passage when confident, honesty and a ticket when not; optional LLM composition."""

from __future__ import annotations

from datetime import datetime, timedelta

from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.models import Ticket
from knowledge.answer import answer_question
from tests.factories import build_world
from tests.knowledge.conftest import import_eval

SYSTEM = Actor.system()


def test_confident_answer_is_the_articles_passage(eval_db: Database):
    with eval_db.session() as s:
        answer = answer_question(s, SYSTEM, "发票开错了怎么重开")
    assert answer.confident and answer.title == "发票信息有误时的作废与红冲重开"
    assert "红字发票" in answer.passage and answer.title in answer.text and answer.ticket is None
    assert answer.citations[0].ref == "kb-003" and answer.composed_by == "extractive"


def test_clients_unanswerable_question_becomes_a_ticket(db: Database):
    with db.unit_of_work() as s:
        world = build_world(s)
    import_eval(db, ("kb",))
    with db.unit_of_work() as s:
        world_customer = s.merge(next(iter(world.customers.values())))
        client = Actor(kind="external", name="王女士", channel="wecom", customer_id=world_customer.id)
        asked = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
        answer = answer_question(s, client, "你们公司楼下有停车位吗", now=asked)
        assert answer.ticket is not None and answer.ticket.sla_due_at == asked + timedelta(hours=24)
        assert not answer.confident and "没有把握" in answer.text
        assert len(answer.related) <= 3
        assert answer.ticket is not None and f"#{answer.ticket.number}" in answer.text
        assert answer.ticket.customer_id == world_customer.id and answer.ticket.title == "你们公司楼下有停车位吗"
        owner = world_customer.owner
        assert [n.staff_id for n in answer.notify] == [owner.id]
        note = answer.notify[0]
        assert note.kind == "kb.unanswered" and "停车位" in note.text and note.wecom_userid == owner.wecom_userid
        assert note.dedupe_key == f"kb.unanswered:{answer.ticket.number}:{owner.id}"
    with db.session() as s:
        assert s.scalars(select(Ticket).where(Ticket.title == "你们公司楼下有停车位吗")).one().category == "咨询"


def test_staff_get_honesty_but_no_ticket(eval_db: Database):
    with eval_db.unit_of_work() as s:
        answer = answer_question(s, SYSTEM, "今天北京天气怎么样")
        assert not answer.confident and answer.ticket is None and answer.notify == []
        assert s.scalars(select(Ticket)).first() is None


def test_llm_composes_from_retrieved_passages_with_citations(eval_db: Database):
    llm = FakeListChatModel(responses=["当月开具的发票可以直接作废重开；跨月的需要走红字发票流程 [1]。"])
    with eval_db.session() as s:
        answer = answer_question(s, SYSTEM, "发票开错了怎么重开", llm=llm)
    assert answer.composed_by == "llm" and "红字发票流程 [1]" in answer.text
    assert answer.citations[0].ref == "kb-003" and "[1] 发票信息有误时的作废与红冲重开" in answer.text


def test_llm_answer_without_citation_falls_back_to_the_passage(eval_db: Database):
    llm = GenericFakeChatModel(messages=iter([AIMessage(content="可以的，随时联系我们重开。")]))
    with eval_db.session() as s:
        answer = answer_question(s, SYSTEM, "发票开错了怎么重开", llm=llm)
    assert answer.composed_by == "extractive" and answer.passage in answer.text


def test_llm_saying_no_information_falls_back(eval_db: Database):
    llm = FakeListChatModel(responses=["资料中没有相关信息"])
    with eval_db.session() as s:
        answer = answer_question(s, SYSTEM, "发票开错了怎么重开", llm=llm)
    assert answer.composed_by == "extractive"


def test_configured_endpoint_gives_a_langchain_chat_model():
    from config.settings import load_settings
    from knowledge.compose import chat_model

    assert chat_model(load_settings()) is None
    model = chat_model(load_settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="qwen-plus", llm_api_key="k"))
    assert model is not None and model.model_name == "qwen-plus"
