"""Every intent by command (Chinese names and English aliases), typed arguments, help, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Lead, Opportunity, Task, Ticket
from handlers.actions import ACTIONS
from handlers.registry import registry

COMMANDS = [
    ("周伟", "/帮助", "help"),
    ("周伟", "/help 任务", "help"),
    ("王子健", "/客户 星屿", "customer.profile"),
    ("王子健", "/customer 星屿科技", "customer.profile"),
    ("周伟", "/客户列表 战略级", "customer.list"),
    ("王子健", "/customers 我的 科技", "customer.list"),
    ("王子健", "/新建客户 远航物流 物流", "customer.create"),
    ("周伟", "/改客户 澜山茶饮 级别 战略级", "customer.update"),
    ("王子健", "/tag 星屿科技 重点维护", "customer.tag"),
    ("王子健", "/跟进 星屿科技 电话沟通海外投放排期", "followup.log"),
    ("王子健", "/线索 云杉家居 30万 朋友推荐", "lead.create"),
    ("高远", "/线索池", "lead.claim"),
    ("高远", "/认领 山野露营", "lead.claim"),
    ("王子健", "/商机 我的", "opportunity.list"),
    ("周伟", "/opps 合同谈判", "opportunity.list"),
    ("欧阳雪", "/推进 极光汽车 方案报价", "opportunity.stage"),
    ("王子健", "/项目 晨光乳业新品发布会", "project.status"),
    ("王子健", "/建任务 晨光乳业新品发布会 确认场地 张浩然 周五", "task.create"),
    ("张浩然", "/完成 H-T01", "task.done"),
    ("陈可欣", "/任务 我的", "task.list"),
    ("周伟", "/任务 逾期", "task.list"),
    ("周伟", "/回款", "payment.due"),
    ("黄婷婷", "/工单 新建 澜山茶饮 小程序点单页面打不开", "ticket.create"),
    ("黄婷婷", "/工单", "ticket.status"),
    ("张浩然", "/案例 汽车 发布会 曝光超过5000万", "case.search"),
    ("黄婷婷", "/知识 发票开错了怎么重开", "kb.ask"),
    ("王子健", "/人才 三维建模 下周三", "talent.recommend"),
    ("王子健", "/找人 品牌VI", "talent.recommend"),
    ("张浩然", "/人才档案", "talent.profile"),
    ("张浩然", "/人才档案 我 技能 +国潮", "talent.update"),
    ("王子健", "/标签", "tag.list"),
    ("王子健", "/标签 批量 科技 +重点维护", "customer.tag_batch"),
    ("王子健", "/标签 星屿科技 提取 今年想做国潮风的年轻化内容", "customer.tag_brief"),
    ("周伟", "/合并", "customer.duplicates"),
    ("周伟", "/合并 澜山茶饮 到 星屿科技", "customer.merge"),
    ("周伟", "/撤销合并", "customer.unmerge"),
    ("周伟", "/风险 欧阳雪", "risk.list"),
    ("周伟", "/报表 漏斗", "report.show"),
    ("周伟", "/report ltv", "report.show"),
]


def test_every_intent_has_a_command():
    assert set(ACTIONS) <= {intent for _, _, intent in COMMANDS}  # each one is exercised below
    for cmd in registry.all():
        assert cmd.examples and cmd.usage and cmd.aliases, cmd.name


@pytest.mark.parametrize(("who", "text", "intent"), COMMANDS)
def test_command_reaches_its_intent(say, who, text, intent):
    r = say(who, text)
    assert r.intent == intent, r.plain()
    assert "没有「/" not in r.plain()


def test_commands_apply_writes_directly(say, world):
    say("王子健", "/建任务 晨光乳业新品发布会 确认场地 张浩然 周五")
    say("张浩然", "/完成 H-T01")
    say("王子健", "/新建客户 远航物流")
    say("王子健", "/标签 星屿科技 -出海")
    say("高远", "/认领 山野露营")
    say("欧阳雪", "/推进 极光汽车 方案报价 90万")
    say("黄婷婷", "/工单 新建 澜山茶饮 小程序点单页面打不开")
    with world.unit_of_work() as s:
        task = s.scalars(select(Task).where(Task.title == "确认场地")).one()
        assert task.due.isoformat() == "2026-12-11" and task.project.ref == "H-P01" and task.assignee.ref == "H-S04"
        assert s.scalars(select(Task.status).where(Task.ref == "H-T01")).one() == "已完成"
        assert s.scalars(select(Customer).where(Customer.name == "远航物流")).one().owner.ref == "H-S01"
        assert "出海" not in s.scalars(select(Customer).where(Customer.ref == "H-C01")).one().tag_names
        assert s.scalars(select(Lead).where(Lead.name == "山野露营")).one().owner.ref == "H-S03"
        opp = s.scalars(select(Opportunity).where(Opportunity.ref == "H-O04")).one()
        assert opp.stage == "方案报价" and int(opp.amount) == 900000
        assert s.scalars(select(Ticket)).one().title == "小程序点单页面打不开"


def test_help_for_one_command(say):
    text = say("陈可欣", "/帮助 任务").plain()
    assert "/任务 [我的|逾期|项目名|同事]" in text and "/tasks" in text and "/任务 我的" in text


def test_help_lists_only_what_the_role_may_use(say):
    designer = say("陈可欣", "/帮助").plain()
    manager = say("周伟", "/帮助").plain()
    assert "/报表" in manager and "/报表" not in designer


def test_ambiguous_command_argument_is_a_numbered_choice(say):
    r = say("王子健", "/客户 星河")
    assert "1. 星河传媒" in r.plain()
    assert say("王子健", "2").slots == {"customer": "H-C09"}


def test_refusals_name_the_reason_not_the_record(say):
    refused = say("陈可欣", "/报表 漏斗").plain()
    assert "权限" in refused and "需求确认" not in refused
    hidden = say("许晨阳", "/客户 澜山茶饮").plain()
    assert "没有找到" in hidden and "李梦瑶" not in hidden
    external = say("wm_ext", "/客户 星屿科技", external=True).plain()
    assert "绑定" in external or "仅限" in external


def test_command_with_typed_date_and_amount_arguments(say):
    r = say("王子健", "/推进 星屿科技海外年框 签约成功 300万")
    assert r.intent == "opportunity.stage" and r.slots["amount"] == 3000000 and r.slots["stage"] == "签约成功"
    r = say("王子健", "/人才 三维建模 下周三")
    assert r.slots == {"query": "三维建模", "due": "2026-12-16"} and "许晨阳" in r.plain()
