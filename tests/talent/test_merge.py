"""Duplicates: found by suffix-insensitive names and shared phones, e-mails and WeCom ids; merged after a
preview, every related record moved, the audit trail kept; and undone without losing anything."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.models import (
    AuditLog,
    Contact,
    Customer,
    Interaction,
    Lead,
    MergeRecord,
    Opportunity,
    Project,
    Staff,
    Ticket,
)
from crm_core.services import customers as customer_svc
from crm_core.services import merge
from tests.talent.world import ago, at, contact, contract


def _duplicates(db) -> None:  # type: ignore[no-untyped-def]
    """C-M 星屿科技 gets a duplicate C-D 上海星屿科技有限公司 with records of every kind; plus pairs that
    share only a phone, an e-mail or a WeCom id."""
    with db.unit_of_work() as s:
        am = s.scalars(select(Staff).where(Staff.ref == "S-am")).one()
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        contact(s, mine, "王敏", phone="13812341234", wecom="wm_wangmin")
        customer_svc.set_tag(s, Actor.system(), mine, "出海")
        for i in range(4):  # the record people have worked with for years: the richer one
            s.add(Interaction(customer_id=mine.id, summary=f"季度沟通{i}", occurred_at=at(ago(100 + 90 * i))))
            s.add(Project(name=f"星屿项目{i}", customer_id=mine.id, manager_id=am.id, status="已完成"))
            contract(s, mine, 500_000, ago(400 + 365 * i))
        dup = Customer(ref="C-D", name="上海星屿科技有限公司", industry="科技", region="上海", owner_id=am.id,
                       budget_level="高")
        s.add(dup)
        s.flush()
        contact(s, dup, "王敏", phone="138-1234-1234", email="wangmin@xingyu.example")
        contact(s, dup, "赵婷", phone="13916002288")
        customer_svc.set_tag(s, Actor.system(), dup, "出海")
        customer_svc.set_tag(s, Actor.system(), dup, "年轻化")
        s.add_all([Opportunity(ref="O-D", customer_id=dup.id, name="星屿年度框架", stage="合同谈判",
                               amount=Decimal(1_500_000), owner_id=am.id),
                   Project(ref="P-D", name="星屿新品发布会", customer_id=dup.id, manager_id=am.id),
                   Ticket(number=1001, customer_id=dup.id, title="报告数据对不上"),
                   Interaction(customer_id=dup.id, summary="电话沟通预算", occurred_at=at(ago(5))),
                   Lead(ref="L-D", name="星屿科技有限公司", customer_id=dup.id, status="已转化")])
        contract(s, dup, 800_000, ago(30), ref="K-D")
        for name, phone, email, wecom, kf in (("蓝鲸网络", "13700000001", None, None, None),
                                              ("蓝鲸互娱", "13700000001", None, None, None),
                                              ("远山文旅", None, "boss@yuanshan.example", None, None),
                                              ("远山旅行社", None, "BOSS@yuanshan.example", None, None),
                                              ("青柠教育", None, None, "wx_ext_9", None),
                                              ("青柠学堂", None, None, None, "wx_ext_9")):
            c = Customer(name=name, owner_id=am.id)
            s.add(c)
            s.flush()
            contact(s, c, "负责人", phone=phone, email=email, wecom=wecom, kf=kf)


def _pointers(db) -> dict[tuple[str, tuple[object, ...]], int]:  # type: ignore[no-untyped-def]
    """Every row that points at a customer or a contact, and where it points."""
    out = {}
    with db.unit_of_work() as s:
        for table, column in merge.customer_references() + merge.contact_references():
            if table.name in merge.NOT_MOVED:  # tier assessments and history are recomputed, not moved
                continue
            key = list(table.primary_key.columns)
            for *row_id, target in s.execute(select(*key, column).where(column.is_not(None))):
                out[(f"{table.name}.{column.name}", tuple(row_id))] = target
    return out


def test_likely_duplicates_are_found_by_name_phone_email_and_wecom_id(agency):
    _duplicates(agency)
    with agency.unit_of_work() as s:
        found = merge.find_duplicates(s, Actor.system())
    pairs = {(d.drop_label, d.keep_label): d.signals for d in found if d.kind == "customer"}
    assert pairs[("上海星屿科技有限公司（C-D）", "星屿科技（C-M）")] == ["name", "phone"]
    assert any(set(p) == {"蓝鲸网络", "蓝鲸互娱"} and s == ["phone"] for p, s in pairs.items())
    assert any(set(p) == {"远山文旅", "远山旅行社"} and s == ["email"] for p, s in pairs.items())
    assert any(set(p) == {"青柠教育", "青柠学堂"} and s == ["wecom"] for p, s in pairs.items())
    assert len(pairs) == 4


def test_merge_from_chat_previews_moves_every_record_and_undo_puts_everything_back(agency, say):
    _duplicates(agency)
    before = _pointers(agency)
    listing = say("am", "/合并").plain()
    assert "1. 上海星屿科技有限公司（C-D） → 并入 星屿科技（C-M）（名称相同（去掉公司后缀/城市前缀后）、联系人电话相同）" in listing
    preview = say("am", "1")
    text = preview.plain()
    assert preview.actions[0]["status"] == "pending_confirmation"
    moved = next(line for line in text.split("\n") if line.startswith("· 转移到「星屿科技（C-M）」："))
    assert set(moved.split("：")[1].split("、")) == {"联系人 2", "标签 1", "跟进记录 1", "线索 1", "商机 1", "合同 1",
                                                    "项目 1", "工单 1"}
    filled = next(line for line in text.split("\n") if line.startswith("· 补全字段："))
    assert set(filled.split("：", 1)[1].split("；")) == {"全称 → 上海星屿科技有限公司", "地区 → 上海", "预算等级 → 高"}
    assert "联系人 王敏 与 王敏 是同一人，合并（联系人电话相同）" in text
    assert "重复项留在归档记录中：标签 1" in text
    with agency.unit_of_work() as s:
        assert s.scalars(select(MergeRecord)).first() is None  # nothing happened before "确认"
    done = say("am", "确认").plain()
    assert "已合并（#1）：「上海星屿科技有限公司（C-D）」并入「星屿科技（C-M）」" in done
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        dup = s.scalars(select(Customer).where(Customer.ref == "C-D")).one()
        assert dup.merged_into_id == mine.id and dup.status == "已合并"
        assert (mine.legal_name, mine.region, mine.budget_level) == ("上海星屿科技有限公司", "上海", "高")
        for model in (Opportunity, Project, Ticket, Interaction, Lead):
            pair = select(model).where(model.customer_id.in_([mine.id, dup.id]))
            assert {r.customer_id for r in s.scalars(pair)} == {mine.id}, model
        assert sorted(t for t in mine.tag_names) == ["出海", "年轻化"]
        people = [c for c in mine.contacts if c.merged_into_id is None]
        assert sorted(c.name for c in people) == ["王敏", "赵婷"]
        wang = next(c for c in people if c.name == "王敏")
        assert (wang.phone, wang.email, wang.wecom_external_userid) == ("13812341234", "wangmin@xingyu.example",
                                                                     "wm_wangmin")
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert "customer.merge" in actions and "customer.merged_into" in actions
    profile = say("am", "/客户 上海星屿科技有限公司").plain()  # the duplicate's name now finds the kept record
    assert "客户档案｜星屿科技（C-M）" in profile and profile.count("王敏") == 1
    assert "没有找到" in say("am", "/客户 C-D").plain()

    undone = say("am", "/撤销合并").plain()
    assert "已撤销合并 #1：「上海星屿科技有限公司（C-D）」已恢复" in undone
    assert _pointers(agency) == before
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        dup = s.scalars(select(Customer).where(Customer.ref == "C-D")).one()
        assert dup.merged_into_id is None and dup.status == "合作中"
        assert (mine.legal_name, mine.region, mine.budget_level) == (None, None, None)
        assert all(c.merged_into_id is None for c in s.scalars(select(Contact)))
        assert [lk.tag.name for lk in dup.tag_links] == ["出海", "年轻化"]
        record = s.scalars(select(MergeRecord)).one()
        assert record.undone_at is not None
        assert s.scalars(select(AuditLog).where(AuditLog.action == "customer.unmerge")).first() is not None
    assert "客户档案｜上海星屿科技有限公司（C-D）" in say("am", "/客户 C-D").plain()


def test_undo_keeps_fields_changed_after_the_merge_and_says_so(agency, say):
    _duplicates(agency)
    say("am", "/合并 上海星屿科技有限公司 到 星屿科技")
    say("am", "确认")
    say("mgr", "/改客户 星屿科技 地区 杭州")
    text = say("am", "/撤销合并").plain()
    assert "合并后又改过的字段保持现状：地区" in text
    with agency.unit_of_work() as s:
        assert s.scalars(select(Customer.region).where(Customer.ref == "C-M")).one() == "杭州"


def test_a_merge_in_plain_chinese_previews_and_a_stale_preview_is_refused(agency, say):
    _duplicates(agency)
    r = say("am", "把上海星屿科技有限公司合并到星屿科技")
    assert r.intent == "customer.merge" and r.slots == {"keep": "C-M", "drop": "C-D"}
    assert "把「上海星屿科技有限公司（C-D）」并入「星屿科技（C-M）」" in r.plain()
    say("am", "/改客户 上海星屿科技有限公司 规模 大型")  # someone edits the duplicate meanwhile …
    stale = say("am", "/合并 上海星屿科技有限公司 到 星屿科技")
    assert stale.actions[0]["status"] == "pending_confirmation"
    say("mgr", "/改客户 C-D 地区 北京")  # … after this preview
    refused = say("am", "确认").plain()
    assert "在预览之后被修改过" in refused
    with agency.unit_of_work() as s:
        assert s.scalars(select(MergeRecord)).first() is None


def test_only_someone_who_manages_both_records_may_merge(agency, say):
    _duplicates(agency)
    assert "没有找到你可以查看的客户" in say("am", "/合并 澜山茶饮 到 星屿科技").plain()
    with agency.unit_of_work() as s:
        planner = s.scalars(select(Staff).where(Staff.ref == "S-p1")).one()
        assert planner.role == "planner"
    assert "权限" in say("p1", "/合并").plain()


def test_duplicate_contacts_of_one_customer_merge_on_their_own(agency, say):
    with agency.unit_of_work() as s:
        mine = s.scalars(select(Customer).where(Customer.ref == "C-M")).one()
        contact(s, mine, "王敏", phone="13812341234")
        contact(s, mine, "王敏", email="wangmin@xingyu.example", wecom="wm_wangmin")
        contact(s, mine, "王敏", phone="13900000000")  # same name, another phone: another person
    with agency.unit_of_work() as s:
        found = merge.find_duplicates(s, Actor.system())
        phones = {(s.get(Contact, d.keep_id).phone, s.get(Contact, d.drop_id).phone) for d in found}
    assert ("13812341234", "13900000000") not in phones  # same name, different phones: two people
    listing = say("am", "/合并").plain()
    assert "1. 星屿科技 的联系人 王敏 → 王敏（同名联系人）" in listing
    say("am", "1")
    say("am", "确认")
    profile = say("am", "/客户 星屿科技").plain()
    assert profile.count("王敏") == 2 and "wangmin@xingyu.example" in profile
    say("am", "/撤销合并")
    assert say("am", "/客户 星屿科技").plain().count("王敏") == 3
