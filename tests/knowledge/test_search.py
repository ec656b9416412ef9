"""Case and KB search services: filters applied and explained, permissions enforced."""

from __future__ import annotations

from datetime import date

import pytest

from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.errors import PermissionDenied
from knowledge.search import search, search_cases, search_kb
from tests.knowledge.conftest import CountingEmbedder

SYSTEM = Actor.system()
TODAY = date(2026, 11, 25)


def test_beauty_short_video_above_five_percent(eval_db: Database):
    with eval_db.session() as s:
        hits = search_cases(s, SYSTEM, "美妆 短视频 转化率>5%", today=TODAY)
        assert hits, "expected at least one case"
        for h in hits:
            assert h.case.metrics_norm["cvr"] > 0.05
            assert h.case.industry.startswith("美妆")
            assert any("转化率" in r and "> 5%" in r for r in h.reasons)
            assert any(name in ("转化率", "CVR") for name, _ in h.key_metrics)
        assert [h.case.metrics_norm["cvr"] for h in hits] == sorted((h.case.metrics_norm["cvr"] for h in hits),
                                                                    reverse=True)
        assert hits.filters == ["行业：美妆", "形式：短视频", "转化率 > 5%"] and hits.relaxed == []


def test_metric_filters_are_never_relaxed(eval_db: Database):
    with eval_db.session() as s:
        hits = search_cases(s, SYSTEM, "转化率超过50%的案例", today=TODAY)
        assert list(hits) == [] and hits.matching == 0


def test_facets_are_relaxed_when_nothing_meets_them_all(eval_db: Database):
    with eval_db.session() as s:
        hits = search_cases(s, SYSTEM, "教育行业的直播案例", today=TODAY)
        # no education case at all: the format filter is relaxed first, then the industry goes too
        assert hits and "形式" in hits.relaxed


def test_structure_and_text_combine(eval_db: Database):
    with eval_db.session() as s:
        top = search_cases(s, SYSTEM, "ROI做到5以上的直播带货", today=TODAY)
        assert top[0].ref == "case-007"
        assert all(h.case.metrics_norm["roi"] >= 5 for h in top)
        years = search_cases(s, SYSTEM, "2023年 B站 UP主", today=TODAY)
        assert years and all(h.case.year == 2023 and "B站" in h.case.channels for h in years)
        reasons = " ".join(years[0].reasons)
        assert "年份：2023 ✓" in reasons and "渠道：B站 ✓" in reasons


def test_hits_show_why_and_key_metrics(eval_db: Database):
    with eval_db.session() as s:
        hit = search_cases(s, SYSTEM, "扫地机器人抖音开箱", today=TODAY)[0]
        assert hit.ref == "case-019"
        assert any(r.startswith("匹配词：") and "扫地机器人" in r for r in hit.reasons)
        assert ("播放量", "1.1亿") in hit.key_metrics


def test_kb_search_returns_the_passage(eval_db: Database):
    with eval_db.session() as s:
        hit = search_kb(s, SYSTEM, "发票开错了怎么重开", 3)[0]
        assert hit.ref == "kb-003" and "红字发票" in hit.passage and "重开" in hit.matched_terms


def test_search_both_collections(eval_db: Database):
    with eval_db.session() as s:
        refs = [h.ref for h in search(s, SYSTEM, "达人违约了怎么赔", k=5)]
        assert refs[0] == "kb-045"
        mixed = [h.entity_type for h in search(s, SYSTEM, "小红书达人种草的案例", k=10)]
        assert "case" in mixed


def test_permissions(eval_db: Database):
    client = Actor(kind="external", name="客户联系人", channel="console", customer_id=None)
    guest = Actor.guest("nobody", "console")
    with eval_db.session() as s:
        with pytest.raises(PermissionDenied):
            search_cases(s, client, "美妆 短视频")
        with pytest.raises(PermissionDenied):
            search_kb(s, guest, "发票")
        assert search_kb(s, client, "发票开错了怎么重开", 1)[0].ref == "kb-003"
        # over both collections a client only ever sees articles
        assert {h.entity_type for h in search(s, client, "抖音 达人 案例", k=10)} == {"kb"}


def test_a_case_search_embeds_its_query_once_while_it_parses(eval_db: Database, counting: CountingEmbedder):
    query = "快消 抖音 直播带货 ROI 3以上的案例"
    with eval_db.session() as s:
        early = search_cases(s, SYSTEM, query, today=TODAY, embedder=counting)
        # started before the filters were parsed, and the search took that vector instead of a second one
        assert len(counting.queries) == 1
        plain = search_cases(s, SYSTEM, query, today=TODAY, embedder=counting, method="lexical")
        assert len(counting.queries) == 1  # a lexical search embeds nothing
    assert early and plain
    assert all(h.case.metrics_norm["roi"] >= 3 for h in early)
