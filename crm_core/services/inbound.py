"""Inbound bookkeeping for messenger channels: which messages were already handled, where a
message stream was read up to, directory changes pushed by the messengers, and who can talk to the
bot from the web console.

Dedupe is a row per (channel, message key) under a unique constraint, inserted with
``ON CONFLICT DO NOTHING``: of any number of deliveries of one message — a messenger's retries, a
restarted server, a second server process — exactly one insert wins, and only that one is handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.hot_reads import HotWrite
from crm_core.models import (
    ChannelCursor,
    ChatBinding,
    Contact,
    Customer,
    ProcessedMessage,
    Project,
    Staff,
    utcnow,
)


def claim(db: Database, channel: str, key: str, *, now: datetime | None = None) -> bool:
    """Record that this message is being handled, committed before this returns. True for the first
    delivery only. Every message starts here, so it is one write on a pooled connection
    (``Database.commit_alone``), not a unit of work."""
    return bool(db.commit_alone(_CLAIMS[db.dialect], _claimed(channel, key, now)))


def _claimed(channel: str, key: str, now: datetime | None) -> dict[str, Any]:
    return {"channel": channel, "message_key": key[:200], "status": "received", "received_at": now or utcnow()}


def _claim_write(insert: Any) -> HotWrite:
    table = ProcessedMessage.__table__
    return HotWrite(insert(table).values(**{name: bindparam(name) for name in ("channel", "message_key", "status",
                                                                                  "received_at")})
                    .on_conflict_do_nothing(index_elements=["channel", "message_key"]).returning(table.c.id))


_CLAIMS = {"sqlite": _claim_write(sqlite.insert), "postgresql": _claim_write(postgresql.insert)}


def claim_message(session: Session, channel: str, key: str, *, now: datetime | None = None) -> bool:
    """Record that this message is being handled, in the session's transaction. True for the first delivery only."""
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING inserts
    conn = session.connection()
    return bool(_CLAIMS[conn.dialect.name].rows(conn, _claimed(channel, key, now)))


def mark_message(session: Session, channel: str, key: str, status: str) -> None:
    table = ProcessedMessage.__table__
    session.execute(update(table).where(table.c.channel == channel, table.c.message_key == key[:200])
                    .values(status=status))


def message_status(session: Session, channel: str, key: str) -> str | None:
    return session.scalars(select(ProcessedMessage.status).where(
        ProcessedMessage.channel == channel, ProcessedMessage.message_key == key[:200])).first()


def prune_processed(session: Session, older_than_days: int = 30, *, now: datetime | None = None) -> int:
    """Messengers retry within minutes; a month of keys is plenty."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    return int(session.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < cutoff)).rowcount or 0)  # type: ignore[attr-defined]


def get_cursor(session: Session, name: str, *, lock: bool = False) -> str:
    query = select(ChannelCursor).where(ChannelCursor.name == name)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalars(query).first()
    return row.value if row else ""


def set_cursor(session: Session, name: str, value: str) -> None:
    row = session.scalars(select(ChannelCursor).where(ChannelCursor.name == name)).first()
    if row is None:
        session.add(ChannelCursor(name=name, value=value))
    else:
        row.value = value
    session.flush()


def apply_directory_change(session: Session, channel: str, change: str, user_id: str,
                           new_user_id: str | None = None) -> str | None:
    """A messenger says a member left or was renamed: a departed member loses access at once.

    ``change``: ``delete_user`` (deactivate the staff record bound to ``user_id``) or ``update_user``
    with ``new_user_id`` (follow the rename). Returns what was done, or None when nothing applied."""
    column = Staff.dingtalk_userid if channel == "dingtalk" else Staff.wecom_userid
    staff = session.scalars(select(Staff).where(column == user_id)).first()
    if staff is None:
        return None
    actor = Actor.system(channel=channel, name=f"{channel}-directory")
    before = audit.snapshot(staff)
    if change == "delete_user":
        if not staff.active:
            return None
        staff.active = False
        action, done = "staff.deactivate", f"{staff.name}（{staff.ref}）已离开通讯录，账号已停用"
    elif change == "update_user" and new_user_id and new_user_id != user_id:
        setattr(staff, column.key, new_user_id)
        action, done = "staff.rebind", f"{staff.name}（{staff.ref}）账号 {user_id} → {new_user_id}"
    else:
        return None
    session.flush()
    audit.record(session, actor, action, staff, before, audit.snapshot(staff))
    return done


@dataclass(frozen=True)
class ConsolePerson:
    kind: str  # staff | client
    user_id: str  # the messenger id the console sends as
    name: str
    detail: str


@dataclass(frozen=True)
class ConsoleChat:
    chat_id: str
    name: str
    kind: str  # dm | project_group | client_service
    channel: str  # the binding's messenger (wecom / dingtalk / console)


def console_people(session: Session, limit: int = 200) -> list[ConsolePerson]:
    """Bound staff and client contacts with a messenger id: the identities the web console offers."""
    people = [ConsolePerson("staff", s.wecom_userid or "", s.name, f"{s.department or ''} · {s.role}")
              for s in session.scalars(select(Staff).where(Staff.active.is_(True), Staff.wecom_userid.is_not(None))
                                       .order_by(Staff.department, Staff.name).limit(limit))]
    rows = session.execute(select(Contact, Customer.name).join(Customer, Customer.id == Contact.customer_id)
                           .where((Contact.wecom_external_userid.is_not(None)) | (Contact.kf_external_userid.is_not(None)))
                           .order_by(Customer.name, Contact.name).limit(limit))
    for contact, customer_name in rows:
        uid = contact.wecom_external_userid or contact.kf_external_userid or ""
        people.append(ConsolePerson("client", uid, contact.name, f"{customer_name} · {contact.title or '客户联系人'}"))
    return people


def console_chats(session: Session, person: ConsolePerson) -> list[ConsoleChat]:
    """The chats a person can talk in: their 1:1, and the bound groups that concern them."""
    chats = [ConsoleChat(f"dm:{person.user_id}", "与客户助手单聊", "dm", "console")]
    if person.kind == "staff":
        rows = session.execute(select(ChatBinding, Project.name).outerjoin(Project, Project.id == ChatBinding.project_id)
                               .where(ChatBinding.kind != "client_service").order_by(ChatBinding.id).limit(200))
        chats.extend(ConsoleChat(b.chat_id, b.name or project_name or b.chat_id, b.kind, b.channel)
                     for b, project_name in rows)
    else:
        contact = session.scalars(select(Contact).where(
            (Contact.wecom_external_userid == person.user_id) | (Contact.kf_external_userid == person.user_id))).first()
        chats = [ConsoleChat(f"kf:{person.user_id}", "微信客服（客户服务）", "client_service", "console")]
        if contact is not None:
            rows = session.scalars(select(ChatBinding).where(ChatBinding.customer_id == contact.customer_id,
                                                             ChatBinding.kind == "client_service"))
            chats.extend(ConsoleChat(b.chat_id, b.name or b.chat_id, b.kind, b.channel) for b in rows)
    return chats


def binding_for_chat(session: Session, chat_id: str) -> ChatBinding | None:
    return session.scalars(select(ChatBinding).where(ChatBinding.chat_id == chat_id)).first()
