"""Customer tiers: the model's rules, who owns a tier, nightly and on-contract recomputation, the owner's notice,
and what the profile shows."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.importing.service import import_rows, rows_from_dicts
from crm_core.models import AuditLog, Customer, OutboxMessage, Project, TierChange
from crm_core.services import tiering
from crm_core.services.tiering import Facts, assess
from tests.talent import world
from tests.talent.world import NOW, TODAY, TZ, ago, contract

AGENCY_TOTAL = 20_000_000


@pytest.mark.parametrize(("facts", "tier", "because"), [
    (Facts(industry="科技", window_amount=3_500_000, contracts=4, projects=7, first=ago(4 * 365)), "战略级",
     "达到战略级线 70"),
    (Facts(industry="美妆", window_amount=900_000, contracts=2, projects=2, first=ago(500)), "成长级", "达到成长级线 42"),
    (Facts(industry="教育", window_amount=200_000, prior_amount=60_000, contracts=2, first=ago(400)),
     "成长级", "潜力行业且预算增长快（签约额为上一周期的 3.3 倍）"),
    (Facts(industry="餐饮", window_amount=200_000, prior_amount=60_000, contracts=2, first=ago(400)),
     "常规级", "未到成长级线 42"),  # the same growth outside a potential industry
    (Facts(industry="文旅", budget_level="高"), "常规级", "尚无签约合同"),
])
def test_the_model_scores_budget_depth_and_industry(facts, tier, because):
    result = assess(facts, TODAY, AGENCY_TOTAL)
    assert result.tier == tier
    assert any(because in r for r in result.reasons), result.reasons
    assert result.score == result.parts["budget"] + result.parts["depth"] + result.parts["industry"]


def test_a_reason_names_the_figures_that_earned_the_points():
    result = assess(Facts(industry="科技", window_amount=3_500_000, contracts=4, projects=7, first=ago(4 * 365)),
                    TODAY, AGENCY_TOTAL)
    assert result.reasons[1] == "近12个月签约 350万，占公司同期签约额 17.5%（预算贡献 50/50）"
    assert result.reasons[2] == "合作 4.0 年、7 个项目、续约 3 次（合作深度 35/35）"
    assert result.reasons[3] == "科技行业（行业 15/15）"


def _strategic(session, customer):  # type: ignore[no-untyped-def]
    for years in (4, 3, 2, 1):
        contract(session, customer, 900_000, ago(365 * years - 30))
    contract(session, customer, 3_500_000, ago(60))
    for i in range(6):
        session.add(Project(name=f"{customer.name}项目{i}", customer_id=customer.id, status="已完成",
                            start=ago(300 + 100 * i)))
    session.flush()


def _outbox(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_nightly_recompute_records_changes_with_reasons_and_tells_the_owner_once(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        mine.tier_source = "rule"  # the model already owns this tier (成长级)
        _strategic(s, mine)
    with agency.unit_of_work() as s:
        changes = tiering.recompute_all(s, NOW)
    assert [(c.ref, c.old, c.new, c.notified) for c in changes] == [("C-M", "成长级", "战略级", True)]
    with agency.unit_of_work() as s:
        change = s.scalars(select(TierChange).where(TierChange.customer_id == changes[0].customer_id)).one()
        assert change.source == "rule" and change.reasons[0].startswith("评分 100/100")
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "customer.tier")).one()
        assert (audit.before["tier"], audit.after["tier"]) == ("成长级", "战略级")
    [notice] = _outbox(agency)
    assert notice.channel == "console" and notice.target == "dm:am"  # 许经理's 1:1 chat with the bot
    assert "客户级别调整" in notice.text and "星屿科技：成长级 → 战略级" in notice.text
    assert "原因：评分 100/100" in notice.text and "投放效果 1v1 复盘" in notice.text
    with agency.unit_of_work() as s:
        assert tiering.recompute_all(s, NOW) == []
    assert len(_outbox(agency)) == 1


def test_a_notice_at_night_waits_for_the_end_of_quiet_hours(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        mine.tier_source = "rule"
        _strategic(s, mine)
    night = datetime(2026, 12, 9, 2, 30, tzinfo=TZ)
    with agency.unit_of_work() as s:
        tiering.recompute_all(s, night)
    [notice] = _outbox(agency)
    assert notice.next_attempt_at.astimezone(TZ) == datetime(2026, 12, 9, 8, 0, tzinfo=TZ)


def test_an_imported_tier_stands_until_the_nightly_run_takes_it_over_quietly(agency):
    actor = Actor.system(channel="cli", name="cli")
    with agency.unit_of_work() as s:
        import_rows(s, "customers", rows_from_dicts("customers", [
            {"ref": "C-I", "name": "远航物流", "industry": "物流", "tier": "战略级", "owner": "S-am"}], source="t"), actor)
        import_rows(s, "contracts", rows_from_dicts("contracts", [
            {"ref": "K-I", "customer": "C-I", "title": "远航物流年框", "amount": 80000, "signed_at": ago(20)}],
            source="t"), actor)
        imported = s.scalars(select(Customer).where(Customer.ref == "C-I")).one()
        assert (imported.tier, imported.tier_source) == ("战略级", "import")  # the contract did not overrule the file
    with agency.unit_of_work() as s:
        changes = {c.ref: c for c in tiering.recompute_all(s, NOW)}
    assert changes["C-I"].new == "常规级" and not changes["C-I"].notified
    assert _outbox(agency) == []
    with agency.unit_of_work() as s:
        again = import_rows(s, "customers", rows_from_dicts("customers", [
            {"ref": "C-I", "name": "远航物流", "industry": "物流", "tier": "战略级", "owner": "S-am"}], source="t"), actor)
        assert again.unchanged == 1  # the model owns the tier now: re-importing the file does not flip it back


def test_new_contracts_move_a_model_owned_tier_at_once_and_the_owner_hears_of_it(agency):
    actor = Actor.system(channel="cli", name="cli")
    with agency.unit_of_work() as s:
        tiering.recompute_all(s, NOW)  # C-T 澜山茶饮 (餐饮, nothing signed) is assessed 常规级, as it is
        theirs = s.scalars(select(Customer).where(Customer.ref == "C-T")).one()
        theirs.tier_source = "rule"  # and the model owns it
    with agency.unit_of_work() as s:
        report = import_rows(s, "contracts", rows_from_dicts("contracts", [
            {"ref": "K-T1", "customer": "C-T", "title": "澜山茶饮全年整合营销", "amount": 1_800_000,
             "signed_at": ago(10)},
            {"ref": "K-T0", "customer": "C-T", "title": "澜山茶饮去年门店焕新", "amount": 600_000,
             "signed_at": ago(420)}], source="t"), actor)
        assert report.created == 2
        assert s.scalars(select(Customer.tier).where(Customer.ref == "C-T")).one() == "成长级"
    [notice] = _outbox(agency)
    assert notice.target == "dm:am2" and "澜山茶饮：常规级 → 成长级" in notice.text


def test_a_manual_tier_stays_until_set_back_to_automatic(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        _strategic(s, mine)
    r = world.send(agency, "mgr", "/改客户 星屿科技 级别 常规级")
    assert "已更新" in r.plain()
    with agency.unit_of_work() as s:
        assert tiering.recompute_all(s, NOW) == []  # the manager's call stands
        c = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        assert (c.tier, c.tier_source) == ("常规级", "manual")
        manual = s.scalars(select(TierChange).where(TierChange.customer_id == c.id)).one()
        assert manual.source == "manual" and manual.reasons == ["林主管 手动设定"]
    profile = world.send(agency, "am", "/客户 星屿科技").plain()
    assert "级别：常规级（主管手动设定，模型评分 100/100，模型建议 战略级）" in profile
    assert "权限" in world.send(agency, "am", "/改客户 星屿科技 级别 自动").plain()  # tiers are a manager's call
    world.send(agency, "mgr", "/改客户 星屿科技 级别 自动")
    with agency.unit_of_work() as s:
        c = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        assert (c.tier, c.tier_source) == ("战略级", "rule")


def test_the_profile_shows_the_tier_its_reasons_and_its_service_playbook(agency):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        mine.tier_source = "rule"
        _strategic(s, mine)
        tiering.recompute_all(s, NOW)
    text = world.send(agency, "am", "/客户 星屿科技").plain()
    assert "级别：战略级（模型评定，模型评分 100/100）" in text
    assert "分层依据：\n· 评分 100/100，达到战略级线 70\n· 近12个月签约 440万" in text
    assert "最近调整：2026-12-09 成长级 → 战略级（模型评定）" in text
    assert "战略级服务策略：\n· 资深客户经理牵头，配置资深策划与设计团队\n· 案例库专属推荐" in text
    assert "· 投放效果 1v1 复盘（每月）" in text


def test_before_the_first_nightly_run_the_profile_estimates_what_the_run_then_stores(agency):
    """A customer never assessed shows a live estimate (from its own contracts and projects and the agency's
    total); the nightly run then stores exactly that score and those reasons."""
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        mine.tier_source = "rule"
        _strategic(s, mine)
    before = world.send(agency, "am", "/客户 星屿科技").plain()
    assert "分层依据（尚未评定，按当前数据估算）：" in before
    with agency.unit_of_work() as s:
        tiering.recompute_all(s, NOW)
    after = world.send(agency, "am", "/客户 星屿科技").plain()
    assert "分层依据：" in after and "尚未评定" not in after
    assert _reasons(before, "分层依据（尚未评定，按当前数据估算）：") == _reasons(after, "分层依据：")
    assert any("近12个月签约 440万" in line for line in _reasons(after, "分层依据："))


def _reasons(text: str, heading: str) -> list[str]:
    lines = text.split(heading + "\n", 1)[1].splitlines()
    return [line for line in lines[:next((i for i, x in enumerate(lines) if not x.startswith("· ")), len(lines))]]
