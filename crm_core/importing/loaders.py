"""One loader per kind: read the row's fields, resolve refs, normalise, and hand over to ``upsert``.

Field names and rules: docs/import-formats.md. A field absent from the row leaves the stored value
alone; a field present but blank clears it (or keeps the default where the column cannot be empty).
Child rows (tags, members, calendar, versions, notes) are reconciled only when the row carries that
field, and only if they differ, so a re-import of the same file writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select

from crm_core import audit
from crm_core.importing.base import (
    MISSING,
    Fields,
    ImportContext,
    Outcome,
    RowError,
    given,
    replace_children,
    upsert,
)
from crm_core.metrics import normalise_metrics
from crm_core.models import (
    BUDGET_LEVELS,
    LEAD_STATUSES,
    OPEN_TICKET_STATUSES,
    PAYMENT_STATUSES,
    PROJECT_STATUSES,
    STAGES,
    TASK_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TIERS,
    Base,
    CalendarBlock,
    Case,
    ChatBinding,
    Contact,
    Contract,
    Customer,
    CustomerTag,
    Interaction,
    KBArticle,
    Lead,
    Opportunity,
    Payment,
    Project,
    ProjectMember,
    Proposal,
    ProposalAnnotation,
    ProposalVersion,
    ProposalView,
    Role,
    Staff,
    Tag,
    TalentProfile,
    TalentWork,
    Task,
    Ticket,
    TicketNote,
)
from crm_core.normalise import (
    INTERACTION_KINDS,
    normalise_budget_level,
    normalise_industry,
    normalise_interaction_kind,
    normalise_lead_status,
    normalise_payment_status,
    normalise_priority,
    normalise_project_status,
    normalise_role,
    normalise_stage,
    normalise_task_status,
    normalise_ticket_status,
    normalise_tier,
)
from crm_core.services.tickets import SLA_HOURS

Result = tuple[Outcome, Base]
Loader = Callable[[ImportContext, Fields], Result]

ROLES = tuple(r.value for r in Role)
CHANNELS = ("wecom", "dingtalk", "console")
CHAT_KINDS = ("project_group", "client_service", "internal")
CALENDAR_KINDS = ("leave", "booked")
_CHANNEL = {"wecom": "wecom", "企业微信": "wecom", "企微": "wecom", "dingtalk": "dingtalk", "钉钉": "dingtalk",
            "console": "console", "控制台": "console"}
_CHAT_KIND = {"project_group": "project_group", "项目群": "project_group", "client_service": "client_service",
              "客户服务群": "client_service", "客服群": "client_service", "服务群": "client_service",
              "internal": "internal", "内部群": "internal"}
_CALENDAR_KIND = {"leave": "leave", "请假": "leave", "休假": "leave", "年假": "leave", "病假": "leave",
                  "booked": "booked", "占用": "booked", "已约": "booked", "档期": "booked", "排期": "booked",
                  "项目": "booked"}


def _lookup(table: dict[str, str]) -> Callable[[Any], str | None]:
    return lambda value: table.get(str(value).strip().lower())


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- people and customers -------------------------------------------------------------------


def load_staff(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, Staff, f.key(), {
        "name": f.text("name", required=True),
        "role": f.choice("role", normalise_role, ROLES, "角色", required=True),
        "department": f.text("department"),
        "region": f.text("region"),
        "wecom_userid": f.text("wecom_userid"),
        "dingtalk_userid": f.text("dingtalk_userid"),
        "mobile": f.text("mobile"),
        "email": f.text("email"),
        "skills": f.strings("skills"),
        "active": f.flag("active"),
    })


def _tag(ctx: ImportContext, name: str) -> Tag:
    tag_id = ctx.id_of(Tag, name, column="name")
    if tag_id is not None:
        return ctx.session.get_one(Tag, tag_id)
    tag = Tag(name=name)
    ctx.session.add(tag)
    ctx.session.flush()
    ctx.remember(Tag, name, tag.id, column="name")
    return tag


def _sync_tags(ctx: ImportContext, names: list[str], customer: Customer) -> None:
    """Import-sourced links become exactly ``names``; manual and rule tags are left alone."""
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if len(name) > 32:
            raise RowError(f"标签「{name}」过长（最多 32 个字符）")
    links = customer.tag_links
    for link in [lk for lk in links if lk.source == "import" and lk.tag.name not in wanted]:
        links.remove(link)
    present = {lk.tag.name for lk in links}
    for name in wanted:
        if name not in present:
            links.append(CustomerTag(tag=_tag(ctx, name), source="import", created_by_id=ctx.actor.staff_id))


def _tier_values(ctx: ImportContext, ref: str, tier: Any) -> dict[str, Any]:
    """A file's tier is where a customer starts; once the tier model or a manager has set one, it stays."""
    id_ = ctx.id_of(Customer, ref)
    source = ctx.session.scalar(select(Customer.tier_source).where(Customer.id == id_)) if id_ is not None else None
    if source in ("rule", "manual") or tier is MISSING:
        return {}
    return {"tier": tier, "tier_source": "import" if given(tier) else None}


def load_customers(ctx: ImportContext, f: Fields) -> Result:
    tags = f.strings("tags")
    ref = f.key()
    return upsert(ctx, Customer, ref, {
        "name": f.text("name", required=True),
        "short_name": f.text("short_name"),
        "legal_name": f.text("legal_name"),
        "industry": f.convert("industry", normalise_industry),
        "scale": f.text("scale"),
        "region": f.text("region"),
        "owner_id": f.ref("owner", Staff, "负责人"),
        **_tier_values(ctx, ref, f.choice("tier", normalise_tier, TIERS, "客户等级")),
        "budget_level": f.choice("budget_level", normalise_budget_level, BUDGET_LEVELS, "预算等级"),
        "custom_fields": f.mapping("custom_fields"),
        "consent": f.flag("consent"),
        "status": f.text("status"),
    }, sync=partial(_sync_tags, ctx, tags) if isinstance(tags, list) else None,
        extra=lambda c: {"tags": sorted(c.tag_names)})


def load_contacts(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, Contact, f.key(), {
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "name": f.text("name", required=True),
        "title": f.text("title"),
        "phone": f.text("phone"),
        "email": f.text("email"),
        "wecom_external_userid": f.text("wecom_external_userid"),
        "kf_external_userid": f.text("kf_external_userid"),
        "dingtalk_userid": f.text("dingtalk_userid"),
        "is_primary": f.flag("is_primary"),
    })


# --- sales ----------------------------------------------------------------------------------


def load_leads(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, Lead, f.key(), {
        "name": f.text("name", required=True),
        "industry": f.convert("industry", normalise_industry),
        "region": f.text("region"),
        "source": f.text("source"),
        "summary": f.text("summary"),
        "amount": f.amount("amount"),
        "status": f.choice("status", normalise_lead_status, LEAD_STATUSES, "线索状态"),
        "owner_id": f.ref("owner", Staff, "负责人"),
        "claimed_at": f.when("claimed_at"),
    })


def load_opportunities(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, Opportunity, f.key(), {
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "name": f.text("name", required=True),
        "stage": f.choice("stage", normalise_stage, STAGES, "阶段"),
        "amount": f.amount("amount"),
        "owner_id": f.ref("owner", Staff, "负责人"),
        "expected_close": f.day("expected_close"),
        "last_followup_at": f.when("last_followup_at"),
        "closed_at": f.when("closed_at"),
    })


def load_contracts(ctx: ImportContext, f: Fields) -> Result:
    values = {
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "title": f.text("title", required=True),
        "amount": f.amount("amount", required=True),
        "opportunity_id": f.ref("opportunity", Opportunity, "商机"),
        "owner_id": f.ref("owner", Staff, "负责人"),
        "signed_at": f.day("signed_at"),
        "start": f.day("start"),
        "end": f.day("end"),
        "status": f.text("status"),
    }
    _check_period(values)
    return upsert(ctx, Contract, f.key(), values)


def load_payments(ctx: ImportContext, f: Fields) -> Result:
    values = {
        "contract_id": f.ref("contract", Contract, "合同", required=True),
        "due": f.day("due", required=True),
        "amount": f.amount("amount", required=True),
        "seq": f.integer("seq", lo=1),
        "paid_amount": f.amount("paid_amount"),
        "paid_at": f.day("paid_at"),
        "status": f.choice("status", normalise_payment_status, PAYMENT_STATUSES, "收款状态"),
    }
    paid, amount = values["paid_amount"], values["amount"]
    if values["status"] is MISSING and given(paid):  # no status given: derive it from what was paid
        values["status"] = "已收" if paid >= amount else "部分收款" if paid > 0 else "待收"
    return upsert(ctx, Payment, f.key(), values)


def _annotation(f: Fields) -> dict[str, Any]:
    return {"text": f.text("text", required=True), "contact_id": _opt(f.ref("contact", Contact, "联系人")),
            "created_at": _opt(f.when("created_at"))}


def _versions(f: Fields, items: list[Any]) -> list[dict[str, Any]]:
    versions = []
    for i, item in enumerate(items, start=1):
        vf = f.nested(item, f"versions[{i}].")
        notes = vf.entries("annotations")
        views = vf.entries("views")
        versions.append({
            "no": _opt(vf.integer("no", lo=1)) or i,
            "change_note": _opt(vf.text("change_note")),
            "created_at": _opt(vf.when("created_at")),
            "annotations": [
                _annotation(vf.nested({"text": a} if isinstance(a, str) else a, f"annotations[{j}]."))
                for j, a in enumerate(notes if isinstance(notes, list) else [], start=1)
            ],
            "views": [
                {"contact_id": _opt(wf.ref("contact", Contact, "联系人")), "viewed_at": _opt(wf.when("viewed_at")),
                 "seconds": _opt(wf.integer("seconds", lo=0))}
                for j, w in enumerate(views if isinstance(views, list) else [], start=1)
                for wf in [vf.nested(w, f"views[{j}].")]
            ],
        })
    numbers = [v["no"] for v in versions]
    if len(set(numbers)) != len(numbers):
        raise RowError(f"版本号重复：{numbers}")
    return versions


def _view_order(view: dict[str, Any]) -> tuple[str, int, int]:
    return view["viewed_at"] or "", view["contact_id"] or 0, view["seconds"] or 0


def _version_state(proposal: Proposal) -> list[dict[str, Any]]:
    return [{
        "no": v.number, "change_note": v.change_note, "created_at": _dt(v.created_at),
        "annotations": [{"text": a.text, "contact_id": a.contact_id, "created_at": _dt(a.created_at)}
                        for a in v.annotations],
        "views": sorted(({"contact_id": w.contact_id, "viewed_at": _dt(w.viewed_at), "seconds": w.seconds}
                         for w in v.views), key=_view_order),
    } for v in sorted(proposal.versions, key=lambda v: v.number)]


def _sync_versions(ctx: ImportContext, wanted: list[dict[str, Any]], proposal: Proposal) -> None:
    # unset times default to the proposal's own, so re-importing the same file compares equal
    resolved = []
    for v in sorted(wanted, key=lambda v: v["no"]):
        at = v["created_at"] or proposal.created_at
        resolved.append({
            "no": v["no"], "change_note": v["change_note"], "created_at": _dt(at),
            "annotations": [{**a, "created_at": _dt(a["created_at"] or at)} for a in v["annotations"]],
            "views": sorted(({**w, "viewed_at": _dt(w["viewed_at"] or at)} for w in v["views"]), key=_view_order),
        })
    if resolved == _version_state(proposal):
        return
    proposal.versions.clear()
    ctx.session.flush()
    parse = datetime.fromisoformat
    proposal.versions.extend(ProposalVersion(
        number=v["no"], change_note=v["change_note"], created_at=parse(v["created_at"]),
        annotations=[ProposalAnnotation(text=a["text"], contact_id=a["contact_id"], created_at=parse(a["created_at"]))
                     for a in v["annotations"]],
        views=[ProposalView(contact_id=w["contact_id"], viewed_at=parse(w["viewed_at"]), seconds=w["seconds"])
               for w in v["views"]],
    ) for v in resolved)


def load_proposals(ctx: ImportContext, f: Fields) -> Result:
    items = f.entries("versions")
    versions = _versions(f, items) if isinstance(items, list) else None
    return upsert(ctx, Proposal, f.key(), {
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "title": f.text("title", required=True),
        "project_id": f.ref("project", Project, "项目"),
        "opportunity_id": f.ref("opportunity", Opportunity, "商机"),
        "owner_id": f.ref("owner", Staff, "负责人"),
    }, sync=partial(_sync_versions, ctx, versions) if versions is not None else None,
        extra=lambda p: {"versions": _version_state(p)})


# --- delivery -------------------------------------------------------------------------------


def _check_period(values: dict[str, Any]) -> None:
    start, end = values.get("start"), values.get("end")
    if given(start) and given(end) and end < start:
        raise RowError(f"结束日期 {end} 早于开始日期 {start}")


def load_projects(ctx: ImportContext, f: Fields) -> Result:
    members = f.refs("members", Staff, "项目成员")
    values = {
        "name": f.text("name", required=True),
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "manager_id": f.ref("manager", Staff, "项目经理"),
        "status": f.choice("status", normalise_project_status, PROJECT_STATUSES, "项目状态"),
        "start": f.day("start"),
        "end": f.day("end"),
        "budget": f.amount("budget"),
    }
    _check_period(values)

    def sync(project: Project) -> None:
        wanted = [ProjectMember(staff_id=i) for i in members]  # type: ignore[union-attr]
        replace_children(project.members, wanted, lambda m: m.staff_id, ctx.session)

    return upsert(ctx, Project, f.key(), values, sync=sync if isinstance(members, list) else None,
                  extra=lambda p: {"members": sorted(m.staff_id for m in p.members)})


def load_chat_bindings(ctx: ImportContext, f: Fields) -> Result:
    ref = f.key()
    channel = f.choice("channel", _lookup(_CHANNEL), CHANNELS, "渠道", required=True)
    chat_id = f.text("chat_id", required=True)
    project_id = f.ref("project", Project, "项目")
    customer_id = f.ref("customer", Customer, "客户")
    other = ctx.session.scalars(select(ChatBinding).where(
        ChatBinding.channel == channel, ChatBinding.chat_id == chat_id)).first()
    if other is not None and other.ref != ref:
        raise RowError(f"群 {channel}/{chat_id} 已绑定为 {other.ref or f'#{other.id}'}")

    def defaults() -> dict[str, Any]:  # a project group serves that project's customer
        if given(project_id) and not given(customer_id):
            return {"customer_id": ctx.session.get_one(Project, project_id).customer_id}
        return {}

    return upsert(ctx, ChatBinding, ref, {
        "channel": channel,
        "chat_id": chat_id,
        "name": f.text("name"),
        "kind": f.choice("kind", _lookup(_CHAT_KIND), CHAT_KINDS, "群类型"),
        "project_id": project_id,
        "customer_id": customer_id,
        "webhook_url": f.text("webhook_url"),
        "webhook_secret": f.text("webhook_secret"),
    }, defaults=defaults)


def load_tasks(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, Task, f.key(), {
        "title": f.text("title", required=True),
        "project_id": f.ref("project", Project, "项目"),
        "assignee_id": f.ref("assignee", Staff, "执行人"),
        "due": f.day("due"),
        "status": f.choice("status", normalise_task_status, TASK_STATUSES, "任务状态"),
        "kind": f.text("kind"),
        "created_at": f.when("created_at"),
        "completed_at": f.when("completed_at"),
    }, defaults=lambda: {"creator_id": ctx.actor.staff_id})


def _calendar(f: Fields, items: list[Any]) -> list[tuple[Any, ...]]:
    blocks: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for i, item in enumerate(items, start=1):
        cf = f.nested(item, f"calendar[{i}].")
        start = cf.day("start", required=True)
        end = _opt(cf.day("end")) or start
        kind = cf.choice("kind", _lookup(_CALENDAR_KIND), CALENDAR_KINDS, "日程类型", required=True)
        if end < start:  # type: ignore[operator]
            raise RowError(f"calendar[{i}]：结束日期 {end} 早于开始日期 {start}")
        if (start, end, kind) in blocks:
            raise RowError(f"calendar[{i}]：与前面的日程重复（{start}–{end} {kind}）")
        blocks[(start, end, kind)] = (start, end, kind, _opt(cf.text("note")))
    return sorted(blocks.values(), key=lambda b: (b[0], b[1], b[2]))


def _works(f: Fields, items: list[Any]) -> list[tuple[Any, ...]]:
    """Past work: ``{"title", "description", "skills", "project", "case", "industry", "rating", "finished_on"}``."""
    out = []
    for i, item in enumerate(items, start=1):
        wf = f.nested({"title": item} if isinstance(item, str) else item, f"works[{i}].")
        out.append((wf.text("title", required=True), _opt(wf.text("description")), _opt(wf.strings("skills")) or [],
                    _opt(wf.ref("project", Project, "项目")), _opt(wf.ref("case", Case, "案例")),
                    _opt(wf.convert("industry", normalise_industry)), _opt(wf.number("rating", lo=0, hi=5)),
                    _opt(wf.day("finished_on"))))
    return out


def _work_key(w: TalentWork) -> tuple[Any, ...]:
    return (w.title, w.description, tuple(w.skills or []), w.project_id, w.case_id, w.industry, w.rating, w.finished_on)


def load_talents(ctx: ImportContext, f: Fields) -> Result:
    staff_ref = f.key()
    staff_id = ctx.id_of(Staff, staff_ref)
    if staff_id is None:
        raise RowError(f"员工 {staff_ref} 不存在")
    items = f.entries("calendar")
    blocks = _calendar(f, items) if isinstance(items, list) else None
    work_items = f.entries("works")
    works = _works(f, work_items) if isinstance(work_items, list) else None

    def sync(profile: TalentProfile) -> None:
        if blocks is not None:
            wanted = [CalendarBlock(start=s, end=e, kind=k, note=n) for s, e, k, n in blocks]
            replace_children(profile.calendar, wanted, lambda b: (b.start, b.end, b.kind, b.note), ctx.session)
        if works is not None:
            fields = ("title", "description", "skills", "project_id", "case_id", "industry", "rating", "finished_on")
            wanted_works = [TalentWork(**dict(zip(fields, w, strict=True))) for w in works]
            replace_children(profile.works, wanted_works, _work_key, ctx.session)

    def state(profile: TalentProfile) -> dict[str, Any]:
        return {"staff": staff_ref, "calendar": sorted(
            [b.start.isoformat(), b.end.isoformat(), b.kind, b.note] for b in profile.calendar),
            "works": [audit.plain(list(_work_key(w))) for w in profile.works]}

    return upsert(ctx, TalentProfile, None, {
        "skills": f.strings("skills"),
        "styles": f.strings("styles"),
        "level": f.text("level"),
        "satisfaction": f.number("satisfaction", lo=0, hi=5),
        "bio": f.text("bio"),
    }, find=lambda: ctx.session.scalars(select(TalentProfile).where(TalentProfile.staff_id == staff_id)).first(),
        defaults=lambda: {"staff_id": staff_id}, sync=sync if blocks is not None or works is not None else None,
        extra=state)


# --- service --------------------------------------------------------------------------------


def load_interactions(ctx: ImportContext, f: Fields) -> Result:
    customer_id = f.ref("customer", Customer, "客户", required=True)
    contact_id = f.ref("contact", Contact, "联系人")
    if given(contact_id) and ctx.session.get_one(Contact, contact_id).customer_id != customer_id:
        raise RowError(f"联系人 {f.get('contact')} 不属于客户 {f.get('customer')}")

    def sync(row: Interaction) -> None:  # like a logged follow-up, it moves the customer's last contact
        customer = ctx.session.get_one(Customer, row.customer_id)
        if customer.last_contact_at is None or customer.last_contact_at < row.occurred_at:
            customer.last_contact_at = row.occurred_at

    return upsert(ctx, Interaction, f.key(), {
        "customer_id": customer_id,
        "summary": f.text("summary", required=True),
        "staff_id": f.ref("staff", Staff, "员工"),
        "kind": f.choice("kind", normalise_interaction_kind, INTERACTION_KINDS, "跟进方式"),
        "occurred_at": f.when("occurred_at"),
        "contact_id": contact_id,
    }, defaults=lambda: {"channel": "import"}, sync=sync)


def _ticket_number(ctx: ImportContext, ref: str) -> int:
    m = re.search(r"(\d+)$", ref)
    if m and int(m.group(1)) < 2**31:
        number = int(m.group(1))
        if ctx.session.scalars(select(Ticket.id).where(Ticket.number == number)).first() is None:
            return number
    return (ctx.session.scalar(select(func.max(Ticket.number))) or 0) + 1


def _note(f: Fields) -> dict[str, Any]:
    return {"text": f.text("text", required=True), "author": _opt(f.text("author")),
            "internal": _opt(f.flag("internal")), "created_at": _opt(f.when("created_at"))}


def _note_state(ticket: Ticket) -> list[dict[str, Any]]:
    return [{"text": n.text, "author": n.author, "internal": n.internal, "created_at": _dt(n.created_at)}
            for n in ticket.notes]


def load_tickets(ctx: ImportContext, f: Fields) -> Result:
    ref = f.key()
    sla_hours = f.number("sla_hours", lo=0)
    items = f.entries("notes")
    notes = [_note(f.nested({"text": n} if isinstance(n, str) else n, f"notes[{i}]."))
             for i, n in enumerate(items, start=1)] if isinstance(items, list) else None

    def sync(ticket: Ticket) -> None:
        due = ticket.sla_due_at
        if given(sla_hours):
            due = ticket.created_at + timedelta(hours=sla_hours)  # type: ignore[arg-type]
        elif due is None and ticket.status in OPEN_TICKET_STATUSES:  # as the service does for a new ticket
            due = ticket.created_at + timedelta(hours=SLA_HOURS.get(ticket.priority, 24))
        if due != ticket.sla_due_at:
            ticket.sla_due_at = due
        if notes is None:
            return
        wanted = [{**n, "internal": n["internal"] is not False, "created_at": _dt(n["created_at"] or ticket.created_at)}
                  for n in notes]
        if wanted != _note_state(ticket):
            ticket.notes.clear()
            ctx.session.flush()
            ticket.notes.extend(TicketNote(**{**n, "created_at": datetime.fromisoformat(n["created_at"])})
                                for n in wanted)

    return upsert(ctx, Ticket, ref, {
        "customer_id": f.ref("customer", Customer, "客户", required=True),
        "title": f.text("title", required=True),
        "contact_id": f.ref("contact", Contact, "联系人"),
        "category": f.text("category"),
        "priority": f.choice("priority", normalise_priority, TICKET_PRIORITIES, "优先级"),
        "status": f.choice("status", normalise_ticket_status, TICKET_STATUSES, "工单状态"),
        "assignee_id": f.ref("assignee", Staff, "处理人"),
        "created_at": f.when("created_at"),
        "resolved_at": f.when("resolved_at"),
        "csat": f.integer("csat", lo=1, hi=5),
    }, defaults=lambda: {"number": _ticket_number(ctx, ref), "source": "import"}, sync=sync,
        extra=lambda t: {"notes": _note_state(t)})


# --- knowledge ------------------------------------------------------------------------------


def load_cases(ctx: ImportContext, f: Fields) -> Result:
    metrics = f.mapping("metrics")
    return upsert(ctx, Case, f.key(), {
        "title": f.text("title", required=True),
        "industry": f.convert("industry", normalise_industry),
        "format": f.text("format"),
        "channels": f.strings("channels"),
        "year": f.integer("year", lo=1900, hi=2100),
        "period": f.text("period"),
        "budget": f.amount("budget"),
        "client": f.text("client"),
        "description": f.text("description"),
        "metrics": metrics,
        "metrics_norm": normalise_metrics(metrics) if isinstance(metrics, dict) else MISSING,
        "customer_id": f.ref("customer", Customer, "客户"),
    })


def load_kb(ctx: ImportContext, f: Fields) -> Result:
    return upsert(ctx, KBArticle, f.key(), {
        "title": f.text("title", required=True),
        "body": f.text("body", required=True),
        "category": f.text("category"),
        "tags": f.strings("tags"),
        "owner_id": f.ref("owner", Staff, "负责人"),
    })


def _opt(value: Any) -> Any:
    """Nested entries have no "leave alone": absent means empty."""
    return None if value is MISSING else value


LOADERS: dict[str, Loader] = {
    "staff": load_staff,
    "customers": load_customers,
    "contacts": load_contacts,
    "leads": load_leads,
    "opportunities": load_opportunities,
    "projects": load_projects,
    "chat_bindings": load_chat_bindings,
    "tasks": load_tasks,
    "talents": load_talents,
    "contracts": load_contracts,
    "payments": load_payments,
    "proposals": load_proposals,
    "interactions": load_interactions,
    "tickets": load_tickets,
    "cases": load_cases,
    "kb": load_kb,
}
KINDS: tuple[str, ...] = tuple(LOADERS)  # load order, as in docs/import-formats.md
