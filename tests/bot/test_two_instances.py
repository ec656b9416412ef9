"""Two server processes' worth of app on one database (as `crmbot serve` twice behind a load
balancer): the messengers' retries land on either, concurrently, and each message is handled once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from crm_core.models import Interaction
from tests.bot.conftest import Agency, LiveServer, channel_settings, eventually
from tests.bot.peers import DingTalkRobot, WeComApp
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres


def interactions(agency: Agency) -> int:
    with agency.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


def test_wecom_retries_across_two_instances_run_the_handler_once(agency: Agency, standin: StandIn,
                                                                  wecom_peer: WeComApp) -> None:
    settings = channel_settings(agency.db, standin)
    signed = wecom_peer.text("am1", "/跟进 星屿科技 两台服务器都收到了", "7400000000000000001")
    with LiveServer(create_app(settings, agency.db, worker=True)) as a, \
            LiveServer(create_app(settings, agency.db, worker=True)) as b, httpx.Client(timeout=10) as http:
        def deliver(url: str) -> httpx.Response:
            return http.post(f"{url}/wecom/callback", params=signed.params, content=signed.body)

        with ThreadPoolExecutor(4) as pool:  # the original and three retries, at the same time
            responses = list(pool.map(deliver, [a.url, b.url, a.url, b.url]))
    assert [r.status_code for r in responses] == [200] * 4
    answered = [wecom_peer.open_reply(r.content) for r in responses if r.content]
    assert len(answered) + len(standin.calls("/cgi-bin/message/send")) == 1
    if answered:
        assert "已记录「星屿科技」的跟进" in answered[0]["Content"]
    assert interactions(agency) == 1


def test_dingtalk_redeliveries_across_two_instances_answer_once(agency: Agency, standin: StandIn,
                                                                dingtalk_peer: DingTalkRobot) -> None:
    settings = channel_settings(agency.db, standin)
    message = json.dumps(dingtalk_peer.message("/跟进 澜山茶饮 钉钉重发", "msgTwo1", staff_id="dt_am2")).encode()
    with LiveServer(create_app(settings, agency.db, worker=True)) as a, \
            LiveServer(create_app(settings, agency.db, worker=True)) as b, httpx.Client(timeout=10) as http:
        def deliver(url: str) -> int:
            return http.post(f"{url}/dingtalk/callback", content=message, headers=dingtalk_peer.headers()).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(deliver, [a.url, b.url, b.url, a.url])) == [200] * 4
        eventually(lambda: standin.calls("/robot/sendBySession"))
        time.sleep(1.0)  # both workers keep polling (every 0.2 s) for a while: still a single answer
    assert len(standin.calls("/robot/sendBySession")) == 1
    assert interactions(agency) == 1
