"""Access tokens: fetched once and cached, renewed before they expire, and renewed again when the
messenger says a token is invalid or expired (WeCom 40014 / 42001 / 42009)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.channels.dingtalk.api import DingTalkApi
from bot.channels.wecom.api import WeComApi
from bot.delivery.errors import Permanent
from tests.bot.standin import StandIn


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=3) as client:
        yield client


def wecom(standin: StandIn, http: httpx.Client, clock: Ticks) -> WeComApi:
    return WeComApi(standin.url, "ww_test_corp", "wecom-secret", "1000002", http, clock=clock)


def test_token_is_cached_and_renewed_five_minutes_early(standin: StandIn, http: httpx.Client) -> None:
    clock = Ticks()
    api = wecom(standin, http, clock)
    for _ in range(3):
        api.send_app_message("am1", "text", "hi")
    gettoken = standin.calls("/cgi-bin/gettoken")
    assert len(gettoken) == 1 and gettoken[0].query == {"corpid": "ww_test_corp", "corpsecret": "wecom-secret"}
    clock.t += 7200 - 301
    api.send_app_message("am1", "text", "still the first token")
    assert len(standin.calls("/cgi-bin/gettoken")) == 1
    clock.t += 2  # less than 300 s of its life left
    api.send_app_message("am1", "text", "a fresh token")
    assert len(standin.calls("/cgi-bin/gettoken")) == 2
    tokens = [r.query["access_token"] for r in standin.calls("/cgi-bin/message/send")]
    assert tokens[:4] == [tokens[0]] * 4 and tokens[4] != tokens[0]


@pytest.mark.parametrize("errcode", [40014, 42001, 42009])
def test_refused_token_is_renewed_and_the_call_made_again(standin: StandIn, http: httpx.Client, errcode: int) -> None:
    api = wecom(standin, http, Ticks())
    api.send_app_message("am1", "text", "warm up")
    standin.fail("/cgi-bin/message/send", body={"errcode": errcode, "errmsg": "invalid access_token"})
    assert api.send_app_message("am1", "text", "after the refusal")["errcode"] == 0
    assert len(standin.calls("/cgi-bin/gettoken")) == 2
    sends = standin.calls("/cgi-bin/message/send")
    assert len(sends) == 3 and sends[2].query["access_token"] != sends[1].query["access_token"]


def test_token_expired_at_the_messenger_before_its_time(standin: StandIn, http: httpx.Client) -> None:
    api = wecom(standin, http, Ticks())
    api.kf_send_text("wm1", "wk1", "first")
    standin.expire_tokens()  # e.g. the secret was reset in the admin console
    api.kf_send_text("wm1", "wk1", "second")
    assert [r.json["text"]["content"] for r in standin.calls("/cgi-bin/kf/send_msg")] == ["first", "second", "second"]


def test_missing_credentials_are_a_permanent_error(standin: StandIn, http: httpx.Client) -> None:
    with pytest.raises(Permanent, match="WECOM_CORP_ID"):
        WeComApi(standin.url, "", "", "1", http).send_app_message("am1", "text", "x")
    with pytest.raises(Permanent, match="DINGTALK_APP_KEY"):
        DingTalkApi(standin.url, "", "", http).send_to_users("robot", ["u"], "t", "x")


def test_dingtalk_token_cached_and_renewed(standin: StandIn, http: httpx.Client) -> None:
    clock = Ticks()
    api = DingTalkApi(standin.url, "dingapptestkey", "dt-app-secret-XYZ", http, clock=clock)
    api.send_to_group("robot", "cid1", "t", "一")
    api.send_to_group("robot", "cid1", "t", "二")
    assert len(standin.calls("/v1.0/oauth2/accessToken")) == 1
    clock.t += 7200
    api.send_to_group("robot", "cid1", "t", "三")
    assert len(standin.calls("/v1.0/oauth2/accessToken")) == 2
