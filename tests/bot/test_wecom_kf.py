"""微信客服: the kf_msg_or_event callback, kf/sync_msg from a cursor kept in the database, answers
through kf/send_msg; the WeChat client is an external-client actor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_core.models import ChannelCursor, Ticket
from tests.bot.conftest import Agency, eventually
from tests.bot.peers import WeComApp
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres
KFID = "wkTestKf01"


def kf_item(msgid: str, user: str, text: str, *, origin: int = 3) -> dict[str, object]:
    return {"msgid": msgid, "open_kfid": KFID, "external_userid": user, "send_time": 1_780_000_000, "origin": origin,
            "msgtype": "text", "text": {"content": text}}


def notify(client: TestClient, peer: WeComApp, token: str) -> None:
    response = client.post("/wecom/callback", **_req(peer.event("", "kf_msg_or_event", Token=token, OpenKfId=KFID)))
    assert response.status_code == 200 and response.text == ""


def _req(signed) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"params": signed.params, "content": signed.body}


def test_client_message_is_synced_answered_and_the_cursor_kept(client: TestClient, wecom_peer: WeComApp,
                                                               standin: StandIn, agency: Agency) -> None:
    standin.kf_pages[""] = {"next_cursor": "c1", "has_more": 1,
                            "msg_list": [kf_item("kfmsg-1", "wmKF_client_1", "/项目 星屿科技品牌升级"),
                                         kf_item("kfmsg-sys", "wmKF_client_1", "", origin=4)]}
    standin.kf_pages["c1"] = {"next_cursor": "c2", "has_more": 0,
                              "msg_list": [kf_item("kfmsg-2", "wmKF_client_1", "/工单 新建 报告数据对不上")]}
    notify(client, wecom_peer, "ENC_token_1")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    syncs = standin.wait_for("/cgi-bin/kf/sync_msg", 2)
    assert syncs[0].json["token"] == "ENC_token_1" and syncs[0].json["open_kfid"] == KFID
    assert "cursor" not in syncs[0].json and syncs[1].json["cursor"] == "c1"
    eventually(lambda: runtime.worker.run_once() >= 0 and len(standin.calls("/cgi-bin/kf/send_msg")) >= 2)
    sent = [r.json for r in standin.calls("/cgi-bin/kf/send_msg")]
    assert {s["touser"] for s in sent} == {"wmKF_client_1"} and {s["open_kfid"] for s in sent} == {KFID}
    texts = [s["text"]["content"] for s in sent]
    assert any("项目进度｜星屿科技品牌升级" in t for t in texts)
    assert any("已新建工单" in t for t in texts)
    assert all("策划甲" not in t for t in texts)  # an external client does not see who works on it
    with agency.db.unit_of_work() as session:
        assert session.scalars(select(ChannelCursor.value).where(ChannelCursor.name == f"wecom_kf:{KFID}")).one() == "c2"


def test_the_same_messages_read_again_are_not_handled_twice(client: TestClient, wecom_peer: WeComApp,
                                                            standin: StandIn, agency: Agency) -> None:
    page = {"next_cursor": "", "has_more": 0,  # the server hands the same message out again
            "msg_list": [kf_item("kfmsg-3", "wmKF_client_1", "/工单 新建 发票抬头开错了")]}
    standin.kf_pages[""] = page
    notify(client, wecom_peer, "ENC_token_2")
    standin.wait_for("/cgi-bin/kf/sync_msg", 1)
    notify(client, wecom_peer, "ENC_token_3")
    standin.wait_for("/cgi-bin/kf/sync_msg", 2)
    notify(client, wecom_peer, "ENC_token_3")  # a retried callback: no third sync
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    eventually(lambda: runtime.worker.run_once() >= 0 and standin.calls("/cgi-bin/kf/send_msg"))
    runtime.worker.run_once()
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert len(standin.calls("/cgi-bin/kf/send_msg")) == 1
    assert len(standin.calls("/cgi-bin/kf/sync_msg")) == 2


def test_unknown_wechat_client_is_told_how_to_get_access(client: TestClient, wecom_peer: WeComApp,
                                                         standin: StandIn) -> None:
    standin.kf_pages[""] = {"next_cursor": "x", "has_more": 0,
                            "msg_list": [kf_item("kfmsg-4", "wmKF_stranger", "你好，我想问下报价")]}
    notify(client, wecom_peer, "ENC_token_4")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    eventually(lambda: runtime.worker.run_once() >= 0 and standin.calls("/cgi-bin/kf/send_msg"))
    text = standin.calls("/cgi-bin/kf/send_msg")[0].json["text"]["content"]
    assert "客户经理" in text and "crmbot" not in text
