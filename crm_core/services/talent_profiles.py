"""A colleague's talent profile: read it, and edit skills, styles, level, calendar and past work from chat.

Anyone who may look for talent sees every profile. One edits one's own skills, styles and calendar;
managers and admins (``Cap.talent_update``) edit anyone's, and only they record client ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import InvalidInput, NotFound, PermissionDenied
from crm_core.models import (
    OPEN_TASK_STATUSES,
    CalendarBlock,
    Staff,
    TalentProfile,
    TalentWork,
    Task,
)
from crm_core.permissions import Cap, can, require

LEVELS = ("初级", "中级", "高级", "资深", "专家")
BLOCK_KINDS = {"leave": "请假", "booked": "已排期"}


def staff_by_ref(session: Session, ref: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.ref == ref, Staff.active.is_(True)).options(
        selectinload(Staff.talent).selectinload(TalentProfile.calendar),
        selectinload(Staff.talent).selectinload(TalentProfile.works))).first()
    if staff is None:
        raise NotFound("没有找到这位同事。")
    return staff


@dataclass
class TalentCard:
    staff: Staff
    skills: list[str]
    styles: list[str]
    level: str | None
    satisfaction: float | None
    ratings: int
    calendar: list[CalendarBlock]
    works: list[TalentWork]
    open_tasks: int


def card(session: Session, actor: Actor, staff: Staff, today: date) -> TalentCard:
    require(actor, Cap.talent_read)
    talent = staff.talent
    skills = list(dict.fromkeys([*(staff.skills or []), *((talent.skills or []) if talent else [])]))
    works = list(talent.works) if talent else []
    ratings = [w.rating for w in works if w.rating is not None]
    satisfaction = sum(ratings) / len(ratings) if ratings else (talent.satisfaction if talent else None)
    open_tasks = session.scalar(select(func.count()).where(Task.assignee_id == staff.id,
                                                           Task.status.in_(OPEN_TASK_STATUSES))) or 0
    return TalentCard(staff=staff, skills=skills, styles=list((talent.styles or []) if talent else []),
                      level=talent.level if talent else None, satisfaction=satisfaction, ratings=len(ratings),
                      calendar=[b for b in (talent.calendar if talent else []) if b.end >= today],
                      works=sorted(works, key=lambda w: w.finished_on or date.min, reverse=True),
                      open_tasks=int(open_tasks))


def _editable(actor: Actor, staff: Staff, *, ratings: bool = False) -> None:
    require(actor, Cap.talent_read)
    if can(actor, Cap.talent_update):
        return
    if ratings:
        raise PermissionDenied("客户评分只能由主管或管理员录入。")
    if actor.staff_id != staff.id:
        raise PermissionDenied("只能修改自己的人才档案；修改同事的档案需要主管或管理员权限。")


def _profile(session: Session, staff: Staff) -> TalentProfile:
    if staff.talent is None:
        staff.talent = TalentProfile(staff_id=staff.id, skills=[], styles=[])
        session.flush()
    return staff.talent


def _state(staff: Staff) -> dict[str, object]:
    t = staff.talent
    return {"staff": staff.ref, "staff_skills": list(staff.skills or []),
            "skills": list(t.skills or []) if t else [], "styles": list(t.styles or []) if t else [],
            "level": t.level if t else None,
            "calendar": [[b.start.isoformat(), b.end.isoformat(), b.kind, b.note] for b in t.calendar] if t else [],
            "works": [[w.title, w.rating] for w in t.works] if t else []}


def _audit(session: Session, actor: Actor, staff: Staff, before: dict[str, object]) -> None:
    session.flush()
    after = _state(staff)
    if after != before:
        audit.record(session, actor, "talent.update", _profile(session, staff), before, after)


def edit_list(session: Session, actor: Actor, staff: Staff, field: str, add: list[str], remove: list[str]) -> bool:
    """Add/remove skills or styles; returns whether anything changed."""
    _editable(actor, staff)
    if field not in ("skills", "styles"):
        raise InvalidInput("只能修改技能或风格。")
    before = _state(staff)
    profile = _profile(session, staff)
    values = list(getattr(profile, field) or [])
    for item in add:
        if len(item) > 32:
            raise InvalidInput(f"「{item}」太长了（最多 32 个字）")
        if item not in values and not (field == "skills" and item in (staff.skills or [])):
            values.append(item)
    values = [v for v in values if v not in remove]
    setattr(profile, field, values)
    if field == "skills" and any(r in (staff.skills or []) for r in remove):
        staff.skills = [s for s in staff.skills if s not in remove]
    _audit(session, actor, staff, before)
    return _state(staff) != before


def set_level(session: Session, actor: Actor, staff: Staff, level: str) -> None:
    _editable(actor, staff, ratings=True)  # a level is a manager's call, like a rating
    if level not in LEVELS:
        raise InvalidInput(f"级别可选：{'、'.join(LEVELS)}")
    before = _state(staff)
    _profile(session, staff).level = level
    _audit(session, actor, staff, before)


def add_block(session: Session, actor: Actor, staff: Staff, start: date, end: date, kind: str,
              note: str | None = None) -> CalendarBlock:
    _editable(actor, staff)
    if kind not in BLOCK_KINDS:
        raise InvalidInput("档期类型只能是请假或排期。")
    if end < start:
        raise InvalidInput(f"结束日期 {end} 早于开始日期 {start}")
    before = _state(staff)
    profile = _profile(session, staff)
    block = next((b for b in profile.calendar if (b.start, b.end, b.kind) == (start, end, kind)), None)
    if block is None:
        block = CalendarBlock(start=start, end=end, kind=kind, note=(note or None) and note[:200])
        profile.calendar.append(block)
    elif note:
        block.note = note[:200]
    _audit(session, actor, staff, before)
    return block


def remove_blocks(session: Session, actor: Actor, staff: Staff, day: date) -> int:
    """Remove the leave / bookings that cover ``day``; returns how many."""
    _editable(actor, staff)
    before = _state(staff)
    profile = _profile(session, staff)
    gone = [b for b in profile.calendar if b.start <= day <= b.end]
    for b in gone:
        profile.calendar.remove(b)
    _audit(session, actor, staff, before)
    return len(gone)


def add_work(session: Session, actor: Actor, staff: Staff, title: str, rating: float | None = None,
             industry: str | None = None, finished_on: date | None = None) -> TalentWork:
    _editable(actor, staff, ratings=rating is not None)
    if not title.strip():
        raise InvalidInput("作品/案例名称不能为空")
    if rating is not None and not 0 <= rating <= 5:
        raise InvalidInput("客户评分应在 0–5 之间")
    before = _state(staff)
    work = TalentWork(title=title.strip()[:200], rating=rating, industry=industry, finished_on=finished_on)
    _profile(session, staff).works.append(work)
    _audit(session, actor, staff, before)
    return work
