"""Who is talking: messenger ids mapped to staff and to client contacts, and `crmbot staff bind`
giving an unknown member access — checked through the callbacks a member would use."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.cli import app
from config import reset_settings
from tests.bot.conftest import Agency
from tests.bot.peers import DingTalkRobot, WeComApp
from tests.bot.standin import StandIn

pytestmark = pytest.mark.postgres
runner = CliRunner()


@pytest.fixture
def cli_env(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMBOT_DATABASE_URL", agency.db.url)
    reset_settings()


def ask(client: TestClient, peer: WeComApp, user: str, text: str, msg_id: str) -> str:
    signed = peer.text(user, text, msg_id)
    return peer.open_reply(client.post("/wecom/callback", params=signed.params, content=signed.body).content)["Content"]


def test_binding_a_new_wecom_member_gives_access(client: TestClient, wecom_peer: WeComApp, cli_env: None) -> None:
    before = ask(client, wecom_peer, "zhangsan", "/客户 星屿科技", "7500000000000000001")
    assert "crmbot staff bind" in before and "zhangsan" in before
    result = runner.invoke(app, ["staff", "bind", "S-am1", "--wecom", "zhangsan"])
    assert result.exit_code == 0 and "已绑定：甲经理（S-am1）← wecom zhangsan" in result.output
    after = ask(client, wecom_peer, "zhangsan", "/客户 星屿科技", "7500000000000000002")
    assert "客户档案｜星屿科技（C-1）" in after


def test_binding_a_dingtalk_staff_id(client: TestClient, dingtalk_peer: DingTalkRobot, standin: StandIn,
                                     cli_env: None) -> None:
    assert runner.invoke(app, ["staff", "bind", "S-am2", "--dingtalk", "dt_new_am2"]).exit_code == 0
    message = dingtalk_peer.message("/客户 澜山茶饮", "msgBind1", staff_id="dt_new_am2")
    client.post("/dingtalk/callback", content=json.dumps(message).encode(), headers=dingtalk_peer.headers())
    client.app.state.runtime.worker.run_once()  # type: ignore[attr-defined]
    assert "客户档案｜澜山茶饮（C-2）" in standin.calls("/robot/sendBySession")[0].json["markdown"]["text"]


def test_bind_refuses_a_taken_id_or_an_unknown_staff_member(cli_env: None) -> None:
    taken = runner.invoke(app, ["staff", "bind", "S-am2", "--wecom", "am1"])
    assert taken.exit_code == 1 and "am1 已绑定到员工 甲经理" in taken.output
    unknown = runner.invoke(app, ["staff", "bind", "S-nobody", "--wecom", "x"])
    assert unknown.exit_code == 1 and "S-nobody" in unknown.output


def test_external_contact_is_a_client_actor(client: TestClient, wecom_peer: WeComApp) -> None:
    """A client writing through 微信客服 sees their own project, never another customer."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    from bot.delivery.addresses import WeComKfCustomer
    from handlers.messages import IncomingMessage

    def say(text: str, key: str) -> str:
        message = IncomingMessage(channel="wecom", text=text, sender_id="wmKF_client_1", chat_id="kf:wk:wmKF_client_1",
                                  external=True, message_id=key)
        outcome = runtime.runner.process(message, "wecom_kf", key, WeComKfCustomer("wk", "wmKF_client_1"))
        assert outcome.reply is not None
        return outcome.reply.plain()

    assert "项目进度｜星屿科技品牌升级" in say("/项目 星屿科技品牌升级", "kf-id-1")
    other = say("/项目 澜山茶饮门店焕新", "kf-id-2")
    assert "没有找到你可以查看的项目" in other and "项目进度" not in other and "设计乙" not in other
