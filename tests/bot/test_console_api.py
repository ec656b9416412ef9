"""The console's JSON API: who can be chosen, which chats they see, what a message answers, and who
may use the console at all (CONSOLE=local|on|off)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.delivery.pushes import push
from handlers.reply import Reply
from tests.bot.conftest import Agency, channel_settings
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def test_people_and_their_chats(client: TestClient) -> None:
    people = client.get("/console/api/people").json()
    staff = {p["user_id"]: p for p in people if p["kind"] == "staff"}
    clients = {p["user_id"]: p for p in people if p["kind"] == "client"}
    assert staff["am1"]["name"] == "甲经理" and "客户一部" in staff["am1"]["detail"]
    assert clients["wm_client_1"]["name"] == "王敏" and "星屿科技" in clients["wm_client_1"]["detail"]
    chats = {c["chat_id"]: c for c in client.get("/console/api/chats", params={"user": "am1"}).json()}
    assert chats["dm:am1"]["kind"] == "dm" and chats["wrgroup_p1"]["kind"] == "project_group"
    assert "wrclient_c1" not in chats
    client_chats = [c["chat_id"] for c in
                    client.get("/console/api/chats", params={"user": "wm_client_1", "kind": "client"}).json()]
    assert client_chats == ["kf:wm_client_1", "wrclient_c1"]


def test_send_renders_html_with_the_senders_permissions(client: TestClient) -> None:
    own = client.post("/console/api/send", json={"user": "am1", "kind": "staff", "chat": "dm:am1",
                                                  "text": "/客户 星屿科技"}).json()
    assert "<h3>客户档案｜星屿科技（C-1）</h3>" in own["html"] and "13812341234" in own["plain"]
    other = client.post("/console/api/send", json={"user": "am2", "kind": "staff", "chat": "dm:am2",
                                                    "text": "/客户 星屿科技"}).json()
    assert "13812341234" not in other["plain"]
    bad = client.post("/console/api/send", json={"user": "am1", "kind": "robot", "chat": "dm:am1", "text": "x"})
    assert bad.status_code == 422


def test_pushes_for_a_chat(client: TestClient, agency: Agency) -> None:
    with agency.db.unit_of_work() as session:
        push(session, "wrgroup_p1", Reply.text("周会改到下午三点"), dedupe_key="meeting:1")
        push(session, "cidDtGroupP2", Reply.text("别的群"), dedupe_key="meeting:2")
    rows = client.get("/console/api/pushes", params={"chat": "wrgroup_p1"}).json()
    assert [r["text"] for r in rows] == ["周会改到下午三点"] and rows[0]["html"] == "<p>周会改到下午三点</p>"
    assert client.get("/console/api/pushes", params={"chat": "wrgroup_p1", "after": rows[0]["id"]}).json() == []


@pytest.mark.parametrize(("mode", "host", "status"), [("local", "10.1.2.3", 403), ("local", "127.0.0.1", 200),
                                                       ("on", "10.1.2.3", 200), ("off", "127.0.0.1", 404)])
def test_who_may_open_the_console(agency: Agency, standin: StandIn, mode: str, host: str, status: int) -> None:
    app = create_app(channel_settings(agency.db, standin, console=mode), agency.db, worker=False)
    with TestClient(app, client=(host, 40000)) as c:
        assert c.get("/console").status_code == status
        assert c.get("/console/api/people").status_code == status
