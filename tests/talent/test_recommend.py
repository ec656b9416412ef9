"""/人才 and "下周三前要一个国潮风短视频脚本": three people, why each, when they are free, and a one-step assignment."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from config import get_settings
from crm_core.actor import Actor
from crm_core.importing.service import import_rows, rows_from_dicts
from crm_core.models import Task
from crm_core.services import talent
from tests.talent import world


def test_a_need_in_plain_chinese_gets_three_people_with_reasons_and_availability(ask):
    r = ask("demo_am", "下周三前要一个国潮风短视频脚本")
    text = r.plain()
    assert r.intent == "talent.recommend" and r.slots == {"query": "国潮风短视频脚本", "due": "2026-12-02"}
    assert r.actions[0]["candidates"][:2] == ["S-029", "S-028"]  # 叶阳梦 (国潮 + 脚本), then 唐文涵 (脚本)
    assert text.count("\n1. ") + text.count("\n2. ") + text.count("\n3. ") == 3
    first = text.split("\n1. ")[1].split("\n2. ")[0]
    assert first.startswith("叶阳梦") and "国潮、短视频脚本" in first
    assert "截止前空闲 6/6 个工作日" in first and "满意度 4.7" in first  # free 11-25..12-02; leave 12-04 is later
    assert "截止 2026-12-02，共 6 个工作日" in text
    assert "回复序号即把「国潮风短视频脚本」派给对应同事" in text


def test_partly_booked_people_show_their_free_days_and_bookings(ask):
    text = ask("demo_am", "/人才 直播策划 下周五").plain()
    line = next(part for part in text.split("\n") if part.startswith(("1. 钟飞航", "2. 钟飞航", "3. 钟飞航")))
    block = text[text.index(line):].split("\n")[2]
    # 钟飞航 is booked 11-28..12-05: of the 8 working days to 12-04 only 11-25, 26 and 27 are free
    assert "截止前空闲 3/8 个工作日" in block and "已排期 11/28–12/5" in block


def test_replying_with_a_number_assigns_the_need_as_a_task(ask, demo):
    ask("demo_am", "下周三前要一个国潮风短视频脚本")
    r = ask("demo_am", "1")
    assert r.intent == "task.create" and "叶阳梦" in r.plain()
    with demo.unit_of_work() as s:
        task = s.scalars(select(Task).where(Task.title == "国潮风短视频脚本")).one()
        assert (task.assignee.ref, task.due, task.status) == ("S-029", date(2026, 12, 2), "待办")


def test_when_nobody_matching_is_free_the_reply_says_who_frees_up_first(agency, say):
    with agency.unit_of_work() as s:
        ag = {p.wecom_userid: p for p in s.scalars(select(world.Staff))}
        for key, until in (("p1", date(2026, 12, 18)), ("p2", date(2026, 12, 21))):
            ag[key].talent.calendar.append(world.CalendarBlock(start=date(2026, 12, 8), end=until, kind="leave"))
    text = say("am", "下周二前要一个国潮风短视频脚本").plain()
    assert "技能匹配的同事在这段时间都没有空档" in text
    assert "叶策划（12/21 起）" in text  # 12-19/20 is a weekend: 叶策划 is back on Monday 12-21 and "唐策划（12/22 起）" in text
    assert text.index("叶策划（12/21 起）") < text.index("唐策划（12/22 起）")


def test_a_past_case_of_a_customer_the_asker_cannot_see_is_shown_by_industry_only(say):
    mine = say("am", "/人才 国潮 短视频脚本").plain()
    assert "澜山茶饮" not in mine and "相关经历：餐饮行业客户项目，客户评分 4.9" in mine
    theirs = say("am2", "/人才 国潮 短视频脚本").plain()
    assert "相关案例：《澜山茶饮国潮新年短视频》，客户评分 4.9" in theirs
    assert "满意度 4.8（2 次客户评分）" in theirs  # the mean of the client ratings of 叶策划's two works


def test_profile_edits_from_chat_change_the_next_recommendation(say, agency):
    assert "叶策划" in say("am", "/人才 国潮 短视频脚本 下周五").plain().split("\n2. ")[0]
    r = say("p1", "/人才档案 我 请假 12月9日 12月18日 年假")
    assert r.intent == "talent.update" and "已更新" in r.plain()
    r = say("p1", "/人才档案 我 技能 +三维动画 -social文案")
    card = say("am", "/人才档案 叶策划").plain()
    assert "技能：短视频脚本、三维动画" in card and "请假 2026-12-09 ~ 2026-12-18（年假）" in card
    after = say("am", "/人才 国潮 短视频脚本 下周五").plain()
    assert after.split("\n1. ")[1].startswith("唐策划")
    second = after.split("\n2. ")[1]
    assert second.startswith("叶策划") and "截止前没有空档，12/21 起有空" in second  # free people first
    refused = say("p2", "/人才档案 叶策划 技能 +剪辑").plain()
    assert "只能修改自己的人才档案" in refused
    assert "客户评分只能由主管或管理员录入" in say("p1", "/人才档案 我 作品 新作品 评分4.9").plain()
    assert "已更新" in say("mgr", "/人才档案 叶策划 作品 晨光乳业新春TVC 评分4.6").plain()


def test_past_work_and_client_ratings_come_in_with_the_talent_import(agency):
    actor = Actor.system(channel="cli", name="cli")
    rows = [{"ref": "S-p3", "works": [
        {"title": "云杉家居国潮礼盒文案", "rating": 4.9, "skills": ["social文案", "国潮"], "industry": "家居"},
        {"title": "年货节social文案", "rating": 4.5, "finished_on": "2026-01-20"}]}]
    with agency.unit_of_work() as s:
        report = import_rows(s, "talents", rows_from_dicts("talents", rows, source="test"), actor)
        assert report.ok and report.updated == 1
    with agency.unit_of_work() as s:
        again = import_rows(s, "talents", rows_from_dicts("talents", rows, source="test"), actor)
        assert again.unchanged == 1  # a re-import of the same works writes nothing
        rec = talent.recommend(s, Actor.system(), "国潮礼盒文案", world.TODAY)
        hit = next(h for h in rec.hits if h.ref == "S-p3")
        assert (round(hit.satisfaction or 0, 1), hit.ratings) == (4.7, 2)
        assert hit.case is not None and hit.case.title == "云杉家居国潮礼盒文案"


def test_a_window_without_a_deadline_is_the_next_two_weeks_and_weekends_do_not_count():
    w = talent.window_for(date(2026, 12, 9), None, get_settings())
    assert (w.start, w.end, len(w.work_days), w.explicit) == (date(2026, 12, 9), date(2026, 12, 22), 10, False)
    blocks = [world.CalendarBlock(start=date(2026, 12, 10), end=date(2026, 12, 14), kind="leave")]
    assert talent.first_free_day(blocks, date(2026, 12, 10)) == date(2026, 12, 15)
    assert talent.free_days(blocks, w.work_days)[:3] == [date(2026, 12, 9), date(2026, 12, 15), date(2026, 12, 16)]


def test_nothing_matching_says_so(say):
    r = say("am", "/人才 区块链智能合约审计")
    assert "没有找到技能匹配「区块链智能合约审计」的同事" in r.plain()


def test_crmbot_chat_answers_the_need_for_the_demo_account_manager(demo, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app
    from config import reset_settings

    monkeypatch.setenv("CRMBOT_DATABASE_URL", demo.url)
    reset_settings()
    result = CliRunner().invoke(app, ["chat", "--as", "demo_am", "--now", "2026-11-25T10:00:00+08:00",
                                      "下周三前要一个国潮风短视频脚本"])
    assert result.exit_code == 0, result.output
    assert "推荐人选｜国潮风短视频脚本（截止 2026-12-02，共 6 个工作日）" in result.output
    assert "1. 叶阳梦" in result.output and "2. 唐文涵" in result.output and "3. " in result.output
