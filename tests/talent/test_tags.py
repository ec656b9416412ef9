"""Tags by hand, in batches, by rule and from briefs — each with its source and reason, shown in the profile."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from config import reset_settings
from crm_core.actor import Actor
from crm_core.models import AuditLog, Customer, CustomerTag, Interaction, Payment, Tag
from crm_core.services import customers as customer_svc
from crm_core.services import tags
from tests.talent import world
from tests.talent.world import NOW, ago, at, contract


def _links(db, ref: str) -> dict[str, CustomerTag]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        c = s.scalars(select(Customer).where(Customer.ref == ref)).one()
        return {lk.tag.name: lk for lk in c.tag_links}


def test_a_hand_set_tag_records_its_source_and_lands_in_its_category(agency, say):
    assert "已添加「星屿科技」的标签「出海」" in say("am", "/标签 星屿科技 出海").plain()
    link = _links(agency, "C-M")["出海"]
    assert link.source == "manual" and link.created_by_id is not None
    with agency.unit_of_work() as s:
        assert s.scalars(select(Tag).where(Tag.name == "出海")).one().category.name == "行业属性"
    assert "标签：出海（手动）" in say("am", "/客户 星屿科技").plain()
    overview = say("am", "/标签").plain()
    assert "行业属性：\n· 出海：1 家（手动 1）" in overview


def test_batch_tagging_previews_then_applies_to_the_visible_matching_customers_only(agency, say):
    with agency.unit_of_work() as s:
        am = s.scalars(select(world.Staff).where(world.Staff.ref == "S-am")).one()
        s.add_all([Customer(ref="C-K1", name="晨光乳业", industry="快消", owner_id=am.id, tier="战略级"),
                   Customer(ref="C-K2", name="悦享零食", industry="快消", owner_id=am.id, tier="常规级")])
        am2 = s.scalars(select(world.Staff).where(world.Staff.ref == "S-am2")).one()
        s.add(Customer(ref="C-K3", name="鲜果坊饮品", industry="快消", owner_id=am2.id))
    r = say("am", "/标签 批量 快消 +年货节")
    text = r.plain()
    assert r.actions[0]["status"] == "pending_confirmation"
    assert "给 2 家客户添加标签「年货节」（筛选：快消行业）：悦享零食、晨光乳业" in text or \
        "给 2 家客户添加标签「年货节」（筛选：快消行业）：晨光乳业、悦享零食" in text
    assert "鲜果坊" not in text
    assert "年货节" not in _links(agency, "C-K1")  # nothing written before "确认"
    done = say("am", "确认")
    assert "已给 2 家客户添加标签「年货节」" in done.plain()
    assert _links(agency, "C-K1")["年货节"].reason == "批量添加（快消行业）"
    assert "年货节" in _links(agency, "C-K2") and "年货节" not in _links(agency, "C-K3")
    with agency.unit_of_work() as s:
        assert len(list(s.scalars(select(AuditLog).where(AuditLog.action == "customer.tag")))) == 2
    nl = say("am", "给所有快消客户去掉年货节标签")
    assert nl.intent == "customer.tag_batch" and "给 2 家客户去掉标签「年货节」" in nl.plain()


def _ltv_world(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        am = s.scalars(select(world.Staff).where(world.Staff.ref == "S-am")).one()
        for i in range(1, 21):
            c = Customer(ref=f"C-L{i:02d}", name=f"客户{i:02d}", industry="快消", owner_id=am.id,
                         created_at=at(ago(400)))
            s.add(c)
            s.flush()
            contract(s, c, 100_000 * i, ago(100))
            s.add(Interaction(customer_id=c.id, summary="例行沟通", occurred_at=at(ago(10))))


def test_the_top_ten_percent_by_ltv_are_tagged_high_value_with_their_rank(agency):
    _ltv_world(agency)
    with agency.unit_of_work() as s:
        changes = tags.refresh_auto_tags(s, NOW)
    high = sorted(c.customer for c in changes if c.tag == "高价值" and c.op == "add")
    assert high == ["客户19", "客户20"]  # 2 of the 20 customers with signed contracts
    link = _links(agency, "C-L20")["高价值"]
    assert link.source == "rule" and link.reason == "规则：LTV 200万，第 1 / 20 名（前 10%）"
    with agency.unit_of_work() as s:
        assert tags.refresh_auto_tags(s, NOW) == []  # nothing moved: nothing written


def test_silence_tags_a_customer_and_a_new_follow_up_clears_it_but_not_a_hand_set_one(agency, say):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        s.add(Interaction(customer_id=mine.id, summary="电话沟通", occurred_at=at(ago(75))))
        theirs = s.scalars(select(Customer).where(Customer.ref == "C-T")).one()
        theirs.created_at = at(ago(200))
        customer_svc.set_tag(s, Actor.system(), theirs, "沉默客户")  # set by hand: the rule leaves it alone
    with agency.unit_of_work() as s:
        tags.refresh_auto_tags(s, NOW)
    silent = _links(agency, "C-M")["沉默客户"]
    assert silent.source == "rule" and "最近一次跟进 2026-09-25，已 75 天无互动" in silent.reason
    say("am", "/跟进 星屿科技 电话沟通新品排期")
    with agency.unit_of_work() as s:
        changes = tags.refresh_auto_tags(s, NOW + timedelta(minutes=5))
    assert [(c.customer, c.tag, c.op) for c in changes if c.tag == "沉默客户"] == [("星屿科技", "沉默客户", "remove")]
    assert _links(agency, "C-T")["沉默客户"].source == "manual"
    with agency.unit_of_work() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "customer.untag")).first() is not None


def test_payments_long_overdue_are_tagged(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        k = contract(s, mine, 500_000, ago(200))
        s.add(Payment(contract_id=k.id, due=ago(45), amount=Decimal(200_000), paid_amount=Decimal(50_000)))
        s.add(Payment(contract_id=k.id, due=ago(10), amount=Decimal(100_000)))  # overdue, but only 10 days
    with agency.unit_of_work() as s:
        tags.refresh_auto_tags(s, NOW)
    reason = _links(agency, "C-M")["回款逾期"].reason or ""
    assert "最早一笔 2026-10-25 到期，逾期 45 天，未收 15万" in reason


def test_rules_come_from_the_tag_rules_setting(agency, monkeypatch):
    monkeypatch.setenv("CRMBOT_TAG_RULES", '[{"tag": "待唤醒", "kind": "no_interaction_days", "days": 30}]')
    reset_settings()
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        s.add(Interaction(customer_id=mine.id, summary="见面", occurred_at=at(ago(40))))
    with agency.unit_of_work() as s:
        changes = tags.refresh_auto_tags(s, NOW)
    assert {c.tag for c in changes} == {"待唤醒"}


BRIEF = ("今年新年campaign希望走国潮风，目标人群是年轻人和Z世代，渠道以抖音和小红书为主；"
         "不要明星代言，整体预算有限。")


def test_brief_keywords_are_read_against_the_vocabulary_and_negations_are_respected():
    reading = tags.keywords(BRIEF)
    found = {k.tag: k for k in reading.tags}
    assert set(found) == {"国潮风", "年轻化", "抖音", "小红书", "价格敏感"}
    assert found["年轻化"].form in ("年轻人", "Z世代") and found["国潮风"].weight > 0
    assert reading.negated == ["明星代言"]
    assert tags.keywords("电话沟通排期，下周出方案").tags == []


def test_tags_from_a_brief_preview_then_apply_with_their_reason(agency, say):
    r = say("am", f"/标签 星屿科技 提取 {BRIEF}")
    text = r.plain()
    assert r.actions[0]["status"] == "pending_confirmation"
    assert "给客户「星屿科技」添加 Brief 标签：" in text and "国潮风（「国潮风」" in text
    assert "未添加（Brief 中明确不要）：明星代言" in text
    say("am", "确认")
    links = _links(agency, "C-M")
    assert links["国潮风"].source == "nlp" and links["国潮风"].reason.startswith("Brief关键词「国潮风」")
    profile = say("am", "/客户 星屿科技").plain()
    assert "国潮风（Brief）" in profile and "自动标签依据：\n· 国潮风：Brief关键词「国潮风」" in profile


def test_recent_follow_ups_are_read_for_brief_keywords_every_night(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        s.add(Interaction(customer_id=mine.id, summary="客户说新品想做二次元风格，重点投B站", occurred_at=at(ago(3))))
        s.add(Interaction(customer_id=mine.id, summary="三个月前提过想走复古路线", occurred_at=at(ago(200))))
    with agency.unit_of_work() as s:
        changes = tags.refresh_auto_tags(s, NOW)
    added = {c.tag: c for c in changes if c.source == "nlp"}
    assert set(added) == {"二次元", "B站"}  # the old note is outside the 90 days read
    assert added["二次元"].reason.startswith("跟进 2026-12-06 关键词「二次元」")


@pytest.mark.parametrize("text", ["/标签 批量 +年货节", "/标签 批量"])
def test_a_batch_needs_a_filter_and_a_tag(say, text):
    reply = say("am", text).plain()
    assert "用法：/标签 批量" in reply
