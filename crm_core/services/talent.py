"""Who should do this work: staff whose skills match the requirement, with their load and availability.

Skills come from the staff record and the talent profile (skills and styles). A requirement matches
a skill when one contains the other, or by shared character bigrams ("小红书KOL种草" ~ "小红书种草");
role words (策划, 设计师, 媒介 …) prefer that role. Availability counts leave or bookings overlapping
today..due and open tasks due by then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core.actor import Actor
from crm_core.models import OPEN_TASK_STATUSES, Role, Staff, TalentProfile, Task
from crm_core.permissions import Cap, require

ROLE_WORDS: dict[str, tuple[str, ...]] = {
    Role.planner.value: ("策划", "文案", "策略", "脚本"),
    Role.designer.value: ("设计师", "设计", "插画", "美术", "视觉", "剪辑", "后期", "动画", "建模"),
    Role.media.value: ("媒介", "投放", "投手", "排期"),
}
DEFAULT_WINDOW_DAYS = 14


@dataclass
class TalentHit:
    ref: str | None
    name: str
    role: str
    department: str | None
    matched: list[str]
    score: float
    open_tasks: int
    busy: list[str] = field(default_factory=list)  # leave / bookings overlapping the window
    satisfaction: float | None = None
    level: str | None = None

    @property
    def available(self) -> bool:
        return not self.busy


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text.lower())
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def skill_match(query: str, skill: str) -> float:
    q, s = query.lower().replace(" ", ""), skill.lower()
    if not s:
        return 0.0
    if s in q or (len(q) >= 2 and q in s):
        return 1.0
    sb = _bigrams(s)
    return len(sb & _bigrams(q)) / len(sb) if sb else 0.0


def recommend(session: Session, actor: Actor, query: str, today: date, due: date | None = None,
              k: int = 5) -> list[TalentHit]:
    require(actor, Cap.talent_read)
    until = due or today + timedelta(days=DEFAULT_WINDOW_DAYS)
    people = list(session.scalars(select(Staff).where(Staff.active.is_(True)).options(
        selectinload(Staff.talent).selectinload(TalentProfile.calendar))))
    wanted_roles = {role for role, words in ROLE_WORDS.items() if any(w in query for w in words)}
    terms = [t for t in re.split(r"[\s,，、/]+", query) if t]
    hits: list[TalentHit] = []
    for p in people:
        skills = list(dict.fromkeys([*(p.skills or []), *((p.talent.skills or []) if p.talent else []),
                                     *((p.talent.styles or []) if p.talent else [])]))
        matched, score = [], 0.0
        for skill in skills:
            best = max((skill_match(t, skill) for t in terms or [query]), default=0.0)
            if best >= 0.5:
                matched.append(skill)
                score += best
        if p.role in wanted_roles:
            score += 0.6
        if score < 0.5 or (not matched and not wanted_roles):
            continue
        busy = []
        if p.talent:
            for block in p.talent.calendar:
                if block.start <= until and block.end >= today:
                    busy.append(f"{'请假' if block.kind == 'leave' else '已排期'} {block.start}~{block.end}")
        hits.append(TalentHit(ref=p.ref, name=p.name, role=p.role, department=p.department, matched=matched,
                              score=score, open_tasks=0, busy=busy,
                              satisfaction=p.talent.satisfaction if p.talent else None,
                              level=p.talent.level if p.talent else None))
    if not hits:
        return []
    by_ref = {s.ref: s.id for s in people}
    ids = [by_ref[h.ref] for h in hits if h.ref in by_ref]
    loads = dict(session.execute(select(Task.assignee_id, func.count()).where(
        Task.assignee_id.in_(ids), Task.status.in_(OPEN_TASK_STATUSES),
        (Task.due.is_(None)) | (Task.due <= until)).group_by(Task.assignee_id)).all())
    for h in hits:
        h.open_tasks = int(loads.get(by_ref.get(h.ref), 0) or 0)
    # skills first; among equals, the free and the less loaded, then the better rated
    hits.sort(key=lambda h: (-round(h.score, 1), bool(h.busy), h.open_tasks, -(h.satisfaction or 0), h.name))
    return hits[:k]

