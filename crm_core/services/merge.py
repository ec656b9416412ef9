"""Duplicate customers and contacts: find them, preview a merge, merge, undo.

Likely duplicates: customers whose names agree once legal suffixes and city prefixes are dropped
("XX科技" / "上海XX科技有限公司"), or whose contacts share a phone, an e-mail or a WeCom external id;
contacts of one customer that share one of those (or the name).

A merge keeps one record and archives the other (``merged_into_id``; archived customers are
invisible everywhere, ``permissions.customer_scope``). Every row that points at the archived
record — found from the schema's foreign keys, so tables added later move too — is re-pointed,
except rows that would collide with one the kept record already has (a tag it already carries):
those stay with the archive. Blank fields of the kept record are filled from the other; contacts
that turn out to be the same person are merged the same way. Each step is written to a
``MergeRecord``, so ``undo`` puts back exactly what moved and what was filled in, and both sides get
audit rows; the archived record and its audit trail are never deleted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Table, UniqueConstraint, func, select, update
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.models import Base, Contact, Customer, MergeRecord, utcnow
from crm_core.permissions import Cap, can, can_manage_customer, customer_scope, require
from crm_core.services.lookup import core_name

# per-customer analytics that are recomputed, not moved
NOT_MOVED = {"tier_assessments", "tier_changes", "merge_records"}
CUSTOMER_FILL = ("short_name", "legal_name", "industry", "scale", "region", "owner_id", "budget_level",
                 "last_contact_at")
CONTACT_FILL = ("title", "phone", "email", "wecom_external_userid", "kf_external_userid", "dingtalk_userid")
CONTACT_UNIQUE = ("wecom_external_userid", "kf_external_userid", "dingtalk_userid")
TABLE_LABELS = {"contacts": "联系人", "customer_tags": "标签", "interactions": "跟进记录", "behavior_events": "行为记录",
                "leads": "线索", "opportunities": "商机", "proposals": "方案", "contracts": "合同", "projects": "项目",
                "chat_bindings": "群绑定", "tickets": "工单", "cases": "案例", "risk_scores": "风险记录",
                "proposal_annotations": "方案批注", "proposal_views": "方案查看"}


def label(c: Customer) -> str:
    return f"{c.name}（{c.ref}）" if c.ref else c.name


def contact_label(c: Contact) -> str:
    return " ".join(filter(None, [c.name, c.title]))


def _digits(phone: str | None) -> str | None:
    d = re.sub(r"\D", "", phone or "")
    return d[-11:] if len(d) >= 7 else None


def _email(email: str | None) -> str | None:
    e = (email or "").strip().lower()
    return e or None


def contact_keys(c: Contact) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    if p := _digits(c.phone):
        keys.add(("phone", p))
    if e := _email(c.email):
        keys.add(("email", e))
    for ext in (c.wecom_external_userid, c.kf_external_userid):
        if ext:
            keys.add(("wecom", ext))
    return keys


SIGNAL_WORDS = {"name": "名称相同（去掉公司后缀/城市前缀后）", "phone": "联系人电话相同", "email": "联系人邮箱相同",
                "wecom": "联系人企业微信外部 ID 相同", "contact_name": "同名联系人"}


# --- detection -----------------------------------------------------------------------------------


@dataclass
class Duplicate:
    kind: str  # customer | contact
    keep_id: int
    drop_id: int
    keep_label: str
    drop_label: str
    signals: list[str]
    customer_label: str | None = None  # contacts: whose

    @property
    def key(self) -> str:
        return f"{'C' if self.kind == 'customer' else 'P'}:{self.keep_id}:{self.drop_id}"

    def describe(self) -> str:
        why = "、".join(SIGNAL_WORDS.get(s, s) for s in self.signals)
        if self.kind == "contact":
            return f"{self.customer_label} 的联系人 {self.drop_label} → {self.keep_label}（{why}）"
        return f"{self.drop_label} → 并入 {self.keep_label}（{why}）"


def _weight(session: Session, customer_ids: list[int]) -> dict[int, int]:
    """How many records hang off each customer (the richer one is kept by default)."""
    out: dict[int, int] = defaultdict(int)
    for table, column in customer_references():
        if table.name in NOT_MOVED:
            continue
        for cid, n in session.execute(select(column, func.count()).where(column.in_(customer_ids)).group_by(column)):
            out[cid] += int(n)
    return out


def default_keep(session: Session, a: int, b: int) -> tuple[int, int]:
    """(keep, drop): the customer with more attached records is kept; on a tie the older one."""
    weights = _weight(session, [a, b])
    return (a, b) if (weights.get(a, 0), -a) >= (weights.get(b, 0), -b) else (b, a)


def _names(c: Customer) -> set[str]:
    return {core_name(n) for n in (c.name, c.short_name, c.legal_name) if n and len(core_name(n)) >= 2}


def find_duplicates(session: Session, actor: Actor, limit: int = 20) -> list[Duplicate]:
    require(actor, Cap.customer_read)
    customers = {c.id: c for c in session.scalars(select(Customer).where(customer_scope(actor)))}
    signals: dict[tuple[int, int], set[str]] = defaultdict(set)

    def pair(a: int, b: int, why: str) -> None:
        if a != b:
            signals[(min(a, b), max(a, b))].add(why)

    by_name: dict[str, list[int]] = defaultdict(list)
    for c in customers.values():
        for n in _names(c):
            by_name[n].append(c.id)
    for ids in by_name.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pair(a, b, "name")
    contacts = list(session.scalars(select(Contact).where(Contact.customer_id.in_(list(customers)),
                                                          Contact.merged_into_id.is_(None)).order_by(Contact.id)))
    by_key: dict[tuple[str, str], list[Contact]] = defaultdict(list)
    for ct in contacts:
        for k in contact_keys(ct):
            by_key[k].append(ct)
    contact_pairs: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (kind, _), group in by_key.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.customer_id != b.customer_id:
                    pair(a.customer_id, b.customer_id, kind)
                else:
                    contact_pairs[(a.id, b.id)].add(kind)
    by_contact_name: dict[tuple[int, str], list[Contact]] = defaultdict(list)
    for ct in contacts:
        by_contact_name[(ct.customer_id, ct.name)].append(ct)
    for group in by_contact_name.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if not _conflicting(a, b):
                    contact_pairs[(a.id, b.id)].add("contact_name")
    weights = _weight(session, list({i for p in signals for i in p}))
    out: list[Duplicate] = []
    order = ("name", "wecom", "phone", "email")
    for (a, b), why in sorted(signals.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        keep, drop = (a, b) if (weights.get(a, 0), -a) >= (weights.get(b, 0), -b) else (b, a)
        out.append(Duplicate("customer", keep, drop, label(customers[keep]), label(customers[drop]),
                             [s for s in order if s in why]))
    by_id = {ct.id: ct for ct in contacts}
    for (a, b), why in sorted(contact_pairs.items()):
        ca, cb = by_id[a], by_id[b]
        out.append(Duplicate("contact", a, b, contact_label(ca), contact_label(cb),
                             [s for s in (*order, "contact_name") if s in why],
                             customer_label=customers[ca.customer_id].name))
    return out[:limit]


def _conflicting(a: Contact, b: Contact) -> bool:
    """Same name but different phones or e-mails: probably two people."""
    pa, pb, ea, eb = _digits(a.phone), _digits(b.phone), _email(a.email), _email(b.email)
    return bool((pa and pb and pa != pb) or (ea and eb and ea != eb))


# --- schema walking ------------------------------------------------------------------------------


def _references(target: str) -> list[tuple[Table, Column[Any]]]:
    out = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == target and fk.column.name == "id" and table.name != target:
                out.append((table, fk.parent))
    return out


def customer_references() -> list[tuple[Table, Column[Any]]]:
    return _references("customers")


def contact_references() -> list[tuple[Table, Column[Any]]]:
    return _references("contacts")


def _movable(table: Table, column: Column[Any]) -> bool:
    if table.name in NOT_MOVED or column.primary_key or column.unique:
        return False
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].name == "id"


def _unique_groups(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The other columns of each unique constraint / index that includes ``column``."""
    groups = []
    candidates = [list(uc.columns) for uc in table.constraints if isinstance(uc, UniqueConstraint)]
    candidates += [list(ix.columns) for ix in table.indexes if ix.unique]
    for cols in candidates:
        if any(c.name == column.name for c in cols):
            others = [c for c in cols if c.name != column.name]
            if others:
                groups.append(others)
            else:
                return [[]]  # unique on the column alone: nothing can move
    return groups


def _plan_move(session: Session, table: Table, column: Column[Any], src: int, dst: int) -> tuple[list[int], int]:
    """(ids that can move from ``src`` to ``dst``, how many stay because they would collide)."""
    ids = list(session.scalars(select(table.c.id).where(column == src).order_by(table.c.id)))
    if not ids:
        return [], 0
    blocked: set[int] = set()
    for others in _unique_groups(table, column):
        if not others:
            return [], len(ids)
        taken = {tuple(r) for r in session.execute(select(*others).where(column == dst))}
        for row in session.execute(select(table.c.id, *others).where(column == src)):
            if tuple(row[1:]) in taken:
                blocked.add(row[0])
    return [i for i in ids if i not in blocked], len(blocked)


# --- plans ---------------------------------------------------------------------------------------


@dataclass
class ContactMerge:
    keep: Contact
    drop: Contact
    fills: dict[str, Any]
    signals: list[str]


@dataclass
class Plan:
    kind: str
    keep_label: str
    drop_label: str
    moves: dict[str, int] = field(default_factory=dict)  # table → rows that move
    stays: dict[str, int] = field(default_factory=dict)  # table → rows left with the archive (duplicates)
    fills: dict[str, Any] = field(default_factory=dict)  # field → value taken from the other record
    contacts: list[ContactMerge] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        moved = "、".join(f"{TABLE_LABELS.get(t, t)} {n}" for t, n in self.moves.items() if n)
        out.append(f"转移到「{self.keep_label}」：{moved}" if moved else "没有需要转移的关联记录")
        if self.fills:
            out.append("补全字段：" + "；".join(f"{FIELD_LABELS.get(k, k)} → {_show(v)}" for k, v in self.fills.items()))
        for cm in self.contacts:
            out.append(f"联系人 {contact_label(cm.drop)} 与 {contact_label(cm.keep)} 是同一人，合并"
                       f"（{'、'.join(SIGNAL_WORDS.get(s, s) for s in cm.signals)}）")
        stays = "、".join(f"{TABLE_LABELS.get(t, t)} {n}" for t, n in self.stays.items() if n)
        if stays:
            out.append(f"重复项留在归档记录中：{stays}")
        return out


FIELD_LABELS = {"short_name": "简称", "legal_name": "全称", "industry": "行业", "scale": "规模", "region": "地区",
                "owner_id": "负责人", "budget_level": "预算等级", "last_contact_at": "最近联系", "title": "职位",
                "phone": "电话", "email": "邮箱", "wecom_external_userid": "企业微信外部ID",
                "kf_external_userid": "微信客服ID", "dingtalk_userid": "钉钉ID", "consent": "授权"}


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def _customer_fills(keep: Customer, drop: Customer) -> dict[str, Any]:
    fills: dict[str, Any] = {}
    for f in CUSTOMER_FILL:
        mine, theirs = getattr(keep, f), getattr(drop, f)
        if f == "last_contact_at":
            if theirs and (mine is None or theirs > mine):
                fills[f] = theirs
        elif mine in (None, "") and theirs not in (None, ""):
            fills[f] = theirs
    if "legal_name" not in fills and not keep.legal_name and core_name(drop.name) != drop.name:
        fills["legal_name"] = drop.name  # "XX科技有限公司" merged into "XX科技": keep the legal form
    if "short_name" not in fills and not keep.short_name and core_name(keep.name) != keep.name \
            and core_name(drop.name) == drop.name:
        fills["short_name"] = drop.name
    if drop.consent and not keep.consent:
        fills["consent"] = True
    return fills


def _contact_fills(keep: Contact, drop: Contact) -> dict[str, Any]:
    return {f: getattr(drop, f) for f in CONTACT_FILL if not getattr(keep, f) and getattr(drop, f)}


def _same_person(a: Contact, b: Contact) -> list[str]:
    shared = {k for k, _ in contact_keys(a) & contact_keys(b)}
    if shared:
        return [s for s in ("wecom", "phone", "email") if s in shared]
    return ["contact_name"] if a.name == b.name and not _conflicting(a, b) else []


def _check_customers(session: Session, actor: Actor, keep: Customer, drop: Customer) -> None:
    require(actor, Cap.customer_merge)
    if keep.id == drop.id:
        raise InvalidInput("要合并的是同一个客户。")
    for c in (keep, drop):
        if c.merged_into_id is not None:
            raise InvalidInput(f"「{c.name}」已经并入其他客户。")
        if not can_manage_customer(session, actor, c):
            raise PermissionDenied("合并客户需要两个客户的负责人、其主管或管理员权限。")


def plan_customers(session: Session, actor: Actor, keep: Customer, drop: Customer) -> Plan:
    _check_customers(session, actor, keep, drop)
    plan = Plan("customer", label(keep), label(drop), fills=_customer_fills(keep, drop))
    for table, column in customer_references():
        if not _movable(table, column):
            continue
        ids, blocked = _plan_move(session, table, column, drop.id, keep.id)
        if ids:
            plan.moves[table.name] = plan.moves.get(table.name, 0) + len(ids)
        if blocked:
            plan.stays[table.name] = plan.stays.get(table.name, 0) + blocked
    theirs = [c for c in drop.contacts if c.merged_into_id is None]
    mine = [c for c in keep.contacts if c.merged_into_id is None]
    for c in theirs:
        match = next(((m, why) for m in mine if (why := _same_person(m, c))), None)
        if match is not None:
            plan.contacts.append(ContactMerge(match[0], c, _contact_fills(match[0], c), match[1]))
    return plan


def plan_contacts(session: Session, actor: Actor, keep: Contact, drop: Contact) -> Plan:
    customer = session.get_one(Customer, keep.customer_id)
    require(actor, Cap.customer_merge)
    if keep.id == drop.id or keep.customer_id != drop.customer_id:
        raise InvalidInput("只能合并同一客户下的两个联系人。")
    if not can_manage_customer(session, actor, customer):
        raise PermissionDenied("合并联系人需要该客户的负责人、其主管或管理员权限。")
    plan = Plan("contact", contact_label(keep), contact_label(drop))
    plan.contacts.append(ContactMerge(keep, drop, _contact_fills(keep, drop), _same_person(keep, drop) or ["contact_name"]))
    for table, column in contact_references():
        if _movable(table, column) and table.name != "contacts":
            ids, _ = _plan_move(session, table, column, drop.id, keep.id)
            if ids:
                plan.moves[table.name] = len(ids)
    return plan


# --- applying and undoing ------------------------------------------------------------------------


class _Steps:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.steps: list[dict[str, Any]] = []
        self.moved: dict[str, int] = defaultdict(int)

    def move(self, table: Table, column: Column[Any], ids: list[int], src: int, dst: int) -> None:
        if not ids:
            return
        self.session.execute(update(table).where(table.c.id.in_(ids)).values({column.name: dst}))
        self.steps.append({"op": "move", "table": table.name, "column": column.name, "ids": ids, "from": src,
                           "to": dst})
        self.moved[table.name] += len(ids)

    def set(self, table: Table, row_id: int, values: dict[str, Any]) -> None:
        if not values:
            return
        current = self.session.execute(select(*(table.c[k] for k in values)).where(table.c.id == row_id)).one()
        before = {k: audit.plain(v) for k, v in zip(values, current, strict=True)}
        extra = {"version": table.c.version + 1} if "version" in table.c else {}
        self.session.execute(update(table).where(table.c.id == row_id).values({**values, **extra}))
        self.steps.append({"op": "set", "table": table.name, "id": row_id, "before": before,
                           "after": {k: audit.plain(v) for k, v in values.items()}})


def _merge_contact_rows(steps: _Steps, keep: Contact, drop: Contact, fills: dict[str, Any]) -> None:
    contacts = Base.metadata.tables["contacts"]
    for table, column in contact_references():
        if _movable(table, column) and table.name != "contacts":
            ids, _ = _plan_move(steps.session, table, column, drop.id, keep.id)
            steps.move(table, column, ids, drop.id, keep.id)
    moving_unique = {k: None for k in CONTACT_UNIQUE if k in fills}
    steps.set(contacts, drop.id, {**moving_unique, "merged_into_id": keep.id, "is_primary": False})
    steps.set(contacts, keep.id, {**fills, **({"is_primary": True} if drop.is_primary else {})})


def _expected(c: Customer, expected: dict[int, int] | None) -> None:
    if expected and c.id in expected and expected[c.id] != c.version:
        raise Conflict(f"客户「{c.name}」在预览之后被修改过，请重新预览后再合并。")


def merge_customers(session: Session, actor: Actor, keep: Customer, drop: Customer, *,
                    expected: dict[int, int] | None = None, now: datetime | None = None) -> MergeRecord:
    """Merge ``drop`` into ``keep``; ``expected`` = {customer id: version seen in the preview}."""
    now = now or utcnow()
    session.flush()
    for c in (keep, drop):
        _expected(c, expected)
    plan = plan_customers(session, actor, keep, drop)
    before_keep, before_drop = audit.snapshot(keep), audit.snapshot(drop)
    steps = _Steps(session)
    customers = Base.metadata.tables["customers"]
    for table, column in customer_references():
        if _movable(table, column):
            ids, _ = _plan_move(session, table, column, drop.id, keep.id)
            steps.move(table, column, ids, drop.id, keep.id)
    for cm in plan.contacts:
        _merge_contact_rows(steps, cm.keep, cm.drop, cm.fills)
    steps.set(customers, drop.id, {"merged_into_id": keep.id, "status": "已合并"})
    steps.set(customers, keep.id, plan.fills)
    record = MergeRecord(kind="customer", kept_id=keep.id, merged_id=drop.id, kept_label=label(keep),
                         merged_label=label(drop), summary={"moved": dict(steps.moved), "stays": plan.stays,
                                                            "fills": list(plan.fills),
                                                            "contacts": len(plan.contacts)},
                         steps=steps.steps, actor=actor.describe(), actor_staff_id=actor.staff_id, created_at=now)
    session.add(record)
    session.flush()
    session.expire_all()
    audit.record(session, actor, "customer.merge", keep, before_keep,
                 audit.snapshot(keep, {"merged": label(drop), "merge_record": record.id, "moved": dict(steps.moved)}))
    audit.record(session, actor, "customer.merged_into", drop, before_drop,
                 audit.snapshot(drop, {"kept": label(keep), "merge_record": record.id}))
    _retier(session, [keep.id], now)
    return record


def merge_contacts(session: Session, actor: Actor, keep: Contact, drop: Contact,
                   now: datetime | None = None) -> MergeRecord:
    now = now or utcnow()
    session.flush()
    plan = plan_contacts(session, actor, keep, drop)
    customer = session.get_one(Customer, keep.customer_id)
    steps = _Steps(session)
    _merge_contact_rows(steps, keep, drop, plan.contacts[0].fills)
    record = MergeRecord(kind="contact", kept_id=keep.id, merged_id=drop.id, kept_label=contact_label(keep),
                         merged_label=contact_label(drop), summary={"moved": dict(steps.moved),
                                                                    "customer": label(customer)},
                         steps=steps.steps, actor=actor.describe(), actor_staff_id=actor.staff_id, created_at=now)
    session.add(record)
    session.flush()
    session.expire_all()
    audit.record(session, actor, "contact.merge", keep, None, {"merged": contact_label(drop), "merge_record": record.id})
    return record


def _retier(session: Session, ids: list[int], now: datetime) -> None:
    from crm_core.services import tiering

    tiering.recompute_customers(session, ids, now)


def _revive(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


@dataclass
class Undone:
    record: MergeRecord
    restored: dict[str, int] = field(default_factory=dict)  # table → rows moved back
    kept_changes: list[str] = field(default_factory=list)  # fields changed since the merge, left as they are
    gone: int = 0  # rows deleted or re-pointed since the merge


def undo(session: Session, actor: Actor, record: MergeRecord, now: datetime | None = None) -> Undone:
    now = now or utcnow()
    require(actor, Cap.customer_merge)
    if record.undone_at is not None:
        raise InvalidInput(f"合并 #{record.id} 已经撤销过了。")
    kept = session.get(Customer, record.kept_id if record.kind == "customer" else
                       session.get_one(Contact, record.kept_id).customer_id)
    if kept is None:
        raise NotFound("保留的记录已不存在，无法撤销。")
    if record.kind == "customer" and kept.merged_into_id is not None:
        raise InvalidInput(f"「{kept.name}」之后又并入了其他客户，请先撤销那次合并。")
    if record.actor_staff_id != actor.staff_id and not can_manage_customer(session, actor, kept):
        raise PermissionDenied("只有执行合并的人、客户负责人的主管或管理员可以撤销。")
    session.flush()
    result = Undone(record)
    tables = Base.metadata.tables
    for step in reversed(record.steps):
        table = tables[step["table"]]
        if step["op"] == "move":
            column = table.c[step["column"]]
            n = session.execute(update(table).where(table.c.id.in_(step["ids"]), column == step["to"])
                                .values({column.name: step["from"]})).rowcount  # type: ignore[attr-defined]
            result.restored[table.name] = result.restored.get(table.name, 0) + int(n or 0)
            result.gone += len(step["ids"]) - int(n or 0)
        else:
            _undo_set(session, table, step, result)
    record.undone_at, record.undone_by = now, actor.describe()
    session.flush()
    session.expire_all()
    if record.kind == "customer":
        merged = session.get_one(Customer, record.merged_id)
        audit.record(session, actor, "customer.unmerge", kept, None, {"restored": record.merged_label,
                                                                        "merge_record": record.id})
        audit.record(session, actor, "customer.unmerge", merged, None, audit.snapshot(merged))
        _retier(session, [kept.id, merged.id], now)
    else:
        contact = session.get_one(Contact, record.merged_id)
        audit.record(session, actor, "contact.unmerge", contact, None, {"merge_record": record.id})
    return result


def _undo_set(session: Session, table: Table, step: dict[str, Any], result: Undone) -> None:
    cols = list(step["after"])
    current = session.execute(select(*(table.c[k] for k in cols)).where(table.c.id == step["id"])).first()
    if current is None:
        return
    now_plain = {k: audit.plain(v) for k, v in zip(cols, current, strict=True)}
    back = {}
    for k in cols:
        if now_plain[k] == step["after"][k]:
            back[k] = _revive(table.c[k], step["before"][k])
        else:
            result.kept_changes.append(FIELD_LABELS.get(k, k))
    if back:
        extra = {"version": table.c.version + 1} if "version" in table.c else {}
        session.execute(update(table).where(table.c.id == step["id"]).values({**back, **extra}))


def last_merge(session: Session, actor: Actor) -> MergeRecord | None:
    """The sender's latest merge that is not undone (a manager or admin: the latest visible one)."""
    require(actor, Cap.customer_merge)
    q = select(MergeRecord).where(MergeRecord.undone_at.is_(None)).order_by(MergeRecord.id.desc())
    mine = session.scalars(q.where(MergeRecord.actor_staff_id == actor.staff_id)).first() \
        if actor.staff_id is not None else None
    if mine is not None or not can(actor, Cap.customer_assign):
        return mine
    for record in session.scalars(q.limit(50)):
        cid = record.kept_id if record.kind == "customer" else session.get_one(Contact, record.kept_id).customer_id
        customer = session.get(Customer, cid)
        if customer is not None and can_manage_customer(session, actor, customer):
            return record
    return None


def merge_by_id(session: Session, actor: Actor, record_id: int) -> MergeRecord:
    require(actor, Cap.customer_merge)
    record = session.get(MergeRecord, record_id)
    if record is None:
        raise NotFound(f"没有编号为 #{record_id} 的合并记录。")
    return record


def visible_pair(session: Session, actor: Actor, keep_id: int, drop_id: int) -> tuple[Customer, Customer]:
    rows = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_([keep_id, drop_id]),
                                                                     customer_scope(actor)))}
    if keep_id not in rows or drop_id not in rows:
        raise NotFound("没有找到你可以查看的这两个客户。")
    return rows[keep_id], rows[drop_id]


def contact_pair(session: Session, actor: Actor, keep_id: int, drop_id: int) -> tuple[Contact, Contact]:
    rows = {c.id: c for c in session.scalars(select(Contact).where(
        Contact.id.in_([keep_id, drop_id]), Contact.merged_into_id.is_(None),
        Contact.customer_id.in_(select(Customer.id).where(customer_scope(actor)))))}
    if keep_id not in rows or drop_id not in rows:
        raise NotFound("没有找到你可以查看的这两个联系人。")
    return rows[keep_id], rows[drop_id]

