"""Values as people write them → canonical values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm_core.normalise import (
    normalise_budget_level,
    normalise_industry,
    normalise_interaction_kind,
    normalise_priority,
    normalise_role,
    normalise_stage,
    normalise_task_status,
    normalise_tier,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    split_list,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("50万", 500000), ("5w", 50000), ("5W", 50000), ("1.2百万", 1200000), ("120,000", 120000),
    ("3.5亿", 350000000), (120000, 120000), (Decimal("99.5"), Decimal("99.5")), (1200.0, 1200),
    ("12.5k", 12500), ("8000万", 80000000), ("50万元", 500000), ("¥8,000元", 8000), ("￥ 1,234.56", Decimal("1234.56")),
    ("3亿2000万", 320000000), ("1千万", 10000000), ("五十万", 500000), ("一百二十万", 1200000), ("两千", 2000),
    (" 300000 ", 300000), ("120，000", 120000),
])
def test_parse_amount(text, expected):
    result = parse_amount(text)
    assert isinstance(result, Decimal) and result == Decimal(expected)


def test_parse_amount_is_integral_when_it_can_be():
    assert str(parse_amount("1.2百万")) == "1200000"
    assert str(parse_amount("50万")) == "500000"


@pytest.mark.parametrize("garbage", ["很多", "abc", "", "3万5", "5万w?", None, True, [], "1.2.3万", "万"])
def test_parse_amount_refuses_garbage_in_chinese(garbage):
    with pytest.raises(ValueError, match="无法识别的金额"):
        parse_amount(garbage)


@pytest.mark.parametrize(("text", "expected"), [
    ("快消", "快消"), ("快速消费品", "快消"), ("FMCG", "快消"), ("fmcg", "快消"), ("消费品", "快消"),
    ("美妆", "美妆"), ("化妆品", "美妆"), ("护肤", "美妆"), ("彩妆", "美妆"), ("Beauty", "美妆"),
    ("互联网", "科技"), ("IT", "科技"), ("tech", "科技"), ("SaaS", "科技"), ("saas", "科技"),
    ("旅游", "文旅"), ("文化旅游", "文旅"), ("景区", "文旅"), ("travel", "文旅"),
    ("车企", "汽车"), ("auto", "汽车"), ("新能源车", "汽车"),
    ("餐厅", "餐饮"), ("茶饮", "餐饮"), ("咖啡", "餐饮"), ("food", "餐饮"),
    ("培训", "教育"), ("edu", "教育"), (" 教育 ", "教育"),
])
def test_normalise_industry_synonyms(text, expected):
    assert normalise_industry(text) == expected


def test_normalise_industry_keeps_unknown_as_written_and_normalises_the_head_of_a_sub_industry():
    assert normalise_industry("  宠物用品 ") == "宠物用品"
    assert normalise_industry("快消-饮料") == "快消-饮料"
    assert normalise_industry("快速消费品-饮料") == "快消-饮料"
    assert normalise_industry("化妆品/彩妆") == "美妆/彩妆"
    assert normalise_industry("") is None and normalise_industry(None) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("战略", "战略级"), ("战略级", "战略级"), ("战略客户", "战略级"), ("A类", "战略级"), ("a类", "战略级"),
    ("成长", "成长级"), ("B类", "成长级"), ("常规", "常规级"), ("普通客户", "常规级"), ("C", "常规级"),
    ("钻石级", None), ("", None),
])
def test_normalise_tier(text, expected):
    assert normalise_tier(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("高", "高"), ("高预算", "高"), ("High", "高"), ("中", "中"), ("中等", "中"), ("低", "低"), ("低预算", "低"),
    ("超高", None),
])
def test_normalise_budget_level(text, expected):
    assert normalise_budget_level(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("需求确认", "需求确认"), ("方案报价", "方案报价"), ("报价", "方案报价"), ("合同谈判", "合同谈判"),
    ("谈判", "合同谈判"), ("签约", "签约成功"), ("签约成功", "签约成功"), ("赢单", "签约成功"),
    ("成交", "签约成功"), ("输单", "输单"), ("丢单", "输单"), ("失败", "输单"), ("closed-won", "签约成功"),
    ("发呆", None),
])
def test_normalise_stage(text, expected):
    assert normalise_stage(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("admin", "admin"), ("Admin", "admin"), ("account_manager", "account_manager"), ("account-manager", "account_manager"),
    ("管理员", "admin"), ("经理", "manager"), ("客户经理", "account_manager"), ("销售", "sales"), ("策划", "planner"),
    ("设计", "designer"), ("媒介", "media"), ("客服", "service"), ("只读", "viewer"), ("CEO", None),
])
def test_normalise_role(text, expected):
    assert normalise_role(text) == expected


def test_other_vocabularies():
    assert normalise_task_status("完成") == "已完成" and normalise_task_status("todo") == "待办"
    assert normalise_priority("urgent") == "紧急" and normalise_priority("普通") == "中"
    assert normalise_interaction_kind("上门") == "拜访" and normalise_interaction_kind("企业微信") == "微信"


@pytest.mark.parametrize("text", ["2026-11-25", "2026/11/25", "2026年11月25日", "2026.11.25", "20261125",
                                  "2026-11-25T10:00:00+08:00", " 2026/11/25 "])
def test_parse_date(text):
    assert parse_date(text, "Asia/Shanghai") == date(2026, 11, 25)


def test_parse_date_of_an_aware_time_uses_the_timezone():
    assert parse_date("2026-11-24T20:00:00+00:00", "Asia/Shanghai") == date(2026, 11, 25)
    assert parse_date(datetime(2026, 11, 24, 20, tzinfo=UTC), "Asia/Shanghai") == date(2026, 11, 25)
    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)


@pytest.mark.parametrize("garbage", ["明天", "2026-13-01", "2026-02-30", "", 5])
def test_parse_date_refuses_garbage(garbage):
    with pytest.raises(ValueError, match="日期"):
        parse_date(garbage)


def test_parse_datetime():
    cst = timezone(timedelta(hours=8))
    expected = datetime(2026, 11, 25, 10, 0, tzinfo=cst)
    assert parse_datetime("2026-11-25T10:00:00+08:00") == expected
    assert parse_datetime("2026-11-25T02:00:00Z") == expected
    assert parse_datetime("2026-11-25T10:00:00", "Asia/Shanghai") == expected  # naive → tz
    assert parse_datetime("2026/11/25 10:00", "Asia/Shanghai") == expected
    assert parse_datetime("2026年11月25日 10:00", "Asia/Shanghai") == expected
    assert parse_datetime("2026-11-25", "Asia/Shanghai") == datetime(2026, 11, 25, tzinfo=cst)
    assert parse_datetime("2026-11-25T10:00:00", "UTC") == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert parse_datetime("2026-11-25T10:00:00").tzinfo is not None
    with pytest.raises(ValueError, match="无法识别的时间"):
        parse_datetime("下午三点")


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False), ("是", True),
    ("否", False), ("yes", True), ("n", False), ("1", True), ("0", False),
])
def test_parse_bool(value, expected):
    assert parse_bool(value) is expected


def test_parse_bool_refuses_garbage():
    with pytest.raises(ValueError, match="是/否"):
        parse_bool("也许")


@pytest.mark.parametrize(("value", "expected"), [
    (["a", " b ", "", None], ["a", "b"]), ("a|b", ["a", "b"]), ("a、b", ["a", "b"]), ("a,b", ["a", "b"]),
    ("a，b；c", ["a", "b", "c"]), ('["a", "b"]', ["a", "b"]), ("[a, b]", ["a", "b"]), ("", []), (None, []),
    ("单个", ["单个"]),
])
def test_split_list(value, expected):
    assert split_list(value) == expected
