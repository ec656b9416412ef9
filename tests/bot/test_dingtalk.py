"""/dingtalk/callback (enterprise robot, HTTP mode) and /dingtalk/events as DingTalk calls them:
signed headers, dedupe by msgId, replies through sessionWebhook and, once it expired, the robot OpenAPI."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_core.models import Interaction, Staff
from tests.bot.conftest import Agency
from tests.bot.peers import DingTalkEvents, DingTalkRobot
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def post(client: TestClient, peer: DingTalkRobot, message: dict[str, object], **headers_kw: object):  # type: ignore[no-untyped-def]
    return client.post("/dingtalk/callback", content=json.dumps(message, ensure_ascii=False).encode(),
                       headers=peer.headers(**headers_kw))  # type: ignore[arg-type]


def deliver(client: TestClient) -> int:
    return int(client.app.state.runtime.worker.run_once())  # type: ignore[attr-defined]


def test_direct_message_is_answered_through_the_session_webhook(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                                standin: StandIn) -> None:
    response = post(client, dingtalk_peer, dingtalk_peer.message("/客户 星屿科技", "msgDt1", staff_id="dt_am1"))
    assert response.status_code == 200
    assert deliver(client) == 1
    [call] = standin.calls("/robot/sendBySession")
    assert call.query["session"] == "s-msgDt1"
    body = call.json
    assert body["msgtype"] == "markdown" and "星屿科技" in body["markdown"]["title"]
    assert "客户档案｜星屿科技（C-1）" in body["markdown"]["text"] and "13812341234" in body["markdown"]["text"]
    assert standin.calls("/v1.0/oauth2/accessToken") == []


def test_group_answer_mentions_the_person_who_asked(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                   standin: StandIn) -> None:
    message = dingtalk_peer.message("/客户 澜山茶饮", "msgDt2", staff_id="dt_am2", group=True,
                                    conversation_id="cidDtGroupP2", at=["robotStaff"])
    assert post(client, dingtalk_peer, message).status_code == 200
    deliver(client)
    body = standin.calls("/robot/sendBySession")[0].json
    assert body["at"]["atUserIds"] == ["dt_am2"] and "@dt_am2" in body["markdown"]["text"]


def test_expired_session_webhook_falls_back_to_the_group_openapi(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                                 standin: StandIn) -> None:
    message = dingtalk_peer.message("/客户 澜山茶饮", "msgDt3", staff_id="dt_am2", group=True,
                                    conversation_id="cidDtGroupP2", webhook_ttl_ms=-1000)
    assert post(client, dingtalk_peer, message).status_code == 200
    deliver(client)
    assert standin.calls("/robot/sendBySession") == []
    [token] = standin.calls("/v1.0/oauth2/accessToken")
    assert token.json == {"appKey": "dingapptestkey", "appSecret": "dt-app-secret-XYZ"}
    [sent] = standin.calls("/v1.0/robot/groupMessages/send")
    assert sent.headers["x-acs-dingtalk-access-token"].startswith("dt-")
    body = sent.json
    assert body["openConversationId"] == "cidDtGroupP2" and body["robotCode"] == "dingapptestkey"
    assert body["msgKey"] == "sampleMarkdown"
    assert "澜山茶饮" in json.loads(body["msgParam"])["text"]


def test_expired_session_webhook_in_a_direct_chat_uses_batch_send(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                                  standin: StandIn) -> None:
    # expires in 30 s: too close to trust it with a request
    message = dingtalk_peer.message("/帮助", "msgDt4", staff_id="dt_am1", webhook_ttl_ms=30_000)
    assert post(client, dingtalk_peer, message).status_code == 200
    deliver(client)
    [sent] = standin.calls("/v1.0/robot/oToMessages/batchSend")
    assert sent.json["userIds"] == ["dt_am1"] and sent.json["robotCode"] == "dingapptestkey"


def test_openapi_token_is_refreshed_when_refused(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                 standin: StandIn) -> None:
    for i, msg_id in enumerate(("msgDt5", "msgDt6")):
        if i == 1:
            standin.expire_tokens()
        message = dingtalk_peer.message("/帮助", msg_id, staff_id="dt_am1", webhook_ttl_ms=-1)
        post(client, dingtalk_peer, message)
        assert deliver(client) == 1
    assert len(standin.calls("/v1.0/oauth2/accessToken")) == 2
    sends = standin.calls("/v1.0/robot/oToMessages/batchSend")
    assert len(sends) == 3  # second message: refused once with the expired token, then sent


def test_redelivered_message_is_handled_once(client: TestClient, dingtalk_peer: DingTalkRobot, standin: StandIn,
                                             agency: Agency) -> None:
    message = dingtalk_peer.message("/跟进 星屿科技 钉钉里聊了预算", "msgDt7", staff_id="dt_am1")
    for _ in range(3):
        assert post(client, dingtalk_peer, message).status_code == 200
    deliver(client)
    assert len(standin.calls("/robot/sendBySession")) == 1
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_unknown_staff_id_gets_the_dingtalk_binding_hint(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                         standin: StandIn) -> None:
    post(client, dingtalk_peer, dingtalk_peer.message("/客户 星屿科技", "msgDt8", staff_id="dt_newcomer"))
    deliver(client)
    text = standin.calls("/robot/sendBySession")[0].json["markdown"]["text"]
    assert "crmbot staff bind" in text and "--dingtalk" in text and "dt_newcomer" in text and "星屿" not in text


@pytest.mark.parametrize("tamper", ["secret", "missing"])
def test_bad_or_missing_sign_is_refused_without_processing(client: TestClient, dingtalk_peer: DingTalkRobot,
                                                           standin: StandIn, tamper: str) -> None:
    message = dingtalk_peer.message("/跟进 星屿科技 伪造的消息", f"msgDtBad-{tamper}", staff_id="dt_am1")
    assert post(client, dingtalk_peer, message, tamper=tamper).status_code == 403
    deliver(client)
    assert standin.requests == []


@pytest.mark.parametrize("skew_ms", [-3601_000, 3601_000])
def test_timestamp_outside_the_hour_is_refused(client: TestClient, dingtalk_peer: DingTalkRobot, standin: StandIn,
                                               skew_ms: int) -> None:
    message = dingtalk_peer.message("/帮助", f"msgDtOld{skew_ms}", staff_id="dt_am1")
    response = post(client, dingtalk_peer, message, timestamp_ms=int(time.time() * 1000) + skew_ms)
    assert response.status_code == 403
    deliver(client)
    assert standin.requests == []


def test_malformed_json_is_400_once_signed(client: TestClient, dingtalk_peer: DingTalkRobot) -> None:
    response = client.post("/dingtalk/callback", content=b'{"msgId": "x", ', headers=dingtalk_peer.headers())
    assert response.status_code == 400
    response = client.post("/dingtalk/callback", content=b'{"text": {"content": "hi"}}', headers=dingtalk_peer.headers())
    assert response.status_code == 400  # no msgId / conversationId


def test_member_leaving_the_organisation_loses_access(client: TestClient, event_peer: DingTalkEvents,
                                                      agency: Agency) -> None:
    signed = event_peer.post({"EventType": "user_leave_org", "TimeStamp": "1780000000000", "UserId": ["dt_am1"],
                              "CorpId": "ding_corp"})
    response = client.post("/dingtalk/events", params=signed.params, content=signed.body)
    assert response.status_code == 200
    assert event_peer.open_reply(response.json()) == "success"
    with agency.db.unit_of_work() as session:
        assert session.scalars(select(Staff.active).where(Staff.dingtalk_userid == "dt_am1")).one() is False


def test_event_subscription_url_check_and_forged_events(client: TestClient, event_peer: DingTalkEvents) -> None:
    signed = event_peer.post({"EventType": "check_url"})
    response = client.post("/dingtalk/events", params=signed.params, content=signed.body)
    assert response.status_code == 200 and event_peer.open_reply(response.json()) == "success"
    forged = event_peer.post({"EventType": "user_leave_org", "UserId": ["dt_am2"]})
    params = {**forged.params, "signature": "0" * 40}
    assert client.post("/dingtalk/events", params=params, content=forged.body).status_code == 403
