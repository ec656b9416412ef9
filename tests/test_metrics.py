"""Case metrics written the way agencies write them → comparable numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core.metrics import canonical_metric, normalise_metrics, parse_metric_value

CASES = Path(__file__).resolve().parents[2] / "shared" / "evals" / "retrieval" / "cases.jsonl"


def test_the_documented_example():
    raw = {"CTR": "4.1%", "ROI": "3.2", "播放量": "3.2亿", "线索成本": "150元/条"}
    assert normalise_metrics(raw) == {"ctr": 0.041, "roi": 3.2, "impressions": 320000000.0, "cpl": 150.0}


@pytest.mark.parametrize(("key", "name"), [
    ("CTR", "ctr"), ("ctr", "ctr"), ("点击率", "ctr"), (" C T R ", "ctr"),
    ("转化率", "cvr"), ("CVR", "cvr"), ("转化", "cvr"),
    ("ROI", "roi"), ("投产比", "roi"), ("ROAS", "roi"), ("roas", "roi"),
    ("播放量", "impressions"), ("播放", "impressions"), ("曝光", "impressions"), ("曝光量", "impressions"),
    ("覆盖人次", "impressions"), ("观看", "impressions"), ("曝光（次）", "impressions"),
    ("互动率", "engagement"), ("线索成本", "cpl"), ("CPL", "cpl"), ("GMV", "gmv"), ("销售额", "gmv"),
    ("CPM", "cpm"), ("CPC", "cpc"), ("涨粉", "followers"), ("新增粉丝", "followers"), ("CTR(%)", "ctr"),
    # suffixes: the agency's own qualifiers in front of a known metric
    ("京东跳转CTR", "ctr"), ("领券转化率", "cvr"), ("直播间GMV", "gmv"), ("门票ROI", "roi"), ("话题曝光", "impressions"),
    ("App下载CPA", "cpa"),
    ("笔记数", None), ("参与视频", None), ("品牌提及度", None), ("扫码率", None),
])
def test_canonical_metric(key, name):
    assert canonical_metric(key) == name


@pytest.mark.parametrize(("value", "metric", "expected"), [
    ("4.1%", "ctr", 0.041), ("4.1％", "ctr", 0.041), ("3.2", "roi", 3.2), ("1:3.5", "roi", 3.5), ("1：4", "roi", 4.0),
    ("3.2亿", "impressions", 320000000.0), ("8000万", "gmv", 80000000.0), ("150元/条", "cpl", 150.0),
    ("1.2w", "followers", 12000.0), ("12.5k", "impressions", 12500.0), ("5亿次", "impressions", 500000000.0),
    ("2,000万", "impressions", 20000000.0), ("+65%", None, 0.65), ("0.8元", "cpc", 0.8), ("3.2倍", "roi", 3.2),
    (4.1, "ctr", 0.041), (0.041, "ctr", 0.041), (5, "cvr", 0.05), (3.2, "roi", 3.2), (120000, "impressions", 120000.0),
    ("4.1", "ctr", 0.041), ("0.5", "cvr", 0.5),
])
def test_parse_metric_value(value, metric, expected):
    assert parse_metric_value(value, metric) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["售罄", "1万-2万", "", None, True, {"a": 1}])
def test_unreadable_values_are_none(value):
    assert parse_metric_value(value, "impressions") is None


def test_unknown_keys_and_unreadable_values_are_dropped():
    assert normalise_metrics({"笔记数": "800篇", "联名款首发": "售罄", "GMV": "售罄"}) == {}
    assert normalise_metrics({}) == {} and normalise_metrics(None) == {}


def test_exact_key_beats_a_suffix_match_whatever_the_order():
    assert normalise_metrics({"领券转化率": "8.7%", "转化率": "5.2%"}) == {"cvr": 0.052}
    assert normalise_metrics({"转化率": "5.2%", "领券转化率": "8.7%"}) == {"cvr": 0.052}
    assert normalise_metrics({"抖音话题播放": "2.1亿"}) == {"impressions": 210000000.0}


def test_a_rate_number_above_one_means_percent():
    assert normalise_metrics({"CTR": 4.1, "转化率": 0.056, "互动率": "8"}) == {
        "ctr": 0.041, "cvr": 0.056, "engagement": 0.08}


def test_values_are_floats():
    result = normalise_metrics({"播放量": 1000, "ROI": "3"})
    assert all(type(v) is float for v in result.values())


@pytest.mark.skipif(not CASES.is_file(), reason="shared/evals not beside the repository")
def test_the_retrieval_case_sheets():
    norm = {c["ref"]: normalise_metrics(c["metrics"])
            for c in map(json.loads, CASES.read_text(encoding="utf-8").splitlines())}
    assert norm["case-001"] == {"impressions": 320000000.0, "ctr": 0.041, "roi": 3.2}
    assert norm["case-010"] == {"ctr": 0.036, "cvr": 0.052, "gmv": 26000000.0, "roi": 2.9}
    assert norm["case-018"]["ctr"] == 0.055  # "京东跳转CTR"
    assert norm["case-020"] == {"cpl": 150.0, "cvr": 0.09}
    assert norm["case-007"]["roi"] == 5.8
    # the dev queries' "CTR超过4%" must find case-001 and case-018
    assert {ref for ref, m in norm.items() if m.get("ctr", 0) > 0.04} == {"case-001", "case-018"}
