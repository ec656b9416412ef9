"""DingTalk Stream mode (DINGTALK_TRANSPORT=stream): the robot's messages arrive over a WebSocket the
bot opens through the dingtalk-stream client, and take the same path as the HTTP callback.

The gateway is stood in for on 127.0.0.1: ``/v1.0/gateway/connections/open`` on the HTTP stand-in
hands out a WebSocket endpoint and ticket, and a local WebSocket server plays DingTalk's side of the
stream protocol (CALLBACK frames in, ACK frames out)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from websockets.sync.server import ServerConnection, serve

from crm_core.models import Interaction
from tests.bot.conftest import Agency, app_client, channel_settings, eventually
from tests.bot.peers import DingTalkRobot
from tests.bot.standin import Recorded, StandIn

pytestmark = pytest.mark.postgres
TOPIC = "/v1.0/im/bot/messages/get"


class Gateway:
    """DingTalk's end of a stream connection: pushes frames, collects the client's acks."""

    def __init__(self) -> None:
        self.outgoing: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: list[dict[str, Any]] = []
        self.tickets: list[str] = []
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/connect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handle(self, ws: ServerConnection) -> None:
        self.tickets.append(ws.request.path.split("ticket=", 1)[-1] if ws.request else "")
        while True:
            try:
                frame = self.outgoing.get(timeout=0.05)
                ws.send(json.dumps(frame))
            except queue.Empty:
                pass
            try:
                self.acks.append(json.loads(ws.recv(timeout=0.05)))
            except TimeoutError:
                pass
            except Exception:
                return

    def callback(self, message_id: str, data: dict[str, Any]) -> None:
        self.outgoing.put({"specVersion": "1.0", "type": "CALLBACK",
                           "headers": {"appId": "app1", "connectionId": "conn1", "contentType": "application/json",
                                       "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": TOPIC},
                           "data": json.dumps(data, ensure_ascii=False)})


@pytest.fixture
def gateway(standin: StandIn) -> Iterator[Gateway]:
    gw = Gateway()
    gw.thread.start()

    def open_connection(rec: Recorded) -> tuple[int, Any]:
        return 200, {"endpoint": gw.url, "ticket": "ticket-42"}

    standin.routes["/v1.0/gateway/connections/open"] = open_connection
    yield gw
    gw.server.shutdown()


def test_stream_messages_share_the_callback_pipeline(agency: Agency, standin: StandIn, gateway: Gateway,
                                                     dingtalk_peer: DingTalkRobot) -> None:
    settings = channel_settings(agency.db, standin, dingtalk_transport="stream")
    message = dingtalk_peer.message("/跟进 星屿科技 通过 Stream 收到", "msgStream1", staff_id="dt_am1")
    with app_client(settings, agency.db, worker=True):
        [opened] = standin.wait_for("/v1.0/gateway/connections/open")
        assert opened.json["clientId"] == "dingapptestkey" and opened.json["clientSecret"] == "dt-app-secret-XYZ"
        assert {"type": "CALLBACK", "topic": TOPIC} in opened.json["subscriptions"]
        eventually(lambda: gateway.tickets == ["ticket-42"])
        gateway.callback("frame-1", message)
        gateway.callback("frame-2", message)  # DingTalk redelivers the same msgId
        eventually(lambda: len(gateway.acks) == 2)
        [sent] = standin.wait_for("/robot/sendBySession")
        time.sleep(0.5)
    assert sorted(a["headers"]["messageId"] for a in gateway.acks) == ["frame-1", "frame-2"]
    assert all(a["code"] == 200 for a in gateway.acks)
    assert "已记录「星屿科技」的跟进" in sent.json["markdown"]["text"]
    assert len(standin.calls("/robot/sendBySession")) == 1
    with agency.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_malformed_stream_message_is_acked_as_bad_request(agency: Agency, standin: StandIn, gateway: Gateway) -> None:
    settings = channel_settings(agency.db, standin, dingtalk_transport="stream")
    with app_client(settings, agency.db):
        eventually(lambda: gateway.tickets)
        gateway.callback("frame-bad", {"text": {"content": "没有 msgId"}})
        eventually(lambda: gateway.acks)
    assert gateway.acks[0]["code"] == 400
