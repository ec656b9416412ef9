"""What every loader shares: typed field getters with Chinese errors, a ref → id cache, and the one
generic step "find by ref or create, set what changed, audit"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TypeVar

from sqlalchemy import Numeric, String, select
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.models import Base
from crm_core.normalise import parse_amount, parse_bool, parse_date, parse_datetime, split_list


class RowError(Exception):
    """Why one row cannot be imported; ``str(exc)`` is shown to the user as ``file:line: reason``."""


class _Missing(Enum):
    token = 0


MISSING = _Missing.token  # the key is absent from the row: leave the stored value alone
T = TypeVar("T")
Opt = T | None | _Missing
Outcome = Literal["created", "updated", "unchanged"]
M = TypeVar("M", bound=Base)


def given(value: Any) -> bool:
    return value is not MISSING and value is not None


class ImportContext:
    """One import run: session, actor, timezone and a ref → id cache that forgets a failed row's entries."""

    def __init__(self, session: Session, actor: Actor, tz: str) -> None:
        self.session = session
        self.actor = actor
        self.tz = tz
        self._ids: dict[tuple[type[Base], str], dict[str, int]] = {}
        self._pending: list[tuple[dict[str, int], str]] = []

    def _map(self, model: type[Base], column: str) -> dict[str, int]:
        key = (model, column)
        if key not in self._ids:
            col = getattr(model, column)
            rows = self.session.execute(select(col, model.id).where(col.is_not(None)))  # type: ignore[attr-defined]
            self._ids[key] = {row[0]: row[1] for row in rows}
        return self._ids[key]

    def id_of(self, model: type[Base], key: str, column: str = "ref") -> int | None:
        return self._map(model, column).get(key)

    def remember(self, model: type[Base], key: str, id_: int, column: str = "ref") -> None:
        mapping = self._map(model, column)
        mapping[key] = id_
        self._pending.append((mapping, key))

    def commit(self) -> None:
        self._pending.clear()

    def rollback(self) -> None:
        for mapping, key in self._pending:
            mapping.pop(key, None)
        self._pending.clear()


class Fields:
    """Typed getters over one row (or one nested item, named by ``prefix`` in errors).

    Absent key → ``MISSING``; ``None`` or blank text → ``None``; anything else is converted or a
    ``RowError`` explains what is wrong.
    """

    def __init__(self, ctx: ImportContext, data: dict[str, Any], prefix: str = "") -> None:
        self.ctx = ctx
        self.data = data
        self.prefix = prefix

    def nested(self, data: Any, prefix: str) -> Fields:
        if not isinstance(data, dict):
            raise RowError(f"{self.prefix}{prefix.rstrip('.')} 应为对象（{{…}}）")
        return Fields(self.ctx, data, self.prefix + prefix)

    def get(self, key: str, required: bool = False) -> Any:
        if key not in self.data:
            value: Any = MISSING
        else:
            value = self.data[key]
            if isinstance(value, str):
                value = value.strip() or None
        if required and not given(value):
            raise RowError(f"缺少字段 {self.prefix}{key}")
        return value

    def convert(self, key: str, fn: Callable[[Any], T], required: bool = False) -> Opt[T]:
        value = self.get(key, required)
        if not given(value):
            return value  # type: ignore[no-any-return]
        try:
            return fn(value)
        except (ValueError, TypeError) as exc:
            raise RowError(f"字段 {self.prefix}{key}：{exc}") from None

    def key(self) -> str:
        """The row's own ``ref``."""
        return self.text("ref", required=True)  # type: ignore[return-value]

    def text(self, key: str, required: bool = False) -> Opt[str]:
        def as_text(value: Any) -> str:
            if isinstance(value, dict | list | bool):
                raise ValueError("应为文本")
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return str(value).strip()

        return self.convert(key, as_text, required)

    def integer(self, key: str, lo: int | None = None, hi: int | None = None, required: bool = False) -> Opt[int]:
        def as_int(value: Any) -> int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"应为整数，收到「{value}」")
            try:
                number = int(str(value).strip()) if not isinstance(value, int | float) else int(value)
            except ValueError:
                raise ValueError(f"应为整数，收到「{value}」") from None
            return _in_range(number, lo, hi)

        return self.convert(key, as_int, required)

    def number(self, key: str, lo: float | None = None, hi: float | None = None) -> Opt[float]:
        def as_float(value: Any) -> float:
            if isinstance(value, bool):
                raise ValueError(f"应为数字，收到「{value}」")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"应为数字，收到「{value}」") from None
            return _in_range(number, lo, hi)

        return self.convert(key, as_float)

    def amount(self, key: str, required: bool = False) -> Opt[Decimal]:
        def as_amount(value: Any) -> Decimal:
            amount = parse_amount(value)
            if amount < 0:
                raise ValueError(f"金额不能为负数（{value}）")
            return amount

        return self.convert(key, as_amount, required)

    def day(self, key: str, required: bool = False) -> Opt[date]:
        return self.convert(key, lambda v: parse_date(v, self.ctx.tz), required)

    def when(self, key: str, required: bool = False) -> Opt[datetime]:
        # stored as UTC; converting here keeps "unchanged" comparisons exact
        return self.convert(key, lambda v: parse_datetime(v, self.ctx.tz).astimezone(UTC), required)

    def flag(self, key: str) -> Opt[bool]:
        return self.convert(key, parse_bool)

    def strings(self, key: str) -> Opt[list[str]]:
        def as_list(value: Any) -> list[str]:
            if isinstance(value, dict):
                raise ValueError("应为列表")
            return split_list(value)

        value = self.convert(key, as_list)
        return [] if value is None else value

    def mapping(self, key: str) -> Opt[dict[str, Any]]:
        def as_dict(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise ValueError("应为 JSON 对象（{…}）")
            return value

        value = self.convert(key, as_dict)
        return {} if value is None else value

    def entries(self, key: str) -> Opt[list[Any]]:
        """A list of nested entries (calendar, versions, notes …)."""
        def as_items(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise ValueError("应为列表（[…]）")
            return value

        value = self.convert(key, as_items)
        return [] if value is None else value

    def choice(self, key: str, normalise: Callable[[Any], str | None], choices: tuple[str, ...] | list[str],
               label: str, required: bool = False) -> Opt[str]:
        value = self.get(key, required)
        if not given(value):
            return value  # type: ignore[no-any-return]
        canonical = normalise(value)
        if canonical is None:
            raise RowError(f'未知{label} "{value}"（可选：{"/".join(choices)}）')
        return canonical

    def ref(self, key: str, model: type[Base], label: str, required: bool = False) -> Opt[int]:
        value = self.text(key, required)
        if not given(value):
            return value
        id_ = self.ctx.id_of(model, value)  # type: ignore[arg-type]
        if id_ is None:
            raise RowError(f"{label} {value} 不存在")
        return id_

    def refs(self, key: str, model: type[Base], label: str) -> Opt[list[int]]:
        refs = self.strings(key)
        if refs is MISSING or refs is None:
            return refs
        ids = []
        for ref in dict.fromkeys(refs):
            id_ = self.ctx.id_of(model, ref)
            if id_ is None:
                raise RowError(f"{label} {ref} 不存在")
            ids.append(id_)
        return ids


def _in_range(number: T, lo: Any, hi: Any) -> T:
    if (lo is not None and number < lo) or (hi is not None and number > hi):  # type: ignore[operator]
        raise ValueError(f"应在 {lo}–{hi} 之间，收到 {number}" if hi is not None else f"不能小于 {lo}，收到 {number}")
    return number


def _column_values(ctx: ImportContext, model: type[M], obj: M | None, values: dict[str, Any]) -> dict[str, Any]:
    """Drop absent keys, check lengths, scale and uniqueness the same way on SQLite and PostgreSQL."""
    table = model.__table__  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is MISSING:
            continue
        col = table.c[key]
        if value is None and not col.nullable:
            continue  # blank in the file: keep the default / stored value
        if isinstance(value, str) and isinstance(col.type, String) and len(value) > (col.type.length or len(value)):
            raise RowError(f"字段 {key} 过长（最多 {col.type.length} 个字符）")
        if isinstance(value, Decimal) and isinstance(col.type, Numeric) and col.type.scale is not None:
            value = value.quantize(Decimal(1).scaleb(-col.type.scale))
            if col.type.precision and abs(value) >= Decimal(10) ** (col.type.precision - col.type.scale):
                raise RowError(f"字段 {key} 数值过大（{value}）")
        if col.unique and key != "ref" and value is not None and (obj is None or getattr(obj, key) != value):
            other = ctx.session.scalars(select(model).where(col == value).limit(1)).first()
            if other is not None:
                owner = getattr(other, "ref", None) or f"#{other.id}"  # type: ignore[attr-defined]
                raise RowError(f"字段 {key} 的值 {value} 已被 {owner} 使用")
        out[key] = value
    return out


def upsert(
    ctx: ImportContext,
    model: type[M],
    ref: str | None,
    values: dict[str, Any],
    *,
    find: Callable[[], M | None] | None = None,
    defaults: Callable[[], dict[str, Any]] | None = None,
    sync: Callable[[M], None] | None = None,
    extra: Callable[[M], dict[str, Any]] | None = None,
) -> tuple[Outcome, M]:
    """Find by ``ref`` (or ``find``), create with ``defaults()`` if new, set the values that differ,
    let ``sync`` reconcile child rows, and audit — unless nothing changed at all.

    ``extra`` adds child state (tags, members …) to the audit snapshot, so a change there counts too.
    """
    session = ctx.session
    if find is not None:
        obj = find()
    else:
        id_ = ctx.id_of(model, ref) if ref is not None else None
        obj = session.get(model, id_) if id_ is not None else None
    values = _column_values(ctx, model, obj, values)

    def state(o: M) -> dict[str, Any]:
        data = extra(o) if extra else {}
        if "created_at" in values:  # left out of snapshots by default, but an import may set it
            data["created_at"] = o.created_at  # type: ignore[attr-defined]
        return audit.snapshot(o, data)

    before = state(obj) if obj is not None else None
    created = obj is None
    if obj is None:
        fields = {**({"ref": ref} if ref is not None else {}), **(defaults() if defaults else {}), **values}
        obj = model(**fields)
        session.add(obj)
    else:
        for key, value in values.items():
            if getattr(obj, key) != value:
                setattr(obj, key, value)
    session.flush()
    if sync is not None:
        sync(obj)
        session.flush()
    after = state(obj)
    if not created and after == before:
        return "unchanged", obj
    audit.record(session, ctx.actor, "import.create" if created else "import.update", obj, before, after)
    if created and ref is not None:
        ctx.remember(model, ref, obj.id)  # type: ignore[attr-defined]
    return ("created" if created else "updated"), obj


def replace_children(children: list[Any], wanted: list[Any], key: Callable[[Any], Any], session: Session) -> bool:
    """Make ``children`` (a delete-orphan collection) hold exactly ``wanted``, compared by ``key``.

    Removals are flushed before additions so unique constraints on the child rows never trip.
    Returns whether anything changed.
    """
    wanted_keys = [key(w) for w in wanted]
    stale = [c for c in children if key(c) not in wanted_keys]
    present = {key(c) for c in children} - {key(c) for c in stale}
    for child in stale:
        children.remove(child)
    if stale:
        session.flush()
    added = [w for w, k in zip(wanted, wanted_keys, strict=True) if k not in present]
    children.extend(added)
    return bool(stale or added)
