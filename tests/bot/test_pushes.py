"""Pushes into project groups through each binding's robot webhook, as they land at the messenger."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.delivery.pushes import address_for, push
from bot.runtime import Runtime
from crm_core.models import ChatBinding, OutboxMessage
from crm_core.services import outbox
from crm_core.services.inbound import binding_for_chat
from handlers.reply import Fields, Heading, Paragraph, Reply
from tests.bot.conftest import Agency, channel_settings
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def runtime(agency: Agency, standin: StandIn) -> Iterator[Runtime]:
    rt = Runtime.build(channel_settings(agency.db, standin), agency.db)
    yield rt
    rt.stop()


def deliver(runtime: Runtime) -> None:
    while runtime.worker.run_once():
        pass


def overdue_reply(mentions: list[str]) -> Reply:
    return Reply(blocks=[Heading(text="逾期任务提醒"), Paragraph(text="品牌策略提案 已逾期 2 天", tone="warning"),
                         Fields(pairs=[("负责人", "策划甲"), ("项目", "星屿科技品牌升级")])], mentions=mentions)


def test_wecom_group_text_with_mentions(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        push(session, "wrgroup_p1", overdue_reply(["planner"]), dedupe_key="overdue:T-1:2026-11-25",
             mention_mobiles=["13900000000"])
    deliver(runtime)
    [call] = standin.calls("/cgi-bin/webhook/send")
    assert call.query["key"] == "grp-key-1"
    body = call.json
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_list"] == ["planner"]
    assert body["text"]["mentioned_mobile_list"] == ["13900000000"]
    assert "品牌策略提案 已逾期 2 天" in body["text"]["content"]


def test_wecom_group_markdown_keeps_its_subset(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        push(session, "wrgroup_p1", overdue_reply([]), dedupe_key="overdue:T-1:2026-11-26")
    deliver(runtime)
    body = standin.calls("/cgi-bin/webhook/send")[0].json
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert '<font color="warning">品牌策略提案 已逾期 2 天</font>' in content
    assert "### 逾期任务提醒" in content and "> **负责人**：策划甲" in content and "|" not in content


def test_wecom_group_image_and_news(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        binding = binding_for_chat(session, "wrgroup_p1")
        address = address_for(binding, "wrgroup_p1")
        outbox.enqueue(session, [address.image(PNG, "report:png:1"),  # type: ignore[union-attr]
                                 address.news([{"title": "星屿科技案例复盘", "description": "转化率提升 38%",  # type: ignore[union-attr]
                                                "url": "https://example.com/case/1",
                                                "picurl": "https://example.com/case/1.png"}], "news:1")])
    deliver(runtime)
    image, news = (c.json for c in standin.calls("/cgi-bin/webhook/send"))
    assert image["msgtype"] == "image"
    assert base64.b64decode(image["image"]["base64"]) == PNG
    assert image["image"]["md5"] == hashlib.md5(PNG).hexdigest()
    assert news["msgtype"] == "news" and news["news"]["articles"][0]["title"] == "星屿科技案例复盘"


def test_dingtalk_group_signed_markdown_with_at(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        push(session, "cidDtGroupP2", overdue_reply(["dt_designer"]), dedupe_key="overdue:T-2:2026-11-25",
             mention_mobiles=["13900000001"])
    deliver(runtime)
    [call] = standin.calls("/robot/send")  # the stand-in checked timestamp + sign like DingTalk does
    assert call.query["access_token"] == "dt-grp-token"
    body = call.json
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "逾期任务提醒"
    assert body["at"] == {"atUserIds": ["dt_designer"], "atMobiles": ["13900000001"], "isAtAll": False}
    assert "@dt_designer" in body["markdown"]["text"] and "@13900000001" in body["markdown"]["text"]
    with runtime.db.unit_of_work() as session:
        assert session.scalars(select(OutboxMessage.status)).all() == ["sent"]


def test_dingtalk_action_card(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        address = address_for(binding_for_chat(session, "cidDtGroupP2"), "cidDtGroupP2")
        outbox.enqueue(session, [address.action_card(  # type: ignore[union-attr]
            "提案待确认", "### 门店焕新提案 v2\n请在周五前确认", [("查看提案", "https://example.com/p/2"),
                                                        ("联系负责人", "https://example.com/u/am2")], "card:1")])
    deliver(runtime)
    body = standin.calls("/robot/send")[0].json
    assert body["msgtype"] == "actionCard"
    assert [b["title"] for b in body["actionCard"]["btns"]] == ["查看提案", "联系负责人"]


def test_a_wrong_robot_secret_is_dead_lettered_with_the_reason(runtime: Runtime, standin: StandIn,
                                                               agency: Agency) -> None:
    with agency.db.unit_of_work() as session:
        binding = session.scalars(select(ChatBinding).where(ChatBinding.chat_id == "cidDtGroupP2")).one()
        binding.webhook_secret = "SECwrong"
        push(session, "cidDtGroupP2", Reply.text("签名错了"), dedupe_key="x:1")
    deliver(runtime)
    with agency.db.unit_of_work() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "dead" and "310000" in (row.last_error or "")


def test_same_push_twice_is_stored_once(runtime: Runtime, standin: StandIn) -> None:
    for _ in range(2):
        with runtime.db.unit_of_work() as session:
            push(session, "wrgroup_p1", Reply.text("每日站会"), dedupe_key="standup:2026-11-25")
    deliver(runtime)
    assert len(standin.calls("/cgi-bin/webhook/send")) == 1


def test_chat_without_a_webhook_goes_to_the_console(runtime: Runtime, standin: StandIn) -> None:
    with runtime.db.unit_of_work() as session:
        [row] = push(session, "wrclient_c1", Reply.text("您的报告已生成"), dedupe_key="report:c1")
        assert row.channel == "console" and row.payload["html"] == "<p>您的报告已生成</p>"
    deliver(runtime)
    assert standin.requests == []
