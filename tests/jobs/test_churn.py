"""Churn / renewal risk: a 0–100 score with its reasons in Chinese, stored with history so the account
manager is alerted when it crosses the threshold (with cases and the tier's service), not every day it
stays there; thin data is "数据不足", never "no risk"; /风险 and the profile show the same score."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from bot.channels.console import send
from config.settings import load_settings
from crm_core.models import (
    Case,
    Contract,
    Customer,
    CustomerRisk,
    Interaction,
    Payment,
    Proposal,
    ProposalVersion,
    ProposalView,
    RiskModel,
    RiskScore,
)
from tests.factories import TODAY
from tests.jobs.conftest import MORNING, at, queued, run

CASES = [("科技", "科技新品发布整合传播", {"转化率": "7.5%", "ROI": "4.2"}, {"cvr": 0.075, "roi": 4.2}),
         ("科技", "开发者大会直播", {"转化率": "6.0%"}, {"cvr": 0.06}),
         ("科技", "SaaS 线索投放", {"ROI": "3.8", "CTR": "3.1%"}, {"roi": 3.8, "ctr": 0.031}),
         ("科技", "低效的一次尝试", {"转化率": "0.5%"}, {"cvr": 0.005}),
         ("餐饮", "茶饮门店开业", {"转化率": "9.0%"}, {"cvr": 0.09})]


def _stamp(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _proposals(s, customer_id: int, opened: list[bool], last: date) -> None:
    for k, was_opened in enumerate(opened):
        made = _stamp(last - timedelta(days=10 * (len(opened) - 1 - k)))
        p = Proposal(customer_id=customer_id, title=f"方案{k}", created_at=made)
        p.versions.append(ProposalVersion(number=1, created_at=made,
                                          views=[ProposalView(viewed_at=made + timedelta(hours=5))] if was_opened else []))
        s.add(p)


def _contact(s, customer_id: int, day: date, summary: str = "电话沟通") -> None:
    """A follow-up as /跟进 records it: the interaction, and the customer's last contact."""
    s.add(Interaction(customer_id=customer_id, summary=summary, occurred_at=_stamp(day)))
    s.execute(update(Customer).where(Customer.id == customer_id).values(last_contact_at=_stamp(day)))


def _at_risk(db, agency, silent_days: int = 45) -> None:
    """星屿科技 (战略级, am1): 1 of its last 3 proposals opened, 45 days without contact, a payment 5 days late."""
    c1 = agency.world.customers["c1"].id
    with db.unit_of_work() as s:
        _proposals(s, c1, [True, False, False], TODAY - timedelta(days=5))
        _contact(s, c1, TODAY - timedelta(days=silent_days))
        s.add_all(Case(title=t, industry=ind, metrics=m, metrics_norm=n) for ind, t, m, n in CASES)


def _risk(db, ref: str) -> CustomerRisk | None:
    with db.unit_of_work() as s:
        cid = s.scalar(select(Customer.id).where(Customer.ref == ref))
        row = s.get(CustomerRisk, cid)
        if row is not None:
            s.expunge(row)
        return row


def test_score_names_its_reasons_and_the_alert_suggests_cases_and_the_tier_service(db, agency, settings):
    _at_risk(db, agency)
    result = run(db, settings, "churn_risk", MORNING)
    risk = _risk(db, "C-1")
    assert risk is not None and risk.method == "rules" and 50 <= risk.score <= 100
    assert risk.reasons[0] == "近 3 次提案打开率 33%（1/3），低于 50%"
    assert "已 45 天没有互动（上次 2026-10-11）" in risk.reasons and "1 笔回款逾期（最长 5 天）" in risk.reasons
    assert result.extra["crossed"] == 1
    [alert] = queued(db, "churn_risk", target="dm:am1")
    text = alert.text
    assert "续约风险预警｜星屿科技（战略级）" in text and f"风险分 {risk.score}/100" in text
    assert "近 3 次提案打开率 33%" in text and "已 45 天没有互动" in text
    assert "服务方案（战略级）：资深客户经理牵头" in text
    cases = text.split("推荐参考案例：")[1]
    assert all(t in cases for t in ("科技新品发布整合传播", "开发者大会直播", "SaaS 线索投放"))
    assert "低效的一次尝试" not in cases and "茶饮门店开业" not in cases
    [boss] = queued(db, "churn_risk", target="dm:mgr1")  # 战略级: the account manager's manager too
    assert "客户经理：甲经理" in boss.text


def test_alert_fires_on_crossing_not_every_day_above_and_again_after_a_real_recovery(db, agency, settings):
    _at_risk(db, agency)
    run(db, settings, "churn_risk", MORNING)
    for days in (1, 2, 7):
        run(db, settings, "churn_risk", at(TODAY + timedelta(days=days), "07:30"))
    assert len(queued(db, "churn_risk", target="dm:am1")) == 1
    c1 = agency.world.customers["c1"].id
    with db.unit_of_work() as s:  # the account manager acts: visits, the client reads the proposals and pays
        _contact(s, c1, TODAY + timedelta(days=8), "上门拜访")
        s.execute(update(Payment).where(Payment.ref == "PM-1").values(status="已收", paid_amount=Decimal(300000),
                                                                       paid_at=TODAY + timedelta(days=8)))
        for version in s.scalars(select(ProposalVersion)):
            version.views.append(ProposalView(viewed_at=_stamp(TODAY + timedelta(days=8))))
    run(db, settings, "churn_risk", at(TODAY + timedelta(days=9), "07:30"))
    assert not _risk(db, "C-1").above
    with db.unit_of_work() as s:  # weeks later: silence again and two unopened proposals
        _proposals(s, c1, [False, False], TODAY + timedelta(days=48))
    run(db, settings, "churn_risk", at(TODAY + timedelta(days=50), "07:30"))
    assert len(queued(db, "churn_risk", target="dm:am1")) == 2
    with db.unit_of_work() as s:
        history = list(s.scalars(select(RiskScore).where(RiskScore.customer_id == c1).order_by(RiskScore.id)))
    assert [h.crossed for h in history].count(True) == 2
    assert len(history) < 6  # a row when the score moved, not one per run


def test_thin_data_is_said_to_be_thin_never_safe(db, agency, settings):
    with db.unit_of_work() as s:
        s.add(Customer(ref="C-9", name="新客户甲", owner_id=agency.world.staff["am1"].id))
    run(db, settings, "churn_risk", MORNING)
    risk = _risk(db, "C-9")
    assert risk is not None and risk.score is None and risk.method == "insufficient" and not risk.above
    reply = send(db, "/客户 新客户甲", sender="am1", now=MORNING, settings=settings).plain()
    assert "流失风险：数据不足，暂无法评估（不代表没有风险" in reply
    assert "无风险" not in reply and "低风险" not in reply
    listing = send(db, "/风险", sender="am1", now=MORNING, settings=settings).plain()
    assert "数据不足，暂无法评分（不代表没有风险）" in listing


def test_risk_list_and_customer_profile_show_the_same_stored_score(db, agency, settings):
    _at_risk(db, agency)
    run(db, settings, "churn_risk", MORNING)
    risk = _risk(db, "C-1")
    line = f"{risk.score}/100（高风险，规则评分，2026-11-25 评估）：" + "；".join(risk.reasons)
    profile = send(db, "/客户 星屿科技", sender="am1", now=MORNING, settings=settings).plain()
    listing = send(db, "/风险 我的", sender="am1", now=MORNING, settings=settings).plain()
    assert f"流失风险：{line}" in profile
    assert line in listing and listing.index("星屿科技") < listing.index(line)
    other = send(db, "/风险", sender="am2", now=MORNING, settings=settings).plain()
    assert "星屿科技" not in other  # scores follow the same visibility as customers


def test_a_model_trained_on_renewals_and_churns_replaces_the_rules(db, agency):
    """Forty past contracts: customers who kept in touch renewed, those who went quiet did not."""
    settings = load_settings(nlu_embeddings=False, churn_model_min_labels=10, churn_rescore_days=1)
    with db.unit_of_work() as s:
        for i in range(40):
            churned = i % 2 == 0
            end = TODAY - timedelta(days=120 + 4 * i)
            feature_day = (end - timedelta(days=45)).replace(day=1)
            customer = Customer(name=f"历史客户{i}", owner_id=agency.world.staff["am2"].id)
            s.add(customer)
            s.flush()
            s.add(Contract(customer_id=customer.id, title=f"合同{i}", amount=Decimal(100000 + 1000 * i),
                           signed_at=end - timedelta(days=365), end=end))
            last_touch = feature_day - timedelta(days=120 if churned else 3 + i % 5)
            s.add(Interaction(customer_id=customer.id, summary="沟通", occurred_at=_stamp(last_touch)))
            if not churned:
                s.add(Contract(customer_id=customer.id, title=f"续约{i}", amount=Decimal(120000),
                               signed_at=end - timedelta(days=10), end=end + timedelta(days=365)))
        c1, c2 = agency.world.customers["c1"].id, agency.world.customers["c2"].id
        _contact(s, c1, TODAY - timedelta(days=80))
        _contact(s, c2, TODAY - timedelta(days=1))
    assert run(db, settings, "churn_risk", MORNING).extra["method"] == "rules"  # no model trained yet
    trained = run(db, settings, "churn_model", at(TODAY, "03:00"))
    assert trained.messages == 0 and trained.extra["trained"] and trained.extra["active"]
    assert trained.note.startswith("用 40 个已结束的合同（20 个未续约）训练了新模型，交叉验证 AUC")
    assert trained.note.endswith("启用，流失风险分改用模型评分")
    result = run(db, settings, "churn_risk", MORNING)
    assert result.extra["method"] == "model"
    with db.unit_of_work() as s:
        model = s.scalars(select(RiskModel)).one()
        assert model.active and model.samples == 40 and model.churned == 20 and model.auc >= 0.9
    again = run(db, settings, "churn_model", at(TODAY + timedelta(days=6), "03:00"))
    assert not again.extra["trained"] and again.note == "当前模型训练于 2026-11-25，每 7 天重新训练一次"
    assert run(db, settings, "churn_model", at(TODAY + timedelta(days=7), "03:00")).extra["trained"]
    quiet, active = _risk(db, "C-1"), _risk(db, "C-2")
    assert quiet.method == active.method == "model"
    assert quiet.score > active.score
    assert any("没有互动" in r for r in quiet.reasons)
    profile = send(db, "/客户 星屿科技", sender="am1", now=MORNING, settings=settings).plain()
    assert "模型评分" in profile


def test_without_enough_renewals_and_churns_no_model_is_trained_and_the_rules_score(db, agency, settings):
    result = run(db, settings, "churn_model", at(TODAY, "03:00"))
    assert result.summary() == "流失模型训练：已结束的合同中续约和未续约的还不足各 20 个，暂不训练，继续使用规则评分"
    _at_risk(db, agency)
    assert run(db, settings, "churn_risk", MORNING).extra["method"] == "rules"


def test_weekly_rescoring_scores_new_customers_at_once_and_each_block_every_seven_days(db, agency):
    settings = load_settings(nlu_embeddings=False)  # CHURN_RESCORE_DAYS = 7
    _at_risk(db, agency)
    run(db, settings, "churn_risk", MORNING)  # nobody was scored yet: everyone is
    first = _risk(db, "C-1").score
    assert _risk(db, "C-2") is not None
    with db.unit_of_work() as s:  # the overdue instalment is paid, and a new customer signs
        s.execute(update(Payment).where(Payment.ref == "PM-1").values(status="已收", paid_amount=Decimal(300000),
                                                                       paid_at=TODAY))
        s.add(Customer(ref="C-NEW", name="新签客户", owner_id=agency.world.staff["am1"].id))
    days = [TODAY + timedelta(days=d) for d in range(1, 8)]
    turn = next(d for d in days if d.toordinal() % 7 == 0)  # customers 0–4999 form block 0
    for day in days:
        run(db, settings, "churn_risk", at(day, "07:30"))
        if day == days[0]:
            assert _risk(db, "C-NEW").as_of == day  # new customers do not wait for their turn
        expected = first if day < turn else first - 15  # the payment counts from the block's turn on
        assert _risk(db, "C-1").score == expected, day


def test_a_bulk_of_never_scored_customers_is_scored_a_bounded_number_a_run_and_all_within_the_week(db, agency):
    """A whole agency imported at once is not scored in one run: a run gives at most CHURN_FIRST_SCORES_PER_RUN
    first scores beyond its own blocks, lowest ids first; the rest wait, said so, and are scored on their block's day."""
    settings = load_settings(nlu_embeddings=False, churn_first_scores_per_run=1)  # CHURN_RESCORE_DAYS = 7
    _at_risk(db, agency)
    with db.unit_of_work() as s:
        s.add_all([Customer(ref="C-7", name="北辰汽车", owner_id=agency.world.staff["am1"].id),
                   Customer(ref="C-8", name="南岭文旅", owner_id=agency.world.staff["am1"].id)])
    refs = ["C-1", "C-2", "C-7", "C-8"]  # in id order; all in block 0
    days = [TODAY + timedelta(days=d) for d in range(9)]
    turn = next(d for d in days[1:] if d.toordinal() % 7 == 0)  # block 0's day
    first = next(d for d in days if d.toordinal() % 7 != 0)
    result = run(db, settings, "churn_risk", at(first, "07:30"))
    assert [ref for ref in refs if _risk(db, ref) is not None] == ["C-1"]
    assert result.note.endswith("另有 3 个客户排队等待首次评分")
    assert len(queued(db, "churn_risk", target="dm:am1")) == 1  # C-1 is told at once
    listing = send(db, "/风险", sender="am1", now=at(first, "10:00"), settings=settings).plain()
    assert "另有 2 个客户尚未完成首次评分（7 天内会全部评完，不代表没有风险）" in listing  # C-7, C-8
    assert "每 7 天评估一次" in listing
    second = first + timedelta(days=1)
    if second != turn:
        run(db, settings, "churn_risk", at(second, "07:30"))
        assert [ref for ref in refs if _risk(db, ref) is not None] == ["C-1", "C-2"]
    result = run(db, settings, "churn_risk", at(turn, "07:30"))
    assert all(_risk(db, ref) is not None for ref in refs) and "排队" not in result.note
    listing = send(db, "/风险", sender="am1", now=at(turn, "10:00"), settings=settings).plain()
    assert "尚未完成首次评分" not in listing


def test_a_crossing_whose_alert_failed_is_told_by_the_next_run_and_only_once(db, agency, settings, monkeypatch):
    """The alert step reads only crossings scored since the last run that finished; after a failed run
    it looks at the whole window again, so a crossing scored by the failed run is not lost."""
    import bot.jobs

    _at_risk(db, agency)
    real = bot.jobs.outbox_bulk.enqueue_many

    def down(*args, **kwargs):
        raise ConnectionError("数据库写入中断")

    monkeypatch.setattr(bot.jobs.outbox_bulk, "enqueue_many", down)
    failed = bot.jobs.JobRunner(db, settings).run_job("churn_risk", MORNING)
    assert failed.status == "failed" and _risk(db, "C-1").above  # scored and stored, not told
    again = bot.jobs.JobRunner(db, settings).run_job("churn_risk", at(TODAY + timedelta(days=1), "07:30"))
    assert again.status == "failed" and queued(db, "churn_risk") == []  # the next day's run fails too
    monkeypatch.setattr(bot.jobs.outbox_bulk, "enqueue_many", real)
    run(db, settings, "churn_risk", at(TODAY + timedelta(days=2), "07:30"))
    assert len(queued(db, "churn_risk", target="dm:am1")) == 1
    run(db, settings, "churn_risk", at(TODAY + timedelta(days=3), "07:30"))
    run(db, settings, "churn_risk", at(TODAY + timedelta(days=3), "07:30"))  # the same moment again
    assert len(queued(db, "churn_risk", target="dm:am1")) == 1
