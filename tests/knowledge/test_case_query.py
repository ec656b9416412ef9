"""Reading structure out of a case query: industry (with synonyms), format, channel, year, metric comparisons."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.case_query import case_facets, parse_case_query

TODAY = date(2026, 11, 25)


def facets(text: str) -> set[tuple[str, str]]:
    return {(f.facet, f.value) for f in parse_case_query(text, TODAY).facets}


def metrics(text: str) -> list[tuple[str, str, float | None]]:
    return [(m.metric, m.op, None if m.value is None else round(m.value, 6))
            for m in parse_case_query(text, TODAY).metrics]


@pytest.mark.parametrize(("text", "value"), [
    ("快消案例", "快消"), ("快速消费品", "快消"), ("FMCG brand", "快消"), ("化妆品投放", "美妆"),
    ("护肤品牌", "美妆"), ("beauty campaign", "美妆"), ("新能源汽车上市", "汽车"), ("景区推广", "文旅"),
])
def test_industry_synonyms(text, value):
    assert ("industry", value) in facets(text)


def test_longest_form_wins_across_facets():
    # 汽车之家 is a channel, not the 汽车 industry
    assert facets("汽车之家投放信息流") == {("channel", "汽车之家"), ("format", "信息流")}


@pytest.mark.parametrize(("text", "expected"), [
    ("美妆 短视频", {("industry", "美妆"), ("format", "短视频")}),
    ("KOL种草", {("format", "达人"), ("format", "种草")}),
    ("B站UP主", {("channel", "B站"), ("format", "达人")}),
    ("小红书 达人", {("channel", "小红书"), ("format", "达人")}),
    ("视频号直播", {("channel", "视频号"), ("format", "直播")}),
    ("朋友圈 TVC 户外", {("channel", "朋友圈"), ("format", "TVC"), ("format", "户外")}),
    ("微博挑战赛 快闪 发布会 私域", {("channel", "微博"), ("format", "挑战赛"), ("format", "快闪"),
                               ("format", "发布会"), ("format", "私域")}),
])
def test_formats_and_channels(text, expected):
    assert facets(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("转化率>5%", [("cvr", ">", 0.05)]),
    ("转化率超过5%", [("cvr", ">", 0.05)]),
    ("转化率高于5%", [("cvr", ">", 0.05)]),
    ("ROI 3以上", [("roi", ">=", 3.0)]),
    ("ROI大于3", [("roi", ">", 3.0)]),
    ("ROI做到5以上的直播带货", [("roi", ">=", 5.0)]),
    ("CTR超过2%", [("ctr", ">", 0.02)]),
    ("点击率不低于3%", [("ctr", ">=", 0.03)]),
    ("播放过亿", [("impressions", ">", 1e8)]),
    ("播放量破千万", [("impressions", ">", 1e7)]),
    ("过亿播放的短视频", [("impressions", ">", 1e8)]),
    ("转化率5个点以上", [("cvr", ">=", 0.05)]),
    ("点击率超过百分之三", [("ctr", ">", 0.03)]),
    ("ROI≥3", [("roi", ">=", 3.0)]),
    ("线索成本低于200元", [("cpl", "<", 200.0)]),
    ("ROI最高的直播", [("roi", "max", None)]),
    ("ROI多少", []),
])
def test_metric_comparisons(text, expected):
    assert metrics(text) == expected


@pytest.mark.parametrize(("text", "lo", "hi"), [
    ("2024年的直播", 2024, 2024), ("2023年以后", 2023, None), ("2022年以前", None, 2022),
    ("2022-2023 汽车", 2022, 2023), ("去年", 2025, 2025), ("今年", 2026, 2026), ("近两年", 2025, 2026),
])
def test_years(text, lo, hi):
    years = parse_case_query(text, TODAY).years
    assert years is not None and (years.lo, years.hi) == (lo, hi)


def test_amounts_are_not_years():
    assert parse_case_query("覆盖2000万人次的户外", TODAY).years is None


def test_residual_says_whether_the_query_is_only_structure():
    assert parse_case_query("之前做过的美妆短视频，转化率超过5%的有哪些", TODAY).structural_only
    q = parse_case_query("世界杯期间啤酒的营销怎么做的", TODAY)
    assert not q.structural_only and "世界杯" in q.residual


def test_case_facets_by_field_or_by_text():
    got = case_facets("快消-饮品", "短视频+私域社群", ["微信视频号", "企业微信"], "每日一杯咖啡视频号引流企业微信私域", None)
    # filed under 快消, yet a coffee brand meets 咖啡 (→ 餐饮); 视频号 is part of 微信
    assert {("industry", "快消"), ("industry", "餐饮"), ("format", "短视频"), ("format", "私域"),
            ("channel", "视频号"), ("channel", "微信")} <= got
