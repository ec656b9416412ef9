"""Who should do this work: the best-suited colleagues for a need, with why, and when they are free.

A need ("国潮风短视频脚本，下周三前") is read into skill/style concepts, free terms and asked-for roles
(``talent_match``), and a window (today .. the deadline, or the next ``talent_window_days``).
Each person with a talent role or a talent profile is scored on

- **match** (0–1): concept overlap with their skills and styles (the deliverable counts double a
  style; their portfolio counts less than their own skills, a project they were on less still), free
  terms matched loosely, blended with the embedder's similarity between the need and their profile
  and past work; a role asked for by name ("设计师") damps the other roles, and so, more gently, does
  the role a need's skills imply (a script is a planner's job);
- **availability**: working days (Mon–Fri) in the window not covered by leave or booked blocks;
- **satisfaction**: the mean client rating of their past work (shrunk towards 4.0 when there are
  few ratings), else the rating on their profile;
- **workload**: their open tasks due by the end of the window (or overdue, or undated), a full plate
  being ``TASK_CAPACITY`` per two working weeks.

score = 0.6·match + 0.2·availability + 0.1·satisfaction + 0.1·workload. People with no free day in
the window are ranked after everyone who has one, and the reply says who frees up first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from config import Settings, get_settings
from crm_core.actor import Actor
from crm_core.models import (
    OPEN_TASK_STATUSES,
    ROLE_LABELS,
    CalendarBlock,
    Customer,
    Project,
    ProjectMember,
    Staff,
    TalentProfile,
    Task,
)
from crm_core.permissions import Cap, customer_scope, require
from crm_core.services import talent_vectors
from crm_core.services.talent_match import Reading, concept, concepts_of, loose_match, read_need

TALENT_ROLES = ("planner", "designer", "media")
TASK_CAPACITY = 5
MIN_MATCH = 0.3
WEIGHTS = {"match": 0.6, "availability": 0.2, "satisfaction": 0.1, "workload": 0.1}
# e5 cosines of short Chinese texts crowd into 0.83–0.93 (unrelated ones too); this maps them onto 0–1
COS_LOW, COS_HIGH = 0.85, 0.92
PRIOR_RATING, PRIOR_WEIGHT = 4.0, 2.0
PROJECTS_PER_PERSON = 8


@dataclass
class Window:
    start: date
    end: date
    explicit: bool  # a deadline was given

    @property
    def work_days(self) -> list[date]:
        days = [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]
        return [d for d in days if d.weekday() < 5]


@dataclass
class PastWork:
    title: str
    rating: float | None = None
    industry: str | None = None
    finished_on: date | None = None
    project_id: int | None = None
    customer_id: int | None = None
    hidden: bool = False  # its customer is not visible to the asker: shown without the name
    similarity: float = 0.0
    portfolio: bool = False  # an entry of their own portfolio (not just a project they were on)

    @property
    def shown_title(self) -> str:
        return f"{self.industry or '某'}行业客户项目" if self.hidden else self.title


@dataclass
class TalentHit:
    staff_id: int
    ref: str | None
    name: str
    role: str
    department: str | None
    level: str | None
    matched: list[str]
    match: float
    lexical: float
    semantic: float
    free_days: int
    work_days: int
    busy: list[str]
    open_tasks: int
    satisfaction: float | None
    ratings: int  # how many client ratings the satisfaction is the mean of (0: the profile's own figure)
    case: PastWork | None = None
    first_free: date | None = None
    score: float = 0.0
    wecom_userid: str | None = None

    @property
    def available(self) -> bool:
        return self.free_days > 0

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass
class Recommendation:
    query: str
    reading: Reading
    window: Window
    hits: list[TalentHit] = field(default_factory=list)  # the best k, available ones first
    busy: list[TalentHit] = field(default_factory=list)  # well-matched but not free in the window
    matched: int = 0  # people above the match threshold
    semantic: bool = False  # the embedder took part

    @property
    def nobody_free(self) -> bool:
        return bool(self.matched) and not any(h.available for h in self.hits)


@dataclass
class _Person:
    staff: Staff
    skills: list[str]
    styles: list[str]
    works: list[PastWork]
    texts: list[str]  # passage 0: profile summary; then one per past work


def window_for(today: date, due: date | None, settings: Settings) -> Window:
    if due is not None:
        return Window(today, max(due, today), True)
    return Window(today, today + timedelta(days=settings.talent_window_days - 1), False)


def _blocks(staff: Staff) -> list[CalendarBlock]:
    return list(staff.talent.calendar) if staff.talent else []


def free_days(blocks: list[CalendarBlock], days: list[date]) -> list[date]:
    return [d for d in days if not any(b.start <= d <= b.end for b in blocks)]


def first_free_day(blocks: list[CalendarBlock], after: date, horizon: int = 120) -> date | None:
    for i in range(horizon):
        d = after + timedelta(days=i)
        if d.weekday() < 5 and not any(b.start <= d <= b.end for b in blocks):
            return d
    return None


def _people(session: Session) -> list[Staff]:
    with_profile = select(TalentProfile.staff_id)
    return list(session.scalars(select(Staff).where(
        Staff.active.is_(True), Staff.role.in_(TALENT_ROLES) | Staff.id.in_(with_profile)).options(
        selectinload(Staff.talent).selectinload(TalentProfile.calendar),
        selectinload(Staff.talent).selectinload(TalentProfile.works)).order_by(Staff.id)))


def _projects(session: Session, ids: list[int]) -> dict[int, list[PastWork]]:
    """Projects each person managed, was a member of, or had tasks in — newest first."""
    member = select(ProjectMember.staff_id.label("sid"), ProjectMember.project_id.label("pid"))
    manager = select(Project.manager_id.label("sid"), Project.id.label("pid")).where(Project.manager_id.is_not(None))
    tasks = select(Task.assignee_id.label("sid"), Task.project_id.label("pid")).where(
        Task.assignee_id.is_not(None), Task.project_id.is_not(None))
    links = member.union(manager, tasks).subquery()
    rows = session.execute(select(links.c.sid, Project.id, Project.name, Project.customer_id, Project.end,
                                  Project.start, Customer.industry)
                           .join(Project, Project.id == links.c.pid).join(Customer, Customer.id == Project.customer_id)
                           .where(links.c.sid.in_(ids)))
    out: dict[int, list[PastWork]] = {}
    for sid, pid, name, cid, end, start, industry in rows:
        out.setdefault(sid, []).append(PastWork(title=name, industry=industry, finished_on=end or start,
                                                project_id=pid, customer_id=cid))
    for works in out.values():
        works.sort(key=lambda w: w.finished_on or date.min, reverse=True)
        del works[PROJECTS_PER_PERSON:]
    return out


def _person(staff: Staff, projects: list[PastWork]) -> _Person:
    talent = staff.talent
    skills = list(dict.fromkeys([*(staff.skills or []), *((talent.skills or []) if talent else [])]))
    styles = list((talent.styles or []) if talent else [])
    works = [PastWork(title=w.title, rating=w.rating, industry=w.industry, finished_on=w.finished_on,
                      project_id=w.project_id, portfolio=True) for w in (talent.works if talent else [])]
    linked = {w.project_id for w in works if w.project_id}
    works += [p for p in projects if p.project_id not in linked]
    summary = "，".join(filter(None, [
        ROLE_LABELS.get(staff.role, staff.role), talent.level if talent else None,
        "擅长" + "、".join(skills) if skills else None, "风格" + "、".join(styles) if styles else None,
        talent.bio if talent else None]))
    texts = [summary] + [f"{w.title}（{w.industry}）" if w.industry else w.title for w in works]
    by_title = {w.title: w for w in (talent.works if talent else [])}
    for i, w in enumerate(works):  # a portfolio entry's description and skills say more than its title
        src = by_title.get(w.title)
        if src is not None and (src.description or src.skills):
            texts[i + 1] = "。".join(filter(None, [texts[i + 1], src.description, "、".join(src.skills or [])]))
    return _Person(staff, skills, styles, works, texts)


def _lexical(reading: Reading, person: _Person) -> tuple[float, list[str]]:
    """Weighted share of the need's facets the person covers: the deliverable (a skill) counts double a
    style; their own skills count fully, their portfolio 0.7, a project they were merely on 0.35."""
    own: dict[str, str] = {}  # concept → how the person wrote it
    for written in [*person.skills, *person.styles]:
        for c in concepts_of(written):
            own.setdefault(c, written)
    portfolio = {c for w, text in zip(person.works, person.texts[1:], strict=True) if w.portfolio
                 for c in concepts_of(text)}
    projects = {c for w, text in zip(person.works, person.texts[1:], strict=True) if not w.portfolio
                for c in concepts_of(text)}
    facets: list[tuple[float, float]] = []  # (weight, score)
    matched: list[str] = []
    for c in reading.concepts:
        found = concept(c)
        weight = 0.5 if found is not None and found.kind == "style" else 1.0
        if c in own:
            facets.append((weight, 1.0))
            matched.append(own[c])
        elif c in portfolio:
            facets.append((weight, 0.7))
            matched.append(f"{c}（过往作品）")
        elif c in projects:
            facets.append((weight, 0.35))
        else:
            facets.append((weight, 0.0))
    haystack = [*person.skills, *person.styles, *person.texts]
    for term in reading.terms:
        best = max((loose_match(term, h) for h in haystack), default=0.0)
        facets.append((0.3, best if best >= 0.5 else 0.0))
    if not facets:
        return (1.0 if reading.roles and person.staff.role in reading.roles else 0.0), matched
    total = sum(w for w, _ in facets)
    return sum(w * s for w, s in facets) / total, list(dict.fromkeys(matched))


def _implied_role(reading: Reading) -> str | None:
    """The role every skill of the need belongs to (a script is a planner's job), if there is one."""
    roles = {c.role for name in reading.concepts if (c := concept(name)) is not None and c.kind == "skill"}
    return roles.pop() if len(roles) == 1 else None


def _semantic(cosines: list[float]) -> float:
    best = max(cosines, default=0.0)
    return float(np.clip((best - COS_LOW) / (COS_HIGH - COS_LOW), 0.0, 1.0))


def _satisfaction(person: _Person) -> tuple[float | None, int, float]:
    """(shown rating, number of client ratings, 0–1 score)."""
    ratings = [w.rating for w in person.works if w.rating is not None]
    if ratings:
        shrunk = (sum(ratings) + PRIOR_RATING * PRIOR_WEIGHT) / (len(ratings) + PRIOR_WEIGHT)
        return sum(ratings) / len(ratings), len(ratings), float(np.clip((shrunk - 3) / 2, 0, 1))
    own = person.staff.talent.satisfaction if person.staff.talent else None
    if own is not None:
        return own, 0, float(np.clip((own - 3) / 2, 0, 1))
    return None, 0, 0.5


def _busy_text(blocks: list[CalendarBlock], window: Window) -> list[str]:
    out = []
    for b in blocks:
        if b.start <= window.end and b.end >= window.start:
            label = "请假" if b.kind == "leave" else "已排期"
            out.append(f"{label} {b.start.month}/{b.start.day}–{b.end.month}/{b.end.day}" + (f"（{b.note}）" if b.note else ""))
    return out


def recommend(session: Session, actor: Actor, query: str, today: date, due: date | None = None, k: int = 3,
              settings: Settings | None = None) -> Recommendation:
    require(actor, Cap.talent_read)
    settings = settings or get_settings()
    reading = read_need(query)
    window = window_for(today, due, settings)
    result = Recommendation(query=query, reading=reading, window=window)
    staff = _people(session)
    if not staff:
        return result
    projects = _projects(session, [s.id for s in staff])
    people = [_person(s, projects.get(s.id, [])) for s in staff]
    cosines = _cosines(session, settings, query, people)
    result.semantic = cosines is not None
    loads = dict(session.execute(select(Task.assignee_id, func.count()).where(
        Task.assignee_id.in_([s.id for s in staff]), Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.assignee_id)).all())
    days = window.work_days
    implied = _implied_role(reading)
    due_loads = dict(session.execute(select(Task.assignee_id, func.count()).where(
        Task.assignee_id.in_([s.id for s in staff]), Task.status.in_(OPEN_TASK_STATUSES),
        Task.due.is_(None) | (Task.due <= window.end)).group_by(Task.assignee_id)).all())
    capacity = max(1.0, TASK_CAPACITY * len(days) / 10)  # TASK_CAPACITY open tasks fill two working weeks
    hits: list[TalentHit] = []
    for i, person in enumerate(people):
        lexical, matched = _lexical(reading, person)
        sims = cosines[i] if cosines is not None else []
        semantic = _semantic(sims)
        has_words = bool(reading.concepts or reading.terms)
        match = (0.65 * lexical + 0.35 * semantic) if has_words and cosines is not None else lexical
        if reading.roles and person.staff.role not in reading.roles:
            match *= 0.6
        elif not reading.roles and implied and person.staff.role != implied:
            match *= 0.75
        if match < MIN_MATCH:
            continue
        blocks = _blocks(person.staff)
        free = free_days(blocks, days)
        rating, n_ratings, sat_score = _satisfaction(person)
        open_tasks = int(loads.get(person.staff.id, 0) or 0)
        talent = person.staff.talent
        hit = TalentHit(
            staff_id=person.staff.id, ref=person.staff.ref, name=person.staff.name, role=person.staff.role,
            department=person.staff.department, level=talent.level if talent else None, matched=matched,
            match=match, lexical=lexical, semantic=semantic, free_days=len(free), work_days=len(days),
            busy=_busy_text(blocks, window), open_tasks=open_tasks, satisfaction=rating, ratings=n_ratings,
            wecom_userid=person.staff.wecom_userid)
        availability = len(free) / len(days) if days else 0.0
        workload = 1 - min(int(due_loads.get(person.staff.id, 0) or 0) / capacity, 1.0)
        hit.score = (WEIGHTS["match"] * match + WEIGHTS["availability"] * availability
                     + WEIGHTS["satisfaction"] * sat_score + WEIGHTS["workload"] * workload)
        hit.case = _best_work(person, sims[1:] if sims else [], reading)
        if not hit.available:
            hit.first_free = first_free_day(blocks, window.end + timedelta(days=1))
        hits.append(hit)
    result.matched = len(hits)
    hits.sort(key=lambda h: (not h.available, -h.score, h.name))
    result.hits = hits[:k]
    result.busy = sorted((h for h in hits if not h.available and h.match >= 0.5),
                         key=lambda h: (h.first_free or date.max, -h.match))[:3]
    _hide_invisible(session, actor, result.hits + result.busy)
    return result


def _cosines(session: Session, settings: Settings, query: str, people: list[_Person]) -> list[list[float]] | None:
    emb = talent_vectors.embedder(settings)
    if emb is None:
        return None
    try:
        q = np.asarray(emb.encode([query], kind="query")[0], dtype=np.float32)
        owners = [(p.staff.id, j, text) for p in people for j, text in enumerate(p.texts)]
        vectors = talent_vectors.passages(session, emb, owners)
    except Exception as exc:  # the embedder failed at run time: rank on words alone
        talent_vectors.log.warning("talent embedding failed: %s", exc)
        return None
    return [[float(np.dot(q, vectors[(p.staff.id, j)])) for j in range(len(p.texts))] for p in people]


def _best_work(person: _Person, sims: list[float], reading: Reading) -> PastWork | None:
    best, best_score = None, 0.0
    for j, work in enumerate(person.works):
        overlap = len(set(concepts_of(person.texts[j + 1])) & set(reading.concepts))
        score = (sims[j] if j < len(sims) else 0.0) + 0.05 * overlap + (0.01 * (work.rating or 0))
        if best is None or score > best_score:
            best, best_score = work, score
    if best is not None:
        best.similarity = best_score
    return best


def _hide_invisible(session: Session, actor: Actor, hits: list[TalentHit]) -> None:
    """A past project of a customer the asker may not see is shown by industry only."""
    cases = [h.case for h in hits if h.case is not None and h.case.project_id]
    unknown = {c.project_id for c in cases if c.customer_id is None}
    if unknown:
        owner = dict(session.execute(select(Project.id, Project.customer_id).where(Project.id.in_(unknown))).all())
        for c in cases:
            c.customer_id = c.customer_id or owner.get(c.project_id)
    ids = {c.customer_id for c in cases if c.customer_id}
    if not ids:
        return
    visible = set(session.scalars(select(Customer.id).where(Customer.id.in_(ids), customer_scope(actor))))
    for c in cases:
        if c.customer_id and c.customer_id not in visible:
            c.hidden = True
