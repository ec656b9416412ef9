"""/wecom/callback as WeCom calls it: URL check, encrypted text and events, passive answers, the
deadline path through the app message API, dedupe of retries."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_core.models import Interaction, OutboxMessage, Staff
from handlers.reply import Heading, ListBlock, Reply
from tests.bot.conftest import Agency, answers_held, app_client, channel_settings, eventually
from tests.bot.peers import WeComApp
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres

# Tencent's published sample (企业微信 加解密库 Sample): token, EncodingAESKey, corp id, URL check.
OFFICIAL = {"token": "QDG6eK", "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "corp": "wx5823bf96d3bd56c7"}
OFFICIAL_VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
                   "nonce": "263014780",
                   "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}


def post(client: TestClient, signed) -> object:  # type: ignore[no-untyped-def]
    return client.post("/wecom/callback", params=signed.params, content=signed.body,
                       headers={"Content-Type": "text/xml"})


def test_url_check_with_tencents_published_sample(agency: Agency, standin: StandIn) -> None:
    settings = channel_settings(agency.db, standin, wecom_token=OFFICIAL["token"], wecom_aes_key=OFFICIAL["aes_key"],
                                wecom_corp_id=OFFICIAL["corp"])
    with app_client(settings, agency.db) as client:
        response = client.get("/wecom/callback", params=OFFICIAL_VERIFY)
    assert response.status_code == 200
    assert response.text == "1616140317555161061"
    assert response.headers["content-type"].startswith("text/plain")


def test_url_check_answers_the_decrypted_echostr(client: TestClient, wecom_peer: WeComApp) -> None:
    params, echo = wecom_peer.verify_url("4561255354251345929")
    response = client.get("/wecom/callback", params=params)
    assert response.status_code == 200 and response.text == echo


def test_url_check_with_a_wrong_signature_is_refused(client: TestClient, wecom_peer: WeComApp) -> None:
    params, _ = wecom_peer.verify_url("123")
    params["msg_signature"] = "0" * 40
    assert client.get("/wecom/callback", params=params).status_code == 403
    del params["echostr"]
    assert client.get("/wecom/callback", params=params).status_code == 400


def test_text_is_answered_passively_encrypted(client: TestClient, wecom_peer: WeComApp, standin: StandIn) -> None:
    response = post(client, wecom_peer.text("am1", "/客户 星屿科技", "7100000000000000001"))
    assert response.status_code == 200
    answer = wecom_peer.open_reply(response.content)
    assert answer["ToUserName"] == "am1" and answer["FromUserName"] == "ww_test_corp"
    assert answer["MsgType"] == "text"
    assert "客户档案｜星屿科技（C-1）" in answer["Content"] and "13812341234" in answer["Content"]
    assert standin.calls("/cgi-bin/message/send") == []


def test_unknown_member_is_told_how_to_get_bound(client: TestClient, wecom_peer: WeComApp) -> None:
    answer = wecom_peer.open_reply(post(client, wecom_peer.text("newcomer", "/客户 星屿科技", "7100000000000000002")).content)
    assert "crmbot staff bind" in answer["Content"] and "星屿" not in answer["Content"]


def test_three_retries_of_one_message_are_handled_once(client: TestClient, wecom_peer: WeComApp,
                                                       agency: Agency) -> None:
    signed = wecom_peer.text("am1", "/跟进 星屿科技 电话沟通了排期", "7100000000000000003")
    first = post(client, signed)
    assert "已记录「星屿科技」的跟进" in wecom_peer.open_reply(first.content)["Content"]
    for _ in range(3):  # WeCom retries the very same request
        retry = post(client, signed)
        assert retry.status_code == 200 and retry.text == ""
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_slow_answer_goes_out_through_the_app_message_api(agency: Agency, standin: StandIn,
                                                          wecom_peer: WeComApp) -> None:
    settings = channel_settings(agency.db, standin, wecom_reply_budget_seconds=0.05)
    with app_client(settings, agency.db, worker=True) as client:
        with answers_held(client):
            response = post(client, wecom_peer.text("am1", "/客户 星屿科技", "7100000000000000004"))
        assert response.status_code == 200 and response.text == ""
        sent = standin.wait_for("/cgi-bin/message/send")
    body = sent[0].json
    assert body["touser"] == "am1" and body["agentid"] == 1000002 and body["msgtype"] == "markdown"
    assert "客户档案｜星屿科技（C-1）" in body["markdown"]["content"]
    assert body["enable_duplicate_check"] == 1
    assert len(standin.calls("/cgi-bin/gettoken")) == 1
    assert sent[0].query["access_token"].startswith("wt-")


def test_subscribe_gets_the_help_text(client: TestClient, wecom_peer: WeComApp) -> None:
    answer = wecom_peer.open_reply(post(client, wecom_peer.event("am1", "subscribe")).content)
    assert "/客户" in answer["Content"]


def test_enter_agent_greets_once_a_day(client: TestClient, wecom_peer: WeComApp) -> None:
    first = post(client, wecom_peer.event("am1", "enter_agent", create_time=1_780_000_000))
    assert "客户助手" in wecom_peer.open_reply(first.content)["Content"]
    again = post(client, wecom_peer.event("am1", "enter_agent", create_time=1_780_000_060))
    assert again.status_code == 200 and again.text == ""


def test_member_removed_from_the_directory_loses_access(client: TestClient, wecom_peer: WeComApp,
                                                        agency: Agency) -> None:
    response = post(client, wecom_peer.event("sys", "change_contact", ChangeType="delete_user", UserID="am1"))
    assert response.status_code == 200
    with agency.db.unit_of_work() as session:
        assert session.scalars(select(Staff.active).where(Staff.wecom_userid == "am1")).one() is False
    answer = wecom_peer.open_reply(post(client, wecom_peer.text("am1", "/客户 星屿科技", "7100000000000000005")).content)
    assert "crmbot staff bind" in answer["Content"]


def test_renamed_member_keeps_access_under_the_new_id(client: TestClient, wecom_peer: WeComApp) -> None:
    ts = 1_780_000_500
    post(client, wecom_peer.event("sys", "change_contact", create_time=ts, ChangeType="update_user", UserID="am2",
                                  NewUserID="am2_new"))
    # a second change in the same second, for another member, is not mistaken for a retry
    post(client, wecom_peer.event("sys", "change_contact", create_time=ts, ChangeType="update_user", UserID="sales1",
                                  NewUserID="sales1_new"))
    for user, msg_id in (("am2_new", "7100000000000000006"), ("sales1_new", "7100000000000000007")):
        answer = wecom_peer.open_reply(post(client, wecom_peer.text(user, "/客户 澜山茶饮", msg_id)).content)
        assert "crmbot staff bind" not in answer["Content"]


def test_non_text_message_gets_a_polite_chinese_answer(client: TestClient, wecom_peer: WeComApp) -> None:
    signed = wecom_peer.post({"FromUserName": "am1", "CreateTime": 1_780_000_000, "MsgType": "image",
                              "PicUrl": "http://example.invalid/p.png", "MediaId": "m1", "MsgId": "7100000000000000008"})
    assert "文字" in wecom_peer.open_reply(post(client, signed).content)["Content"]


def test_interaction_count_is_visible_after_restart(settings, agency: Agency, wecom_peer: WeComApp) -> None:  # type: ignore[no-untyped-def]
    """A retry that reaches a restarted server is still recognised: the dedupe lives in the database."""
    signed = wecom_peer.text("am1", "/跟进 星屿科技 重启前的跟进", "7100000000000000009")
    with app_client(settings, agency.db) as client:
        assert post(client, signed).status_code == 200
    with app_client(settings, agency.db) as client:
        assert post(client, signed).text == ""
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_slow_answer_is_queued_once_even_when_the_worker_runs_later(agency: Agency, standin: StandIn,
                                                                  wecom_peer: WeComApp) -> None:
    settings = channel_settings(agency.db, standin, wecom_reply_budget_seconds=0.05)
    with app_client(settings, agency.db) as client:
        with answers_held(client):
            assert post(client, wecom_peer.text("am1", "/客户 澜山茶饮", "7100000000000000010")).text == ""
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        eventually(lambda: runtime.worker.run_once() == 1)
        assert runtime.worker.run_once() == 0
    assert len(standin.calls("/cgi-bin/message/send")) == 1


def test_help_is_one_passive_answer(client: TestClient, wecom_peer: WeComApp, standin: StandIn) -> None:
    """The first thing a newcomer sends fits WeCom's 2,048-byte passive text: one message, not "（1/2）"."""
    answer = wecom_peer.open_reply(post(client, wecom_peer.text("am1", "/帮助", "7100000000000000012")).content)
    assert answer["Content"].startswith("【客户助手能帮你做这些】") and "/客户" in answer["Content"]
    assert "（1/" not in answer["Content"] and len(answer["Content"].encode("utf-8")) <= 2048
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    while runtime.worker.run_once():
        pass
    assert standin.calls("/cgi-bin/message/send") == []


def test_long_answer_first_part_passive_rest_through_the_api(client: TestClient, wecom_peer: WeComApp,
                                                             standin: StandIn) -> None:
    long = Reply(blocks=[Heading(text="本周任务"),
                         ListBlock(items=[f"T-{i:03d} 星屿科技品牌升级 · 第{i}版海报修改，周五 18:00 前交付" for i in range(60)])])
    runner = client.app.state.runtime.runner  # type: ignore[attr-defined]
    handler, runner.handler = runner.handler, lambda *args, **kwargs: long
    try:
        response = post(client, wecom_peer.text("am1", "/任务", "7100000000000000011"))
    finally:
        runner.handler = handler
    first = wecom_peer.open_reply(response.content)["Content"]
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    while runtime.worker.run_once():
        pass
    rest = [r.json["text"]["content"] for r in standin.calls("/cgi-bin/message/send")]
    parts = [first, *rest]
    assert len(parts) >= 2
    assert [p.split("\n", 1)[0] for p in parts] == [f"（{i}/{len(parts)}）" for i in range(1, len(parts) + 1)]
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    joined = "".join(parts)
    assert all(f"T-{i:03d} " in joined for i in range(60))  # nothing lost at the cuts


def test_a_reply_that_cannot_be_stored_takes_the_handlers_writes_with_it(
        client: TestClient, wecom_peer: WeComApp, agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow-up and its answer commit together: the answer failing to be written leaves no
    follow-up behind that the member was never told about; they get the apology instead."""
    import bot.inbound

    real, calls = bot.inbound.outbox.enqueue, []

    def enqueue_failing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.inbound.outbox, "enqueue", enqueue_failing_once)
    answer = wecom_peer.open_reply(post(client, wecom_peer.text("am1", "/跟进 星屿科技 写不进去的跟进", "7100000000000000077")).content)
    assert "出了点问题" in answer["Content"]
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
        [row] = session.scalars(select(OutboxMessage)).all()
        assert "出了点问题" in row.text and row.delivered_via == "passive"
