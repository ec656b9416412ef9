"""Every tampered or malformed callback is refused with its status and a logged reason, nothing is
processed, and the server keeps serving."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_core.models import Interaction, ProcessedMessage
from tests.bot.conftest import Agency
from tests.bot.peers import DingTalkRobot, WeComApp, WeComRobot, plain_xml

pytestmark = pytest.mark.postgres
FOLLOW_UP = "/跟进 星屿科技 不该被记录"
BOMB = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><ToUserName>&c;</ToUserName><Encrypt>x</Encrypt></xml>')


def nothing_processed(agency: Agency) -> bool:
    with agency.db.unit_of_work() as session:
        return (session.scalar(select(func.count()).select_from(ProcessedMessage)) == 0
                and session.scalar(select(func.count()).select_from(Interaction)) == 0)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "crmbot.callbacks" and "refused" in r.getMessage()]


@pytest.mark.parametrize("tamper", ["signature", "body", "receiver", "missing"])
def test_wecom_tampered_callback_is_403(client: TestClient, wecom_peer: WeComApp, agency: Agency,
                                        caplog: pytest.LogCaptureFixture, tamper: str) -> None:
    caplog.set_level(logging.WARNING, "crmbot.callbacks")
    signed = wecom_peer.text("am1", FOLLOW_UP, "7300000000000000001", tamper=tamper)
    response = client.post("/wecom/callback", params=signed.params, content=signed.body)
    assert response.status_code == 403
    assert nothing_processed(agency)
    [line] = refusals(caplog)
    assert "403" in line and "/wecom/callback" in line


def test_wecom_malformed_xml_is_400(client: TestClient, wecom_peer: WeComApp, agency: Agency,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "crmbot.callbacks")
    params = wecom_peer.text("am1", FOLLOW_UP, "7300000000000000002").params
    for body in (b"<xml><Encrypt>abc</Encrypt>", b"not xml at all", b"<notxml><Encrypt>x</Encrypt></notxml>",
                 b"<xml><ToUserName>x</ToUserName></xml>"):
        assert client.post("/wecom/callback", params=params, content=body).status_code == 400
    assert nothing_processed(agency)
    assert len(refusals(caplog)) == 4


def test_wecom_xml_entities_are_never_expanded(client: TestClient, wecom_peer: WeComApp, agency: Agency) -> None:
    params = wecom_peer.text("am1", FOLLOW_UP, "7300000000000000003").params
    assert client.post("/wecom/callback", params=params, content=BOMB.encode()).status_code == 400
    # the same inside a correctly signed and encrypted message
    inner = BOMB.replace("<Encrypt>x</Encrypt>", "<FromUserName>am1</FromUserName><MsgType>text</MsgType>"
                                                "<Content>&c;</Content><MsgId>7300000000000000004</MsgId>")
    encrypt = wecom_peer.encrypt(inner)
    ts, nonce = params["timestamp"], params["nonce"]
    signed_params = {"msg_signature": wecom_peer.sign(ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}
    body = plain_xml({"ToUserName": "ww_test_corp", "Encrypt": encrypt}).encode()
    assert client.post("/wecom/callback", params=signed_params, content=body).status_code == 400
    assert nothing_processed(agency)


def test_oversized_bodies_are_413(client: TestClient, wecom_peer: WeComApp, robot_peer: WeComRobot,
                                  dingtalk_peer: DingTalkRobot, agency: Agency) -> None:
    signed = wecom_peer.text("am1", "长" * 30_000, "7300000000000000005")  # ~90 KB of ciphertext
    assert len(signed.body) > 65536
    assert client.post("/wecom/callback", params=signed.params, content=signed.body).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for i in range(0, len(signed.body), 8192):
            yield signed.body[i:i + 8192]

    assert client.post("/wecom/callback", params=signed.params, content=chunks()).status_code == 413
    robot = robot_peer.text("am1", "长" * 30_000, "robot-big")
    assert client.post("/wecom/robot/callback", params=robot.params, content=robot.body).status_code == 413
    big = b'{"msgId": "dt-big", "text": {"content": "' + b"x" * 70_000 + b'"}}'
    assert client.post("/dingtalk/callback", content=big, headers=dingtalk_peer.headers()).status_code == 413
    assert nothing_processed(agency)


def test_server_keeps_serving_after_refusals(client: TestClient, wecom_peer: WeComApp,
                                             dingtalk_peer: DingTalkRobot) -> None:
    for tamper in ("signature", "body", "receiver"):
        bad = wecom_peer.text("am1", FOLLOW_UP, "7300000000000000006", tamper=tamper)
        client.post("/wecom/callback", params=bad.params, content=bad.body)
    client.post("/wecom/callback", params={"msg_signature": "x", "timestamp": "1", "nonce": "2"}, content=BOMB.encode())
    client.post("/dingtalk/callback", content=b"{}", headers={"timestamp": "1", "sign": "x"})
    assert client.get("/healthz").status_code == 200
    good = wecom_peer.text("am1", "/客户 星屿科技", "7300000000000000006")  # the same MsgId, now genuine
    answer = wecom_peer.open_reply(client.post("/wecom/callback", params=good.params, content=good.body).content)
    assert "星屿科技" in answer["Content"]


def test_callbacks_are_refused_when_the_channel_is_not_configured(agency: Agency, standin, wecom_peer) -> None:  # type: ignore[no-untyped-def]
    from tests.bot.conftest import app_client, channel_settings

    settings = channel_settings(agency.db, standin, wecom_token="", dingtalk_app_secret="")
    with app_client(settings, agency.db) as client:
        signed = wecom_peer.text("am1", FOLLOW_UP, "7300000000000000007")
        assert client.post("/wecom/callback", params=signed.params, content=signed.body).status_code == 403
        assert client.post("/dingtalk/callback", content=b"{}", headers={"timestamp": "1", "sign": "x"}).status_code == 403
    assert nothing_processed(agency)
