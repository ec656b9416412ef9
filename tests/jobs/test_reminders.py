"""Each push job fires when it should — and not before — and says what the person needs to know."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update

from crm_core.models import ChatBinding, Contract, Customer, Opportunity, Payment, Task, Ticket
from tests.factories import TODAY
from tests.jobs.conftest import GROUP, MORNING, at, later, queued, run


def _history(db, title: str, days: list[float], kind: str | None = None) -> None:
    """Completed tasks like T-1 that took ``days`` each, finished before TODAY."""
    with db.unit_of_work() as s:
        for i, span in enumerate(days):
            done = datetime(2026, 10, 1, 10, tzinfo=UTC) + timedelta(days=7 * i)
            s.add(Task(title=title, kind=kind, status="已完成", due=done.date(), created_at=done - timedelta(days=span),
                       completed_at=done))


def test_overdue_tasks_go_to_the_project_group_mentioning_assignee_and_account_manager(db, agency, settings):
    _history(db, "品牌策略提案", [4, 5, 6])
    result = run(db, settings, "overdue_tasks", MORNING)
    [message] = queued(db, "overdue_tasks")
    assert (message.channel, message.target) == ("console", GROUP)
    assert set(message.mentions) == {"planner", "am1"}  # the assignee's and the account manager's WeCom ids
    assert "@策划甲" in message.text and "@甲经理" in message.text
    assert "品牌策略提案" in message.text and "已逾期 2 天" in message.text
    assert "历史相似任务平均耗时 5 天" in message.text
    assert result.items == 1 and result.messages == 1


def test_a_project_bound_to_two_groups_reminds_both_and_other_projects_tasks_stay_out(db, agency, settings):
    with db.unit_of_work() as s:
        s.add(ChatBinding(ref="CB-2", channel="wecom", chat_id="grp_p1_design", name="星屿设计小组",
                          kind="project_group", project_id=agency.world.projects["p1"].id))
        s.execute(update(Task).where(Task.ref == "T-2").values(due=TODAY - timedelta(days=1)))  # p2: no group
    run(db, settings, "overdue_tasks", MORNING)
    by_target = {m.target: m.text for m in queued(db, "overdue_tasks")}
    assert set(by_target) == {GROUP, "grp_p1_design", "dm:designer"}
    assert all("品牌策略提案" in by_target[g] and "门店海报设计" not in by_target[g] for g in (GROUP, "grp_p1_design"))
    assert "门店海报设计" in by_target["dm:designer"] and "已逾期 1 天" in by_target["dm:designer"]


def test_reference_falls_back_to_tasks_of_the_same_kind_and_says_when_there_is_none(db, agency, settings):
    run(db, settings, "overdue_tasks", MORNING)
    assert "暂无历史相似任务可参考" in queued(db, "overdue_tasks")[0].text
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.ref == "T-1").values(kind="策划"))
    _history(db, "另一份提案", [2, 2, 3], kind="策划")
    run(db, settings, "overdue_tasks", at(TODAY + timedelta(days=1)))
    assert "历史相似任务平均耗时 2.3 天（近 3 个同类任务（策划））" in queued(db, "overdue_tasks")[-1].text


def test_a_task_is_overdue_only_after_its_due_day_and_without_a_group_goes_to_the_assignee(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.ref == "T-2").values(due=TODAY))  # 澜山 project: no group bound
    run(db, settings, "overdue_tasks", at(TODAY, "20:00"))
    assert queued(db, "overdue_tasks", target="dm:designer") == []
    run(db, settings, "overdue_tasks", at(TODAY + timedelta(days=1)))
    [dm] = queued(db, "overdue_tasks", target="dm:designer")
    assert "门店海报设计" in dm.text and "已逾期 1 天" in dm.text and dm.mentions == []


def test_overdue_reminder_repeats_daily_but_only_once_a_day(db, agency, settings):
    run(db, settings, "overdue_tasks", MORNING)
    run(db, settings, "overdue_tasks", at(TODAY, "15:00"))
    assert len(queued(db, "overdue_tasks")) == 1
    run(db, settings, "overdue_tasks", at(TODAY + timedelta(days=1)))
    assert [m.text.count("已逾期 3 天") for m in queued(db, "overdue_tasks")] == [0, 1]


def test_client_service_groups_never_get_internal_reminders(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(update(ChatBinding).where(ChatBinding.chat_id == GROUP).values(kind="client_service"))
    run(db, settings, "overdue_tasks", MORNING)
    assert queued(db, "overdue_tasks", target=GROUP) == []
    assert len(queued(db, "overdue_tasks", target="dm:planner")) == 1


def test_due_soon_warns_the_assignee_once_within_24_hours_of_the_deadline(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.ref == "T-2").values(due=TODAY + timedelta(days=1)))
    run(db, settings, "due_soon", MORNING)  # deadline tomorrow 18:00 is 33 hours away
    assert queued(db, "due_soon") == []
    run(db, settings, "due_soon", at(TODAY, "18:05"))
    [dm] = queued(db, "due_soon")
    assert dm.target == "dm:designer" and "任务即将到期" in dm.text and "门店海报设计" in dm.text
    run(db, settings, "due_soon", at(TODAY + timedelta(days=1), "09:05"))
    assert len(queued(db, "due_soon")) == 1


def test_opportunity_without_follow_up_for_three_days_reminds_its_owner(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(update(Opportunity).where(Opportunity.ref == "O-1")
                  .values(last_followup_at=MORNING - timedelta(days=3) + timedelta(hours=1)))
    run(db, settings, "stale_followups", MORNING)
    assert queued(db, "stale_followups") == []
    run(db, settings, "stale_followups", later(MORNING, hours=2))
    [dm] = queued(db, "stale_followups")
    assert dm.target == "dm:am1" and "星屿科技年度框架" in dm.text and "已 3 天未跟进" in dm.text
    # a follow-up logged on the customer starts a new silence; three days later, a new reminder
    with db.unit_of_work() as s:
        s.execute(update(Customer).where(Customer.ref == "C-1").values(last_contact_at=later(MORNING, days=1)))
    run(db, settings, "stale_followups", later(MORNING, days=3))
    assert len(queued(db, "stale_followups")) == 1
    run(db, settings, "stale_followups", later(MORNING, days=4, hours=1))
    assert len(queued(db, "stale_followups")) == 2


def test_payments_due_within_seven_days_go_to_the_owner_overdue_ones_also_to_the_manager(db, agency, settings):
    with db.unit_of_work() as s:
        contract = s.scalars(select(Contract).where(Contract.ref == "K-1")).one()
        s.add(Payment(ref="PM-3", contract_id=contract.id, seq=3, due=TODAY + timedelta(days=10), amount=Decimal(1000)))
    run(db, settings, "payments", MORNING)
    [owner] = queued(db, "payments", target="dm:am1")
    assert "已逾期：" in owner.text and "已逾期 5 天" in owner.text and "即将到期：" in owner.text
    assert "第2期" in owner.text and "第3期" not in owner.text  # due in 10 days: not yet
    [boss] = queued(db, "payments", target="dm:mgr1")
    assert "团队逾期回款" in boss.text and "负责人 甲经理" in boss.text and "第2期" not in boss.text
    run(db, settings, "payments", at(TODAY + timedelta(days=2)))  # same week; PM-3 is still 8 days out
    assert len(queued(db, "payments")) == 2
    run(db, settings, "payments", at(TODAY + timedelta(days=7)))  # next week: overdue again, PM-3 now due soon
    latest = queued(db, "payments", target="dm:am1")[-1]
    assert "已逾期 12 天" in latest.text and "第3期" in latest.text


def test_tickets_past_their_sla_go_to_the_service_owner(db, agency, settings):
    with db.unit_of_work() as s:
        s.add(Ticket(number=1001, customer_id=agency.world.customers["c1"].id, title="报告数据对不上", priority="中",
                     status="处理中", assignee_id=agency.world.staff["service"].id, sla_due_at=later(MORNING, hours=1)))
    run(db, settings, "ticket_sla", MORNING)
    assert queued(db, "ticket_sla") == []
    run(db, settings, "ticket_sla", later(MORNING, hours=3))
    [dm] = queued(db, "ticket_sla")
    assert dm.target == "dm:service" and "#1001 报告数据对不上" in dm.text and "已超时 2 小时" in dm.text


def test_morning_digest_per_person_and_nothing_for_someone_with_nothing(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.ref == "T-2").values(due=TODAY))
        s.execute(update(Opportunity).where(Opportunity.ref == "O-1").values(last_followup_at=MORNING - timedelta(days=9)))
    run(db, settings, "digest", at(TODAY, "08:30"))
    digests = {m.target: m.text for m in queued(db, "digest")}
    assert set(digests) == {"dm:planner", "dm:designer", "dm:am1"}
    assert "已逾期的任务（1）" in digests["dm:planner"] and "品牌策略提案" in digests["dm:planner"]
    assert "今天到期的任务（1）" in digests["dm:designer"]
    assert "逾期回款（1）" in digests["dm:am1"] and "待跟进的商机（1）" in digests["dm:am1"]
    run(db, settings, "digest", at(TODAY, "10:00"))
    assert len(queued(db, "digest")) == 3


def test_inactive_staff_get_nothing(db, agency, settings):
    with db.unit_of_work() as s:
        s.execute(delete(ChatBinding))
        agency.world.staff["planner"].active = False
        s.merge(agency.world.staff["planner"])
    run(db, settings, "overdue_tasks", MORNING)
    assert queued(db, "overdue_tasks") == []


def test_payment_reminders_fall_back_to_the_customers_owner_and_escalate_even_an_inactive_owners(db, agency, settings):
    staff, customers = agency.world.staff, agency.world.customers
    with db.unit_of_work() as s:
        ownerless = Contract(ref="K-2", customer_id=customers["c2"].id, title="澜山茶饮门店焕新合同", amount=Decimal(90000))
        managers_own = Contract(ref="K-3", customer_id=customers["c2"].id, title="澜山茶饮年度代理合同",
                                amount=Decimal(50000), owner_id=staff["mgr2"].id)
        s.add_all([ownerless, managers_own])
        s.flush()
        s.add_all([Payment(ref="PM-4", contract_id=ownerless.id, seq=1, due=TODAY - timedelta(days=3), amount=Decimal(9000)),
                   Payment(ref="PM-5", contract_id=managers_own.id, seq=1, due=TODAY - timedelta(days=2),
                           amount=Decimal(5000))])
        s.execute(update(type(staff["am1"])).where(type(staff["am1"]).id == staff["am1"].id).values(active=False))
    run(db, settings, "payments", MORNING)
    assert queued(db, "payments", target="dm:am1") == []  # inactive: told nothing, but the manager still is
    [boss1] = queued(db, "payments", target="dm:mgr1")
    assert "团队逾期回款" in boss1.text and "星屿科技品牌升级合同 第1期" in boss1.text
    [am2] = queued(db, "payments", target="dm:am2")  # K-2 has no owner: the customer's
    assert "澜山茶饮门店焕新合同" in am2.text and "年度代理合同" not in am2.text
    told_mgr2 = [m.text for m in queued(db, "payments", target="dm:mgr2")]
    assert len(told_mgr2) == 2  # its own instalment, and am2's escalated — never its own escalated to itself
    own, escalated = sorted(told_mgr2, key=lambda t: "团队逾期回款" in t)
    assert "澜山茶饮年度代理合同" in own and "门店焕新合同" not in own
    assert "团队逾期回款" in escalated and "负责人 乙经理" in escalated and "年度代理合同" not in escalated


def test_follow_up_reminders_skip_inactive_owners_and_go_in_owner_order(db, agency, settings):
    staff, customers = agency.world.staff, agency.world.customers
    silent = MORNING - timedelta(days=5)
    with db.unit_of_work() as s:
        s.execute(update(Opportunity).where(Opportunity.ref == "O-1").values(last_followup_at=silent))
        s.add_all([Opportunity(ref="O-2", customer_id=customers["c2"].id, name="澜山茶饮新品上市", stage="方案报价",
                               owner_id=staff["am2"].id, last_followup_at=silent),
                   Opportunity(ref="O-3", customer_id=customers["c2"].id, name="澜山茶饮会员活动", stage="需求确认",
                               owner_id=staff["sales1"].id, last_followup_at=silent)])
        s.execute(update(type(staff["am1"])).where(type(staff["am1"]).id == staff["am1"].id).values(active=False))
    run(db, settings, "stale_followups", MORNING)
    told = queued(db, "stale_followups")
    assert [m.target for m in told] == sorted(["dm:am2", "dm:sales1"], key=lambda t: staff[t[3:]].id)
    assert "澜山茶饮新品上市" in told[[m.target for m in told].index("dm:am2")].text
