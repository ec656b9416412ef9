"""Bulk writes for the scheduled jobs: thousands of rows in one statement on either engine.

SQLite takes a Core ``executemany`` (in-process, cheap per row). On PostgreSQL the same goes through
SQLAlchemy's "insertmanyvalues" as huge multi-row VALUES lists, which costs tens of microseconds per
row; here the rows travel as one JSON text parameter and ``json_to_recordset`` turns them back into
typed rows — one statement, one round trip. JSON rather than one array per column: psycopg adapts a
list value by value in Python (as much as 35 µs a row for an outbox message), ``json.dumps`` in C,
and the server parses JSON faster than array literals (see docs/benchmarks.md, "Proactive pushes").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Row,
    Table,
    insert,
    text,
    update,
)
from sqlalchemy.orm import Session

from crm_core.models.base import UTCDateTime


def _pg_type(column: Any) -> str:
    kind = column.type
    if isinstance(kind, UTCDateTime | DateTime):
        return "timestamptz"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):
        return "int8"
    if isinstance(kind, Numeric | Float):
        return "numeric"
    if isinstance(kind, JSON):
        return "json"
    return "text"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a bulk row")


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _source(table: Table, rows: Sequence[dict[str, Any]], names: list[str]) -> tuple[str, dict[str, Any]]:
    """``SELECT "a", "b" … FROM json_to_recordset(:rows)``: the rows as one JSON parameter, typed on the server."""
    record = ", ".join(f'"{n}" {_pg_type(table.c[n])}' for n in names)
    payload = json.dumps([{n: r.get(n) for n in names} for r in rows], ensure_ascii=False, default=_json_default)
    return f"SELECT {_quoted(names)} FROM json_to_recordset(CAST(:rows AS json)) AS v({record})", {"rows": payload}


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, returning: Sequence[str] = (),
                on_conflict_do_nothing: Sequence[str] = ()) -> list[Row[Any]]:
    """Insert ``rows`` (dicts with the same keys); with ``returning``, the inserted rows' columns come back
    (with ``on_conflict_do_nothing``, only rows that did not clash with that unique key)."""
    if not rows:
        return []
    names = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt: Any = sqlite_insert(table) if on_conflict_do_nothing else insert(table)
        if on_conflict_do_nothing:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(on_conflict_do_nothing))
        if returning:
            stmt = stmt.returning(*(table.c[n] for n in returning))
            out: list[Row[Any]] = []
            for start in range(0, len(rows), 500):
                out.extend(session.execute(stmt, list(rows[start:start + 500])))
            return out
        session.execute(stmt, list(rows))
        return []
    source, params = _source(table, rows, names)
    sql = f"INSERT INTO {table.name} ({_quoted(names)}) {source}"
    if on_conflict_do_nothing:
        sql += f" ON CONFLICT ({', '.join(on_conflict_do_nothing)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
        return list(session.execute(text(sql), params))
    session.execute(text(sql), params)
    return []


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Set the other columns of each row where ``table.key`` equals the row's ``key`` value."""
    if not rows:
        return
    names = list(rows[0])
    others = [n for n in names if n != key]
    if session.get_bind().dialect.name != "postgresql":
        from sqlalchemy import bindparam

        stmt = update(table).where(table.c[key] == bindparam(f"b_{key}")).values({n: bindparam(f"b_{n}") for n in others})
        session.execute(stmt, [{f"b_{n}": r[n] for n in names} for r in rows])
        return
    source, params = _source(table, rows, names)
    sets = ", ".join(f'"{n}" = s."{n}"' for n in others)
    session.execute(text(f'UPDATE {table.name} AS t SET {sets} FROM ({source}) AS s WHERE t."{key}" = s."{key}"'), params)
