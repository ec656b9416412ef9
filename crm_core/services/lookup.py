"""Find customers by how people write them: short name, legal name, a part, or a small typo.

Only records the actor may see are ever candidates, so a miss never reveals a hidden record.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.errors import Ambiguous, NotFound
from crm_core.hot_reads import HotRead
from crm_core.models import Customer
from crm_core.permissions import ScopeShape, customer_scope, note_visible, scope_of, shape_scope

LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司", "工作室")
_REGION_PREFIX = re.compile(
    r"^(北京|上海|天津|重庆|广州|深圳|杭州|成都|南京|武汉|西安|苏州|长沙|厦门|青岛|宁波|合肥|郑州|"
    r"济南|福州|昆明|沈阳|大连|无锡|佛山|东莞|桂林|三亚|海南|香港|广东|浙江|江苏|四川|福建|山东)(市|省)?"
)
_PUNCT = re.compile(r"[\s()（）·,，.。]+")


def core_name(name: str) -> str:
    """"上海星屿科技有限公司" → "星屿科技": the part people actually say."""
    text = _PUNCT.sub("", name)
    for suffix in LEGAL_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    stripped = _REGION_PREFIX.sub("", text)
    return stripped if len(stripped) >= 2 else text


def _score(query: str, customer: Customer) -> float:
    q = core_name(query)
    best = 0.0
    for candidate in filter(None, (customer.name, customer.short_name, customer.legal_name)):
        core = core_name(candidate)
        if query in (candidate, customer.ref):
            return 100.0
        if q == core:  # "星屿科技" for "上海星屿科技有限公司": a whole name written exactly wins over it
            best = max(best, 99.0)
        elif q and (q in core or core in q):
            best = max(best, 90.0 - abs(len(core) - len(q)))
        else:
            best = max(best, float(fuzz.ratio(q, core)))
    return best


def find_customers(session: Session, actor: Actor, text: str, limit: int = 5, *,
                   exact_first: bool = False) -> list[tuple[Customer, float]]:
    """Visible customers matching ``text``, best first, with a 0–100 score.

    ``exact_first``: a customer whose name or ref is exactly ``text`` is the answer, found through
    the indexes; the substring scan (every visible row) only runs when there is none."""
    query = text.strip()
    if not query:
        return []
    scope = customer_scope(actor)
    rows: list[Customer] = []
    if exact_first:
        rows = list(session.scalars(select(Customer).where(scope, or_(Customer.name == query, Customer.ref == query))
                                    .limit(50)))
    q = core_name(query)
    like = f"%{q}%"
    exact = select(Customer).where(
        scope,
        or_(Customer.ref == query, Customer.name == query, Customer.short_name == query,
            Customer.legal_name == query, Customer.name.like(like), Customer.short_name.like(like),
            Customer.legal_name.like(like)),
    ).limit(50)
    rows = rows or list(session.scalars(exact))
    if not rows:
        # fuzzy pass over names only; candidates share at least one character with the query
        chars = {c for c in q if not c.isspace()}
        conds = [func.instr(Customer.name, c) > 0 for c in chars] if session.bind and session.bind.dialect.name == "sqlite" \
            else [Customer.name.contains(c) for c in chars]
        if conds:
            rows = list(session.scalars(select(Customer).where(scope, or_(*conds)).limit(2000)))
    scored = sorted(((c, _score(query, c)) for c in rows), key=lambda cs: (-cs[1], len(cs[0].name)))
    return [(c, s) for c, s in scored if s >= 70][:limit]


def resolve_customer(session: Session, actor: Actor, text: str) -> Customer:
    """One customer, or NotFound / Ambiguous with numbered candidates."""
    matches = find_customers(session, actor, text, exact_first=True)
    if not matches:
        raise NotFound(f"没有找到你可以查看的客户「{text}」。如需查看，请确认名称，或联系该客户的负责人/你的主管授权。")
    top_score = matches[0][1]
    tied = [c for c, s in matches if s >= top_score - 3 and s < 100] if top_score < 100 else \
        [c for c, s in matches if s == 100]
    if len(tied) > 1:
        raise Ambiguous(f"有多个客户与「{text}」相近，你是指哪一个？", [(c.ref or str(c.id), c.name) for c in tied])
    return matches[0][0]


@lru_cache(maxsize=8)
def _exact_statement(shape: ScopeShape) -> HotRead:
    text = bindparam("text")
    return HotRead(select(Customer.id, Customer.ref).where(shape_scope(shape), or_(Customer.name == text, Customer.ref == text))
                   .limit(2))


def resolve_customer_ref(session: Session, actor: Actor, text: str) -> str:
    """The ref (or ``#id``) of the one visible customer ``text`` names; NotFound / Ambiguous as ``resolve_customer``.

    A name or ref written exactly (what a command usually carries) is one indexed lookup of two columns."""
    query = text.strip()
    if query:
        session.flush()
        shape, params = scope_of(actor)
        rows = _exact_statement(shape).rows(session.connection(), {**params, "text": query})
        if len(rows) == 1:
            note_visible(session, actor, rows[0].id)
            return rows[0].ref or f"#{rows[0].id}"
    customer = resolve_customer(session, actor, text)
    return customer.ref or f"#{customer.id}"
