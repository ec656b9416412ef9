"""One route for every personal message: a tier notice or a client's unanswered question
(``crm_core.services.notify``) goes to the same 1:1 chat as the scheduled jobs' pushes
(``bot.jobs.person_address``), and never to a messenger the bot cannot send through."""

from __future__ import annotations

import pytest

from bot.jobs import person_address
from config.settings import load_settings
from crm_core.models import Staff
from crm_core.services import notify
from crm_core.services.reminders import Person
from handlers.reply import Reply

WECOM = {"wecom_corp_id": "wwcorp", "wecom_secret": "secret", "wecom_agent_id": "1000002"}
DINGTALK = {"dingtalk_app_key": "dingkey", "dingtalk_app_secret": "dingsecret"}


@pytest.mark.parametrize(("configured", "ids", "channel", "target"), [
    (WECOM, ("wx_li", "dt_li"), "wecom_app", "wx_li"),
    (WECOM | DINGTALK, (None, "dt_li"), "dingtalk", "dm:dt_li"),
    (DINGTALK, ("wx_li", "dt_li"), "dingtalk", "dm:dt_li"),
    # a corp id without the app's secret cannot send: the console, not a queue of failing API calls
    ({"wecom_corp_id": "wwcorp"}, ("wx_li", None), "console", "dm:wx_li"),
    ({"dingtalk_app_key": "dingkey"}, (None, "dt_li"), "console", "dm:dt_li"),
    ({}, (None, None), "console", "dm:staff:7"),
])
def test_a_notice_and_a_job_push_reach_the_same_chat(configured, ids, channel, target):
    settings = load_settings(database_url="sqlite://", **configured)
    wecom, dingtalk = ids
    staff = Staff(id=7, ref="S-7", name="李经理", role="account_manager", wecom_userid=wecom, dingtalk_userid=dingtalk)
    notice = notify.personal_message(staff, "客户级别调整", ["星屿科技：成长级 → 战略级"], "tier:1", settings)
    person = Person(id=7, name="李经理", wecom_userid=wecom, dingtalk_userid=dingtalk)
    [push] = person_address(person, settings).messages(Reply.text("今日待办"), "digest:7")
    assert (notice.channel, notice.target) == (push.channel, push.target) == (channel, target)
