"""Entity linking (aliases, homophone typos, given names, partial project names) and visibility."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Customer, Task
from tests.handlers.conftest import NOW


def test_homophone_typo_and_legal_name(say):
    r = say("王子健", "星屿科计的负责人是谁")
    assert r.intent == "customer.profile" and r.slots == {"customer": "H-C01"}
    assert "负责人是 王子健" in r.plain()
    assert say("王子健", "/customer 上海星屿科技有限公司").slots == {"customer": "H-C01"}


def test_given_name_and_relative_date(say):
    r = say("王子健", "给晨阳建个任务：整理素材，周五前")
    assert r.intent == "task.create"
    assert r.slots == {"title": "整理素材", "assignee": "H-S06", "due": "2026-12-11"}


def test_partial_project_and_opportunity_names(say):
    assert say("王子健", "晨光新品发布会进度如何").slots == {"project": "H-P01"}
    r = say("李梦瑶", "澜山周年庆那单推到合同谈判")
    assert r.slots == {"customer": "H-C02", "opportunity": "H-O03", "stage": "合同谈判"}


def test_only_visible_customers_are_linked(say):
    # 许晨阳 (designer) works only on 晨光乳业's project: 澜山茶饮 is invisible to him
    r = say("许晨阳", "澜山茶饮怎么样")
    assert r.intent == "customer.profile" and "customer" not in r.slots
    text = r.plain()
    assert "没有找到你可以查看的客户「澜山茶饮」" in text
    assert "李梦瑶" not in text and "成长级" not in text
    # the same answer whether the name exists or not: nothing is revealed
    unknown = say("许晨阳", "奇奇怪怪公司怎么样").plain()
    assert unknown.replace("奇奇怪怪公司", "澜山茶饮") == text
    assert say("许晨阳", "晨光乳业怎么样").slots == {"customer": "H-C03"}


def test_hidden_records_are_not_candidates_for_clarification(say):
    # 李梦瑶 sees neither 星河 customer: no numbered list that would reveal them
    r = say("李梦瑶", "星河最近怎么样")
    assert "星河传媒" not in r.plain() and "星河智能" not in r.plain()


def test_small_talk_does_nothing(say, world):
    for text in ("哈哈哈", "谢谢大家 辛苦了", "晚上一起去吃烤肉吗"):
        r = say("陈可欣", text)
        assert r.intent is None and r.actions == [] and r.plain()
    with world.unit_of_work() as s:
        assert s.scalar(select(Task).where(Task.title.contains("烤肉"))) is None


def test_json_slots_follow_the_conventions(say):
    r = say("张浩然", "找几个汽车行业的发布会案例 曝光超过5000万的")
    assert r.intent == "case.search"
    assert r.slots["industry"] == "汽车" and r.slots["format"] == "发布会"
    assert r.slots["metric"] == "impressions>50000000"
    r = say("高远", "有条新线索 叫橘子健身 预算大约15万")
    assert r.slots["customer"] == "橘子健身" and r.slots["amount"] == 150000
    r = say("王子健", "星屿科技去掉出海这个标签")
    assert r.slots == {"customer": "H-C01", "tag": "出海", "op": "remove"}
    assert say("周伟", "我名下的客户").intent in ("customer.list", None)
    assert say("王子健", "我手上的商机有哪些").slots == {"owner": "H-S01"}


def test_customer_count_unchanged_by_reads(say, world):
    with world.unit_of_work() as s:
        before = s.query(Customer).count()
    say("周伟", "成长级的客户都有哪些", now=NOW)
    with world.unit_of_work() as s:
        assert s.query(Customer).count() == before
