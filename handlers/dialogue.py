"""Per-(chat, sender) conversation state, kept in the database (table ``dialogue_states``).

- **context**: the last customer / project / opportunity / task / colleague the conversation was
  about (for "它的负责人是谁"), and the last list shown (for "下一页"). Forgotten after
  ``context_ttl_seconds`` of silence.
- **pending**: at most one open question — a write waiting for "确认"/"取消", a numbered choice
  ("你是指 1. … 2. …"), a missing argument, or "which of these did you mean". It expires after
  ``confirm_ttl_seconds``, measured in message time (so ``--now`` works).

The state is read once per message and written once at the end, after the action's own changes;
a failed action that rolls back does not lose the conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from crm_core.hot_reads import HotRead, HotWrite
from crm_core.models import DialogueState, utcnow

PendingKind = Literal["confirm", "choose", "fill", "intent"]
CONTEXT_KEYS = ("customer", "project", "opportunity", "task", "staff")


class Pending(BaseModel):
    kind: PendingKind
    intent: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)
    slot: str | None = None  # choose / fill: which argument the answer is for
    options: list[tuple[str, str]] = Field(default_factory=list)  # (ref or intent, label)
    text: str | None = None  # intent: the original message, to re-read with the chosen intent
    source: str = "nlu"  # command | nlu | agent: a command's choice applies without a preview
    created: datetime

    def expired(self, now: datetime, ttl_seconds: int) -> bool:
        return now - self.created > timedelta(seconds=ttl_seconds)


_TABLE = DialogueState.__table__
_LOAD = HotRead(select(_TABLE.c.id, _TABLE.c.context, _TABLE.c.pending).where(
    _TABLE.c.channel == bindparam("channel"), _TABLE.c.chat_id == bindparam("chat_id"),
    _TABLE.c.sender_id == bindparam("sender_id")))
_SAVE = HotWrite(update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
                 .values(context=bindparam("context"), pending=bindparam("pending"), updated_at=bindparam("updated_at"))
                 .returning(_TABLE.c.id))


class Conversation:
    def _params(self) -> dict[str, str]:
        return {"channel": self.key[0], "chat_id": self.key[1], "sender_id": self.key[2]}

    def __init__(self, session: Session, channel: str, chat_id: str, sender_id: str, now: datetime,
                 settings: Settings) -> None:
        self.session = session
        self.key = (channel[:16], chat_id[:128], sender_id[:128])
        self.now = now
        self.settings = settings
        self.expired_pending: Pending | None = None
        session.flush()
        row = _LOAD.first(session.connection(), self._params())
        self._row_id: int | None = row.id if row is not None else None
        self._exists = row is not None
        context = dict(row.context or {}) if row else {}
        updated = context.get("at")
        if updated and now - datetime.fromisoformat(updated) > timedelta(seconds=settings.context_ttl_seconds):
            context = {}
        self.context: dict[str, Any] = context
        self.pending: Pending | None = None
        if row is not None and row.pending:
            try:
                pending = Pending.model_validate(row.pending)
            except ValueError:
                pending = None
            if pending is not None and pending.expired(now, settings.confirm_ttl_seconds):
                self.expired_pending = pending
            else:
                self.pending = pending
        self._dirty = False

    # context --------------------------------------------------------------------------------------
    def remember(self, **refs: Any) -> None:
        for key, value in refs.items():
            if value:
                self.context[key] = value
        self.context["at"] = self.now.isoformat()
        self._dirty = True

    def remember_slots(self, slots: dict[str, Any]) -> None:
        refs = {k: slots.get(k) for k in CONTEXT_KEYS if isinstance(slots.get(k), str)}
        for staff_slot in ("assignee", "owner"):
            if isinstance(slots.get(staff_slot), str):
                refs["staff"] = slots[staff_slot]
        if refs:
            self.remember(**refs)

    def set_last_list(self, intent: str, slots: dict[str, Any], extras: dict[str, Any], page: int) -> None:
        self.context["list"] = {"intent": intent, "slots": slots, "extras": extras, "page": page}
        self.remember()

    @property
    def last_list(self) -> dict[str, Any] | None:
        return self.context.get("list")

    # pending --------------------------------------------------------------------------------------
    def ask(self, pending: Pending) -> None:
        self.pending = pending
        self._dirty = True

    def clear(self) -> None:
        if self.pending is not None or self.expired_pending is not None:
            self.pending = None
            self.expired_pending = None
            self._dirty = True

    def expires_at(self) -> datetime:
        return self.now + timedelta(seconds=self.settings.confirm_ttl_seconds)

    # persistence ----------------------------------------------------------------------------------
    def save(self) -> None:
        if not self._dirty:
            return
        pending = self.pending.model_dump(mode="json") if self.pending else None
        values = {"row_id": self._row_id, "context": dict(self.context), "pending": pending, "updated_at": utcnow()}
        if self._row_id is not None and _SAVE.rows(self.session.connection(), values):  # the row read at the start
            self._dirty = False
            return
        row = None
        try:
            with self.session.begin_nested():
                self.session.add(DialogueState(channel=self.key[0], chat_id=self.key[1], sender_id=self.key[2],
                                               context=self.context, pending=pending))
        except IntegrityError:  # another process created it first: update theirs
            row = self.session.scalars(select(DialogueState).where(
                DialogueState.channel == self.key[0], DialogueState.chat_id == self.key[1],
                DialogueState.sender_id == self.key[2])).first()
        if row is not None:
            row.context = dict(self.context)
            row.pending = pending
        self.session.flush()
        self._dirty = False
