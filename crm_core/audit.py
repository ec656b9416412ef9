"""Audit rows for every write: who, what, before/after, via which channel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.models import AuditLog, Base

_SKIP = {"created_at", "updated_at", "version"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def plain(value: Any) -> Any:
    """A value as JSON-safe data (dates as ISO text, decimals as numbers)."""
    return _plain(value)


def snapshot(obj: Base, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Column values of a record as JSON-safe data (timestamps and version left out)."""
    data = {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in _SKIP
    }
    if extra:
        data.update({k: _plain(v) for k, v in extra.items()})
    return data


def changed(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    return before != after


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: Base,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditLog:
    session.flush()  # the entity needs its id
    row = AuditLog(
        actor=actor.describe(),
        actor_staff_id=actor.staff_id,
        action=action,
        entity_type=entity.__tablename__,
        entity_id=getattr(entity, "id", None),
        entity_ref=getattr(entity, "ref", None),
        before=before,
        after=after,
        channel=actor.channel,
    )
    session.add(row)
    return row
