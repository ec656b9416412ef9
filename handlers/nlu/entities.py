"""Entity linking: find the customers, projects, opportunities, tasks and staff a message names.

Only records the sender may see are candidates (the catalogue is read through the same permission
scopes as the services), so a message can never be linked to — and a reply never hints at — a
hidden record. People write names loosely, so each record gets aliases:

- customers: name, short name, legal name, the core of the legal name ("上海奇点科技有限公司" →
  "奇点科技"), and the brand without its trade word ("鲜果坊饮品" → "鲜果坊"); homophone typos of
  aliases of three or more characters are tolerated through pinyin ("奇点科计");
- staff: full name, the two-character given name ("佳琪"), surname + 总/老师 when unique;
- projects and opportunities: the full name, or the customer plus enough of the rest of the name
  ("花屿双12直播" for "花屿美妆双12直播"), or a long enough piece of the rest alone;
- tasks: the title or most of it, or the ref.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.intents import load
from crm_core.actor import Actor
from crm_core.models import OPEN_TASK_STATUSES, Customer, Lead, Opportunity, Project, Staff, Task
from crm_core.permissions import Cap, can, customer_scope
from crm_core.services.lookup import core_name
from crm_core.services.work import project_scope, task_scope
from handlers.nlu.text import is_cjk, pinyin_seq

KINDS = ("customer", "project", "opportunity", "task", "staff", "lead")


@dataclass(frozen=True)
class Entity:
    kind: str
    id: int
    ref: str | None
    name: str
    customer_id: int | None = None  # projects, opportunities
    project_id: int | None = None  # tasks
    owner_id: int | None = None  # customer owner, opportunity owner, task assignee
    status: str | None = None

    @property
    def key(self) -> str:
        return self.ref or f"#{self.id}"


@dataclass(frozen=True)
class Mention:
    entity: Entity
    start: int
    end: int
    score: float  # 0..100
    how: str  # exact | alias | brand | pinyin | partial | given | ref

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end

    def overlaps(self, other: Mention) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class Links:
    """Everything found in one message, per kind, best first."""

    text: str
    by_kind: dict[str, list[Mention]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Mention]:
        return self.by_kind.get(kind, [])

    def best(self, kind: str) -> Mention | None:
        found = self.of(kind)
        return found[0] if found else None

    def candidates(self, kind: str, margin: float = 3.0) -> list[Mention]:
        """The best mention and every other entity of that kind about as good, on an overlapping span."""
        found = self.of(kind)
        if not found:
            return []
        top = found[0]
        out = [top]
        for m in found[1:]:
            if m.entity.id != top.entity.id and m.overlaps(top) and m.score >= top.score - margin \
                    and m.entity.id not in {x.entity.id for x in out}:
                out.append(m)
        return out

    def spans(self) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, kind) for masking: longer and better mentions first."""
        chosen: list[tuple[int, int, str]] = []
        every = [m for ms in self.by_kind.values() for m in ms]
        for m in sorted(every, key=lambda m: (-(m.end - m.start), -m.score)):
            if all(m.end <= s or e <= m.start for s, e, _ in chosen):
                chosen.append((m.start, m.end, m.entity.kind))
        return sorted(chosen)


# --- aliases -------------------------------------------------------------------------------------


def _vocab() -> dict:  # type: ignore[type-arg]
    return load("vocab")


@lru_cache(maxsize=1)
def _suffixes() -> tuple[str, ...]:
    return tuple(sorted(_vocab()["customer_suffixes"], key=len, reverse=True))


@lru_cache(maxsize=20_000)
def brand_of(name: str) -> str | None:
    """"鲜果坊饮品" → "鲜果坊": the name without its trade word, if at least two characters remain."""
    core = core_name(name)
    for suffix in _suffixes():
        if core.endswith(suffix) and len(core) - len(suffix) >= 2:
            return core[: -len(suffix)]
    return None


@lru_cache(maxsize=20_000)
def customer_aliases(name: str, short: str | None, legal: str | None) -> tuple[tuple[str, float, str], ...]:
    out: dict[str, tuple[float, str]] = {}

    def add(alias: str | None, score: float, how: str) -> None:
        if alias and len(alias) >= 2 and (alias not in out or out[alias][0] < score):
            out[alias] = (score, how)

    add(name, 100, "exact")
    add(short, 98, "alias")
    add(legal, 100, "exact")
    for full in (name, legal):
        if full:
            add(core_name(full), 97, "alias")
            add(brand_of(full), 88, "brand")
    return tuple((a, s, h) for a, (s, h) in out.items())


@lru_cache(maxsize=20_000)
def staff_aliases(name: str, unique_surname: bool) -> tuple[tuple[str, float, str], ...]:
    vocab = _vocab()
    out = [(name, 100.0, "exact")]
    surname_len = 2 if name[:2] in vocab["compound_surnames"] else 1
    given = name[surname_len:]
    if len(name) >= 3 and len(given) == 2 and given not in vocab["given_name_stoplist"]:
        out.append((given, 86.0, "given"))
    if unique_surname and len(name) >= 2:
        surname = name[:surname_len]
        out.extend((surname + h, 72.0, "given") for h in vocab["honorifics"])
    return tuple(out)


def _common_pieces(text: str, topic: str, min_len: int = 2) -> list[tuple[int, int, int]]:
    """Greedy longest pieces of ``topic`` (≥ min_len chars) found in ``text``: (topic_start, text_start, length)."""
    pieces = []
    i = 0
    while i < len(topic):
        best = (0, -1)
        for j in range(len(topic), i + min_len - 1, -1):
            pos = text.find(topic[i:j])
            if pos >= 0:
                best = (j - i, pos)
                break
        if best[0] >= min_len:
            pieces.append((i, best[1], best[0]))
            i += best[0]
        else:
            i += 1
    return pieces


_YEAR = re.compile(r"20\d\d(?:年度|年)?")
_GENERIC = {"项目", "活动", "任务", "客户", "的", "年度", "合作", "方案", "品牌", "营销", "推广", "新品"}


@lru_cache(maxsize=50_000)
def topic_of(name: str, customer_aliases_: tuple[str, ...]) -> str:
    """The part of a project/opportunity name after its customer's name ("花屿美妆双12直播" → "双12直播")."""
    for alias in sorted(customer_aliases_, key=len, reverse=True):
        if name.startswith(alias) and len(name) - len(alias) >= 2:
            return _YEAR.sub("", name[len(alias):]).strip(" -·—_|") or name
    return _YEAR.sub("", name).strip() or name


# --- the catalogue of visible records -----------------------------------------------------------


class Catalogue:
    """The visible records of one sender, loaded on demand for one message."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._cache: dict[str, list[Entity]] = {}

    def _load(self, kind: str) -> list[Entity]:
        if kind in self._cache:
            return self._cache[kind]
        s, actor = self.session, self.actor
        rows: list[Entity] = []
        staff_like = actor.kind in ("staff", "system")
        if kind == "customer" and staff_like:
            q = select(Customer.id, Customer.ref, Customer.name, Customer.short_name, Customer.legal_name,
                       Customer.owner_id).where(customer_scope(actor))
            for cid, ref, name, short, legal, owner in s.execute(q):
                rows.append(Entity("customer", cid, ref, name, owner_id=owner, status=f"{short or ''}|{legal or ''}"))
        elif kind == "project" and (staff_like or actor.kind == "external"):
            q = select(Project.id, Project.ref, Project.name, Project.customer_id, Project.status).where(
                project_scope(actor))
            rows = [Entity("project", i, r, n, customer_id=c, status=st) for i, r, n, c, st in s.execute(q)]
        elif kind == "opportunity" and staff_like and can(actor, Cap.opportunity_read):
            visible = select(Customer.id).where(customer_scope(actor))
            q = select(Opportunity.id, Opportunity.ref, Opportunity.name, Opportunity.customer_id,
                       Opportunity.owner_id, Opportunity.stage).where(Opportunity.customer_id.in_(visible))
            rows = [Entity("opportunity", i, r, n, customer_id=c, owner_id=o, status=st)
                    for i, r, n, c, o, st in s.execute(q)]
        elif kind == "staff" and staff_like:
            q = select(Staff.id, Staff.ref, Staff.name, Staff.department, Staff.role).where(Staff.active.is_(True))
            rows = [Entity("staff", i, r, n, status=f"{d or ''}|{role}") for i, r, n, d, role in s.execute(q)]
        elif kind == "task" and staff_like:
            q = select(Task.id, Task.ref, Task.title, Task.project_id, Task.assignee_id, Task.status).where(
                task_scope(actor), Task.status.in_(OPEN_TASK_STATUSES))
            rows = [Entity("task", i, r, t, project_id=p, owner_id=a, status=st) for i, r, t, p, a, st in s.execute(q)]
        elif kind == "lead" and staff_like and can(actor, Cap.lead_claim):
            q = select(Lead.id, Lead.ref, Lead.name, Lead.status, Lead.owner_id).where(Lead.status == "待分配")
            rows = [Entity("lead", i, r, n, owner_id=o, status=st) for i, r, n, st, o in s.execute(q)]
        self._cache[kind] = rows
        return rows

    def customers(self) -> list[Entity]:
        return self._load("customer")

    def projects(self) -> list[Entity]:
        return self._load("project")

    def opportunities(self) -> list[Entity]:
        return self._load("opportunity")

    def staff(self) -> list[Entity]:
        return self._load("staff")

    def tasks(self) -> list[Entity]:
        return self._load("task")

    def leads(self) -> list[Entity]:
        return self._load("lead")

    def customer_by_id(self, cid: int) -> Entity | None:
        return next((c for c in self.customers() if c.id == cid), None)


# --- matching ------------------------------------------------------------------------------------


def _find_all(text: str, alias: str) -> list[int]:
    out, pos = [], text.find(alias)
    while pos >= 0:
        out.append(pos)
        pos = text.find(alias, pos + 1)
    return out


class PinyinIndex:
    """Loose pinyin of a message, for homophone-tolerant alias search."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.seq = pinyin_seq(text, loose=True)
        self.first: dict[str, list[int]] = {}
        for i, syl in enumerate(self.seq):
            if is_cjk(text[i]):
                self.first.setdefault(syl, []).append(i)

    def find(self, alias: str) -> list[int]:
        target = pinyin_seq(alias, loose=True)
        n = len(target)
        hits = []
        for i in self.first.get(target[0], ()):
            if self.seq[i:i + n] == target:
                window = self.text[i:i + n]
                same = sum(a == b for a, b in zip(window, alias, strict=True))
                if window != alias and same * 2 >= n and all(is_cjk(c) for c in window):
                    hits.append(i)
        return hits


def _alias_mentions(text: str, py: PinyinIndex, entity: Entity,
                    aliases: tuple[tuple[str, float, str], ...], fuzzy: bool) -> list[Mention]:
    out = []
    for alias, score, how in aliases:
        for pos in _find_all(text, alias):
            out.append(Mention(entity, pos, pos + len(alias), score, how))
        if fuzzy and len(alias) >= 3:
            out.extend(Mention(entity, pos, pos + len(alias), score - 12, "pinyin") for pos in py.find(alias))
    return out


def _dedupe(mentions: list[Mention]) -> list[Mention]:
    """Per entity keep its best mention; order by score, then longer span."""
    best: dict[int, Mention] = {}
    for m in mentions:
        cur = best.get(m.entity.id)
        if cur is None or (m.score, m.end - m.start) > (cur.score, cur.end - cur.start):
            best[m.entity.id] = m
    return sorted(best.values(), key=lambda m: (-m.score, -(m.end - m.start), m.start))


def _drop_contained(mentions: list[Mention]) -> list[Mention]:
    """"智联云" inside a mention of "智联云科技" is that longer name, not the shorter customer."""
    out = []
    for m in mentions:
        if any(o is not m and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
               and o.score >= 95 for o in mentions):
            continue
        out.append(m)
    return out


_TASK_REF = re.compile(r"\b([A-Za-z]{1,4}-[A-Za-z]{0,3}\d+)\b")


class Linker:
    def __init__(self, session: Session, actor: Actor) -> None:
        self.catalogue = Catalogue(session, actor)
        self.actor = actor

    # customers ----------------------------------------------------------------------------------
    def _customer_aliases(self, e: Entity) -> tuple[tuple[str, float, str], ...]:
        short, _, legal = (e.status or "|").partition("|")
        return customer_aliases(e.name, short or None, legal or None)

    def customers(self, text: str, py: PinyinIndex) -> list[Mention]:
        found: list[Mention] = []
        for e in self.catalogue.customers():
            found.extend(_alias_mentions(text, py, e, self._customer_aliases(e), fuzzy=True))
        return _dedupe(_drop_contained(found))

    # staff --------------------------------------------------------------------------------------
    def staff(self, text: str, py: PinyinIndex) -> list[Mention]:
        people = self.catalogue.staff()
        surnames: dict[str, int] = {}
        for p in people:
            surnames[p.name[:1]] = surnames.get(p.name[:1], 0) + 1
        found: list[Mention] = []
        for p in people:
            aliases = staff_aliases(p.name, surnames.get(p.name[:1], 0) == 1)
            found.extend(_alias_mentions(text, py, p, aliases, fuzzy=True))
        return _dedupe(_drop_contained(found))

    # projects and opportunities -----------------------------------------------------------------
    def _named_things(self, kind: str, items: list[Entity], text: str, customer_hits: list[Mention]) -> list[Mention]:
        hit_by_customer: dict[int, Mention] = {}
        for m in customer_hits:
            hit_by_customer.setdefault(m.entity.id, m)
        out = []
        for e in items:
            if e.name and e.name in text:
                pos = text.find(e.name)
                out.append(Mention(e, pos, pos + len(e.name), 100, "exact"))
                continue
            owner = self.catalogue.customer_by_id(e.customer_id) if e.customer_id else None
            aliases = tuple(a for a, _, _ in self._customer_aliases(owner)) if owner else ()
            topic = topic_of(e.name, aliases)
            cust = hit_by_customer.get(e.customer_id) if e.customer_id else None
            masked = text
            if cust is not None:
                masked = text[:cust.start] + "\0" * (cust.end - cust.start) + text[cust.end:]
            pieces = [p for p in _common_pieces(masked, topic) if topic[p[0]:p[0] + p[2]] not in _GENERIC]
            if not pieces:
                continue
            covered = sum(n for _, _, n in pieces)
            coverage = covered / max(len(topic), 1)
            longest = max(n for _, _, n in pieces)
            starts = [t for _, t, _ in pieces]
            ends = [t + n for _, t, n in pieces]
            if cust is not None:
                if longest < 2 or coverage < 0.25:
                    continue
                start, end = min([cust.start, *starts]), max([cust.end, *ends])
                if end - start > len(e.name) + 8:  # pieces scattered across the message
                    continue
                score = 62 + 36 * coverage
            else:
                # without its customer, the name must show up in one piece: long, and most of the rest
                if longest < 3 or longest / max(len(topic), 1) < 0.5 or (longest < 4 and coverage < 1):
                    continue
                pieces = [p for p in pieces if p[2] == longest][:1]
                starts, ends = [pieces[0][1]], [pieces[0][1] + longest]
                start, end = min(starts), max(ends)
                if end - start > len(topic) + 6:
                    continue
                score = 50 + 40 * coverage
                if hit_by_customer:  # the message names another customer
                    score -= 20
            out.append(Mention(e, start, end, round(score, 1), "partial"))
        return _dedupe(out)

    def tasks(self, text: str) -> list[Mention]:
        out = []
        refs = {m.group(1).upper(): m.span(1) for m in _TASK_REF.finditer(text)}
        for e in self.catalogue.tasks():
            if e.ref and e.ref.upper() in refs:
                s, t = refs[e.ref.upper()]
                out.append(Mention(e, s, t, 100, "ref"))
                continue
            if len(e.name) >= 2 and e.name in text:
                pos = text.find(e.name)
                out.append(Mention(e, pos, pos + len(e.name), 96, "exact"))
                continue
            pieces = _common_pieces(text, e.name)
            if not pieces:
                continue
            covered = sum(n for _, _, n in pieces)
            coverage = covered / len(e.name)
            if coverage >= 0.6 and max(n for _, _, n in pieces) >= 3:
                starts = [t for _, t, _ in pieces]
                ends = [t + n for _, t, n in pieces]
                out.append(Mention(e, min(starts), max(ends), round(55 + 35 * coverage, 1), "partial"))
        mine = self.actor.staff_id
        # among equals, the sender's own task first
        return sorted(_dedupe(out), key=lambda m: (-m.score, m.entity.owner_id != mine, -(m.end - m.start)))

    def leads(self, text: str) -> list[Mention]:
        out = []
        for e in self.catalogue.leads():
            if e.name and e.name in text:
                pos = text.find(e.name)
                out.append(Mention(e, pos, pos + len(e.name), 100, "exact"))
        return _dedupe(out)

    # everything ---------------------------------------------------------------------------------
    def link(self, text: str, with_tasks: bool = False) -> Links:
        py = PinyinIndex(text)
        customers = self.customers(text, py)
        links = Links(text)
        links.by_kind["customer"] = customers
        links.by_kind["project"] = self._named_things("project", self.catalogue.projects(), text, customers)
        links.by_kind["opportunity"] = self._named_things("opportunity", self.catalogue.opportunities(), text,
                                                          customers)
        links.by_kind["staff"] = self.staff(text, py)
        if with_tasks or _TASK_REF.search(text):
            links.by_kind["task"] = self.tasks(text)
        # a staff "mention" inside a customer or project name is part of that name
        names = links.of("customer") + links.of("project") + links.of("opportunity")
        links.by_kind["staff"] = [m for m in links.of("staff")
                                  if not any(n.start <= m.start and m.end <= n.end and n.score >= 85 for n in names)]
        return links
