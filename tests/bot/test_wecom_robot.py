"""/wecom/robot/callback: the smart robot (智能机器人) @-mentioned in an internal group, JSON callbacks
with receiveid "", passive stream answers, and the response_url when the answer is late."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_core.models import Interaction
from tests.bot.conftest import Agency, answers_held, app_client, channel_settings
from tests.bot.peers import WeComRobot
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def post(client: TestClient, signed) -> object:  # type: ignore[no-untyped-def]
    return client.post("/wecom/robot/callback", params=signed.params, content=signed.body,
                       headers={"Content-Type": "application/json"})


def test_url_check(client: TestClient, robot_peer: WeComRobot) -> None:
    params, echo = robot_peer.verify_url("robot-echo-8843")
    response = client.get("/wecom/robot/callback", params=params)
    assert response.status_code == 200 and response.text == echo


def test_group_mention_is_answered_with_a_finished_stream(client: TestClient, robot_peer: WeComRobot,
                                                          standin: StandIn) -> None:
    signed = robot_peer.text("am1", "@客户助手 /客户 星屿科技", "robotmsg-1", chat_id="wrgroup_p1",
                             response_url=f"{standin.url}/cgi-bin/aibot/response?response_code=rc1")
    response = post(client, signed)
    assert response.status_code == 200
    answer = robot_peer.open_reply(response.json())
    assert answer["msgtype"] == "stream" and answer["stream"]["finish"] is True and answer["stream"]["id"]
    assert "客户档案｜星屿科技（C-1）" in answer["stream"]["content"]
    assert standin.calls("/cgi-bin/aibot/response") == []


def test_retried_robot_message_runs_once(client: TestClient, robot_peer: WeComRobot, agency: Agency) -> None:
    signed = robot_peer.text("am1", "@客户助手 /跟进 星屿科技 群里确认了档期", "robotmsg-2", chat_id="wrgroup_p1")
    assert post(client, signed).status_code == 200
    for _ in range(3):
        again = post(client, signed)
        assert again.status_code == 200 and again.text == ""
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_late_answer_goes_once_to_the_response_url(agency: Agency, standin: StandIn, robot_peer: WeComRobot) -> None:
    settings = channel_settings(agency.db, standin, wecom_reply_budget_seconds=0.05)
    url = f"{standin.url}/cgi-bin/aibot/response?response_code=rc-late"
    with app_client(settings, agency.db, worker=True) as client:
        with answers_held(client):
            response = post(client, robot_peer.text("am1", "@客户助手 /帮助", "robotmsg-3", chat_id="wrgroup_p1",
                                                    response_url=url))
        assert response.status_code == 200 and response.text == ""
        sent = standin.wait_for("/cgi-bin/aibot/response")
    assert sent[0].query["response_code"] == "rc-late"
    assert sent[0].json["msgtype"] == "markdown" and "/客户" in sent[0].json["markdown"]["content"]
    assert len(standin.calls("/cgi-bin/aibot/response")) == 1


def test_enter_chat_event_gets_a_welcome(client: TestClient, robot_peer: WeComRobot) -> None:
    signed = robot_peer.post({"msgid": "ev-1", "aibotid": "AIBOT_TEST", "chattype": "single", "from": {"userid": "am1"},
                              "msgtype": "event", "event": {"eventtype": "enter_chat"}})
    answer = robot_peer.open_reply(post(client, signed).json())
    assert answer["msgtype"] == "text" and "@我" in answer["text"]["content"]


def test_robot_refuses_forged_and_malformed_callbacks(client: TestClient, robot_peer: WeComRobot,
                                                      agency: Agency) -> None:
    forged = robot_peer.text("am1", "/跟进 星屿科技 伪造", "robotmsg-4", chat_id="wrgroup_p1", tamper="signature")
    assert post(client, forged).status_code == 403
    assert client.post("/wecom/robot/callback", params=forged.params, content=b"{not json").status_code == 400
    # correctly signed, but the decrypted payload is not JSON
    encrypt = robot_peer.encrypt("<xml>not json</xml>")
    params = {**forged.params, "msg_signature": robot_peer.sign(forged.params["timestamp"], forged.params["nonce"], encrypt)}
    response = client.post("/wecom/robot/callback", params=params, content=json.dumps({"encrypt": encrypt}))
    assert response.status_code == 400
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_direct_chat_with_the_robot(client: TestClient, robot_peer: WeComRobot) -> None:
    answer = robot_peer.open_reply(post(client, robot_peer.text("am2", "/客户 澜山茶饮", "robotmsg-5")).json())
    assert "澜山茶饮" in answer["stream"]["content"]
