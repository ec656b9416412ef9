"""Channel tests: the app on a test database, the messengers' servers stood in for on 127.0.0.1.

``standin`` is a real HTTP server the bot's outbound calls go to (``WECOM_API_BASE``,
``DINGTALK_API_BASE``, ``DINGTALK_OAPI_BASE`` point at it); ``peers`` builds the inbound callbacks
from the published protocols. Nothing in between is replaced.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from config import Settings
from config.settings import load_settings
from crm_core.db import Database
from crm_core.models import ChatBinding, Contact
from tests.bot.peers import DingTalkEvents, DingTalkRobot, WeComApp, WeComRobot
from tests.bot.standin import StandIn
from tests.factories import World, build_world

CORP_ID = "ww_test_corp"
APP_TOKEN = "AppToken123"
APP_AES_KEY = base64.b64encode(bytes(range(32))).decode()[:-1]
ROBOT_TOKEN = "RobotToken456"
ROBOT_AES_KEY = base64.b64encode(bytes(range(100, 132))).decode()[:-1]
DT_APP_KEY = "dingapptestkey"
DT_APP_SECRET = "dt-app-secret-XYZ"
DT_EVENT_TOKEN = "DtEventToken"
DT_EVENT_AES_KEY = base64.b64encode(bytes(range(50, 82))).decode()[:-1]
WECOM_GROUP_KEY = "grp-key-1"
DT_GROUP_TOKEN = "dt-grp-token"
DT_GROUP_SECRET = "SECdtgroupsecret"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


def channel_settings(db: Database, standin: StandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "wecom_corp_id": CORP_ID, "wecom_agent_id": "1000002", "wecom_secret": "wecom-secret",
        "wecom_token": APP_TOKEN, "wecom_aes_key": APP_AES_KEY, "wecom_api_base": standin.url,
        "wecom_robot_token": ROBOT_TOKEN, "wecom_robot_aes_key": ROBOT_AES_KEY,
        "dingtalk_app_key": DT_APP_KEY, "dingtalk_app_secret": DT_APP_SECRET,
        "dingtalk_api_base": standin.url, "dingtalk_oapi_base": standin.url,
        "dingtalk_event_token": DT_EVENT_TOKEN, "dingtalk_event_aes_key": DT_EVENT_AES_KEY,
        "http_timeout_seconds": 3, "outbox_poll_seconds": 0.2, "nlu_embeddings": False,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(db: Database, standin: StandIn) -> Settings:
    return channel_settings(db, standin)


@dataclass
class Agency:
    db: Database
    world: World
    wecom_group: str
    dingtalk_group: str


@pytest.fixture
def agency(db: Database, standin: StandIn) -> Agency:
    """The factories' agency plus a WeCom and a DingTalk project group with robot webhooks, and a
    client contact reachable through 微信客服."""
    with db.unit_of_work() as session:
        world = build_world(session)
        project = world.projects["p1"]
        session.add_all([
            ChatBinding(ref="CB-1", channel="wecom", chat_id="wrgroup_p1", name="星屿品牌升级项目群", kind="project_group",
                        project_id=project.id, webhook_url=f"{standin.url}/cgi-bin/webhook/send?key={WECOM_GROUP_KEY}"),
            ChatBinding(ref="CB-2", channel="dingtalk", chat_id="cidDtGroupP2", name="澜山门店焕新群", kind="project_group",
                        project_id=world.projects["p2"].id,
                        webhook_url=f"{standin.url}/robot/send?access_token={DT_GROUP_TOKEN}",
                        webhook_secret=DT_GROUP_SECRET),
            ChatBinding(ref="CB-3", channel="wecom", chat_id="wrclient_c1", name="星屿科技客户服务群", kind="client_service",
                        customer_id=world.customers["c1"].id),
        ])
        contact = session.scalars(select(Contact).where(Contact.ref == "CT-1")).one()
        contact.kf_external_userid = "wmKF_client_1"
    standin.custom_robot_secrets[DT_GROUP_TOKEN] = DT_GROUP_SECRET
    return Agency(db, world, "wrgroup_p1", "cidDtGroupP2")


@pytest.fixture
def wecom_peer() -> WeComApp:
    return WeComApp(APP_TOKEN, APP_AES_KEY, CORP_ID)


@pytest.fixture
def robot_peer() -> WeComRobot:
    return WeComRobot(ROBOT_TOKEN, ROBOT_AES_KEY)


@pytest.fixture
def dingtalk_peer(standin: StandIn) -> DingTalkRobot:
    return DingTalkRobot(DT_APP_SECRET, DT_APP_KEY, standin.url)


@pytest.fixture
def event_peer() -> DingTalkEvents:
    return DingTalkEvents(DT_EVENT_TOKEN, DT_EVENT_AES_KEY, DT_APP_KEY)


@contextmanager
def app_client(settings: Settings, db: Database, *, worker: bool = False) -> Iterator[TestClient]:
    """The real app (lifespan included) behind Starlette's test client."""
    with TestClient(create_app(settings, db, worker=worker)) as client:
        yield client


@contextmanager
def answers_held(client: TestClient) -> Iterator[threading.Event]:
    """Keep the app's handler from starting until the returned event is set (at the latest on leaving),
    so a test of a late answer does not depend on a tiny budget running out before a fast handler ends:
    with the worker thread holding the GIL, the loop may not see its deadline pass for milliseconds."""
    runner = client.app.state.runtime.runner  # type: ignore[attr-defined]
    gate, handler = threading.Event(), runner.handler

    def held(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(10), "the held answer was never released"
        return handler(*args, **kwargs)

    runner.handler = held
    try:
        yield gate
    finally:
        gate.set()
        runner.handler = handler


@pytest.fixture
def client(settings: Settings, agency: Agency) -> Iterator[TestClient]:
    with app_client(settings, agency.db) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app served by uvicorn on a free port in a thread, as `crmbot serve` serves it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until ``check()`` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
