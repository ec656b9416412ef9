"""Relative dates against the message time, amounts, metric filters."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.nlu.dates import find_dates, parse_due
from handlers.nlu.numbers import find_amounts, find_metrics

WED = date(2026, 11, 25)  # Wednesday
THU = date(2026, 12, 10)  # Thursday


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("明天", WED, "2026-11-26"), ("后天交", WED, "2026-11-27"), ("大后天", WED, "2026-11-28"),
    ("3天后要", WED, "2026-11-28"), ("三天内", WED, "2026-11-28"), ("两周后", WED, "2026-12-09"),
    ("周五deadline", WED, "2026-11-27"), ("这周五", WED, "2026-11-27"), ("本周日", WED, "2026-11-29"),
    ("下周三前", WED, "2026-12-02"), ("下周一前交", WED, "2026-11-30"), ("下下周一", WED, "2026-12-07"),
    ("月底前", WED, "2026-11-30"), ("下个月底", WED, "2026-12-31"), ("年底", WED, "2026-12-31"),
    ("12号", WED, "2026-12-12"), ("25号", WED, "2026-11-25"), ("3号", THU, "2027-01-03"),
    ("12月3日", WED, "2026-12-03"), ("1月8日", THU, "2027-01-08"), ("十二月十日", WED, "2026-12-10"),
    ("2027-01-05", WED, "2027-01-05"), ("12/3前", WED, "2026-12-03"), ("周五之前", THU, "2026-12-11"),
    ("下周二", THU, "2026-12-15"), ("下下周一之前", THU, "2026-12-21"), ("今天", THU, "2026-12-10"),
])
def test_dates(text, today, expected):
    assert parse_due(text, today) == date.fromisoformat(expected)


def test_dates_keep_their_span_and_skip_non_dates():
    hits = find_dates("花屿双12直播项目，下周一前交", WED)
    assert [(h.text, h.value.isoformat()) for h in hits] == [("下周一前", "2026-11-30")]
    assert find_dates("Q4 案例 第3版", WED) == []


@pytest.mark.parametrize(("text", "value"), [
    ("合同金额65万", 650000), ("预算大概30w", 300000), ("1.2百万", 1200000), ("五十万", 500000),
    ("¥8,000", 8000), ("8000元", 8000), ("3.5亿", 350000000),
])
def test_amounts(text, value):
    assert [a.value for a in find_amounts(text)] == [value]


@pytest.mark.parametrize("text", ["双12直播", "2027年度框架", "3天后", "Q4"])
def test_not_amounts(text):
    assert find_amounts(text) == []


@pytest.mark.parametrize(("text", "slot"), [
    ("ROI大于3的", "roi>3"), ("转化率高于5%", "cvr>0.05"), ("转化率>5%", "cvr>0.05"), ("点击率不低于2%", "ctr>=0.02"),
    ("播放量超过1000万", "impressions>10000000"), ("ROI 3以上", "roi>=3"), ("转化率大于5", "cvr>0.05"),
    ("CTR 3%以上", "ctr>=0.03"), ("曝光超过5000万", "impressions>50000000"),
])
def test_metric_filters(text, slot):
    assert [m.slot for m in find_metrics(text)] == [slot]
