"""Talent: recommendations for a need (with a one-step follow-up to assign it), profiles, profile edits."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from crm_core.models import ROLE_LABELS
from crm_core.normalise import normalise_industry
from crm_core.permissions import Cap, can
from crm_core.services import talent as svc
from crm_core.services import talent_profiles as profiles
from handlers.actions.base import Args, action
from handlers.dialogue import Conversation, Pending
from handlers.format import day
from handlers.registry import Context
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply


def _md(d: date) -> str:
    return f"{d.month}/{d.day}"


def _window_text(rec: svc.Recommendation) -> str:
    w = rec.window
    n = len(w.work_days)
    return f"截止 {day(w.end)}，共 {n} 个工作日" if w.explicit else f"未来 {(w.end - w.start).days + 1} 天，{n} 个工作日"


def _person_line(h: svc.TalentHit, rec: svc.Recommendation) -> str:
    head = f"{h.name}（{'·'.join(filter(None, [h.role_label, h.level]))}，{h.department or '—'}）"
    why = []
    if h.matched:
        why.append("匹配：" + "、".join(h.matched[:4]))
    elif rec.semantic and h.semantic >= 0.5:
        why.append("过往经历与需求相近")
    if h.case is not None:
        rating = f"，客户评分 {h.case.rating:.1f}" if h.case.rating is not None else ""
        why.append(f"相关经历：{h.case.shown_title}{rating}" if h.case.hidden else f"相关案例：《{h.case.title}》{rating}")
    when = "截止前" if rec.window.explicit else "期间"
    if h.available:
        free = f"档期：{when}空闲 {h.free_days}/{h.work_days} 个工作日"
    else:
        free = f"档期：{when}没有空档" + (f"，{_md(h.first_free)} 起有空" if h.first_free else "")
    if h.busy:
        free += "（" + "；".join(h.busy[:2]) + "）"
    load = f"手上 {h.open_tasks} 项未完成任务"
    if h.satisfaction is None:
        sat = "满意度：暂无评分"
    elif h.ratings:
        sat = f"满意度 {h.satisfaction:.1f}（{h.ratings} 次客户评分）"
    else:
        sat = f"满意度 {h.satisfaction:.1f}（档案）"
    return "\n   ".join([head, "；".join(why) or "技能部分匹配", f"{free}；{load}；{sat}"])


class TalentArgs(Args):
    query: str = Field(min_length=1, max_length=200, description="需要的技能/工作内容，如「国潮风短视频脚本」「C4D 设计师」")
    due: date | None = Field(default=None, description="需要在此日期前完成 YYYY-MM-DD")


def _offer_assignment(ctx: Context, rec: svc.Recommendation, args: TalentArgs, reply: Reply) -> None:
    """Reply "1" to make the need a task for the first person, and so on (a task.create, applied at once)."""
    people = [h for h in rec.hits if h.available] or rec.hits
    if not people or not can(ctx.actor, Cap.task_create):
        return
    conv: Conversation = ctx.cache["conversation"]
    slots: dict[str, object] = {"title": args.query}
    if args.due:
        slots["due"] = args.due.isoformat()
    options = [(h.ref or "", h.name) for h in people if h.ref]
    if not options:
        return
    conv.ask(Pending(kind="choose", intent="task.create", slots=slots, slot="assignee", options=options,
                     source="command", created=ctx.now))
    due = f"，截止 {day(args.due)}" if args.due else ""
    numbers = "、".join(f"「{i}」{name}" for i, (_, name) in enumerate(options, 1))
    reply.add(Paragraph(tone="comment", text=f"回复序号即把「{args.query}」派给对应同事（个人任务{due}）：{numbers}；"
                                             f"要挂到项目下，用 /建任务 <项目> {args.query} <同事> [截止日期]。"))


@action("talent.recommend", title="找人/人才推荐",
        summary="按需求推荐最合适的三位同事：匹配的技能、截止前的空闲天数、满意度、相关案例，可一键派任务",
        args=TalentArgs, cap=Cap.talent_read)
def talent_recommend(ctx: Context, args: TalentArgs) -> Reply:
    rec = svc.recommend(ctx.session, ctx.actor, args.query, ctx.now.date(), args.due, settings=ctx.settings)
    reply = Reply(intent="talent.recommend")
    reply.actions.append({"action": "talent.recommend", "status": "done",
                          "candidates": [h.ref for h in rec.hits], "available": [h.ref for h in rec.hits if h.available]})
    if not rec.hits:
        return reply.add(Paragraph(text=f"没有找到技能匹配「{args.query}」的同事。可以换个说法（例如写具体技能："
                                        "短视频脚本、三维动画、信息流优化），或联系部门负责人协调。"))
    reply.add(Heading(text=f"推荐人选｜{args.query}（{_window_text(rec)}）"))
    if rec.nobody_free:
        first = [h for h in rec.busy if h.first_free] or [h for h in rec.hits if h.first_free]
        soonest = "、".join(f"{h.name}（{_md(h.first_free)} 起）" for h in first[:3] if h.first_free)
        reply.add(Paragraph(tone="warning", text="技能匹配的同事在这段时间都没有空档。"
                                                 + (f"最早空出来的是：{soonest}。" if soonest else "")
                                                 + "可以放宽截止日期，或与部门负责人协调排期。"))
    reply.add(ListBlock(ordered=True, items=[_person_line(h, rec) for h in rec.hits]))
    shown = {h.staff_id for h in rec.hits}
    later = [h for h in rec.busy if h.staff_id not in shown and h.first_free]
    if later and not rec.nobody_free:
        reply.add(Paragraph(tone="comment", text="另有技能匹配但这段时间没空的："
                            + "、".join(f"{h.name}（{_md(h.first_free)} 起有空）" for h in later if h.first_free)))
    if not rec.semantic:
        reply.add(Paragraph(tone="comment", text="（语义匹配暂不可用，本次只按技能词匹配。）"))
    _offer_assignment(ctx, rec, args, reply)
    return reply


# --- profiles ------------------------------------------------------------------------------------


def talent_card(ctx: Context, card: profiles.TalentCard) -> Reply:
    s = card.staff
    reply = Reply(intent="talent.profile")
    reply.add(Heading(text=f"人才档案｜{s.name}（{'·'.join(filter(None, [ROLE_LABELS.get(s.role, s.role), card.level]))}）"))
    sat = "暂无" if card.satisfaction is None else \
        f"{card.satisfaction:.1f}" + (f"（{card.ratings} 次客户评分）" if card.ratings else "（档案）")
    reply.add(Fields(pairs=[("部门", s.department or "—"), ("技能", "、".join(card.skills) or "—"),
                            ("风格", "、".join(card.styles) or "—"), ("满意度", sat),
                            ("手上任务", f"{card.open_tasks} 项未完成")]))
    if card.calendar:
        reply.add(ListBlock(title="档期：", items=[
            f"{profiles.BLOCK_KINDS.get(b.kind, b.kind)} {day(b.start)} ~ {day(b.end)}" + (f"（{b.note}）" if b.note else "")
            for b in card.calendar]))
    else:
        reply.add(Paragraph(text="档期：近期没有请假或排期。"))
    if card.works:
        reply.add(ListBlock(title="过往作品：", items=[
            w.title + "（" + "，".join(filter(None, [w.industry, f"{w.rating:.1f} 分" if w.rating is not None else None,
                                                    day(w.finished_on) if w.finished_on else None])) + "）"
            for w in card.works[:6]]))
    reply.add(Paragraph(tone="comment", text="修改：/人才档案 <同事|我> 技能 +国潮 -三维动画｜请假 12月20日 12月22日｜"
                                             "排期 12月20日 12月22日 <项目>｜取消档期 12月20日｜作品 <名称> [评分4.8]"))
    return reply


class TalentProfileArgs(Args):
    staff: str = Field(description="同事（员工 ref）")


@action("talent.profile", title="人才档案", summary="查看同事的人才档案：技能、风格、级别、满意度、档期、过往作品",
        args=TalentProfileArgs, cap=Cap.talent_read)
def talent_profile(ctx: Context, args: TalentProfileArgs) -> Reply:
    staff = profiles.staff_by_ref(ctx.session, args.staff)
    return talent_card(ctx, profiles.card(ctx.session, ctx.actor, staff, ctx.now.date()))


class TalentUpdateArgs(Args):
    staff: str = Field(description="同事（员工 ref）")
    field: Literal["skills", "styles", "level", "leave", "booked", "unblock", "work"]
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    value: str | None = Field(default=None, description="级别、作品名称或档期备注")
    start: date | None = None
    end: date | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    industry: str | None = None


def _update_preview(ctx: Context, args: TalentUpdateArgs) -> list[str]:
    staff = profiles.staff_by_ref(ctx.session, args.staff)
    if args.field in ("skills", "styles"):
        what = "技能" if args.field == "skills" else "风格"
        parts = [f"添加 {'、'.join(args.add)}" if args.add else "", f"去掉 {'、'.join(args.remove)}" if args.remove else ""]
        return [f"{staff.name}的{what}：{'，'.join(p for p in parts if p)}"]
    if args.field == "level":
        return [f"{staff.name}的级别改为 {args.value}"]
    if args.field in ("leave", "booked") and args.start:
        label = profiles.BLOCK_KINDS[args.field]
        return [f"{staff.name} {label} {day(args.start)} ~ {day(args.end or args.start)}" + (f"（{args.value}）" if args.value else "")]
    if args.field == "unblock" and args.start:
        return [f"取消{staff.name}在 {day(args.start)} 的请假/排期"]
    return [f"给{staff.name}添加过往作品「{args.value}」" + (f"，客户评分 {args.rating:g}" if args.rating is not None else "")]


@action("talent.update", title="修改人才档案", summary="修改技能、风格、级别，登记请假/排期，添加过往作品与客户评分",
        args=TalentUpdateArgs, cap=Cap.talent_read, write=True, preview=_update_preview)
def talent_update(ctx: Context, args: TalentUpdateArgs) -> Reply:
    staff = profiles.staff_by_ref(ctx.session, args.staff)
    line = _update_preview(ctx, args)[0]
    if args.field in ("skills", "styles"):
        if not profiles.edit_list(ctx.session, ctx.actor, staff, args.field, args.add, args.remove):
            return Reply.text(f"{staff.name}的档案没有变化。", intent="talent.update")
    elif args.field == "level":
        profiles.set_level(ctx.session, ctx.actor, staff, args.value or "")
    elif args.field in ("leave", "booked"):
        if args.start is None:
            return Reply.text("请给出日期，例如：/人才档案 我 请假 12月20日 12月22日", intent="talent.update")
        profiles.add_block(ctx.session, ctx.actor, staff, args.start, args.end or args.start, args.field, args.value)
    elif args.field == "unblock":
        if args.start is None:
            return Reply.text("请给出日期，例如：/人才档案 我 取消档期 12月20日", intent="talent.update")
        if not profiles.remove_blocks(ctx.session, ctx.actor, staff, args.start):
            return Reply.text(f"{staff.name}在 {day(args.start)} 没有请假或排期。", intent="talent.update")
    else:
        profiles.add_work(ctx.session, ctx.actor, staff, args.value or "", rating=args.rating,
                          industry=normalise_industry(args.industry) if args.industry else None)
    ctx.cache["touched"] = {"staff": staff.ref}
    return Reply.text(f"已更新：{line}。", intent="talent.update",
                      actions=[{"action": "talent.update", "status": "done", "target": staff.ref, "field": args.field}])
