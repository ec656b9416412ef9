"""Statements that run on every message, compiled once per dialect and run on the DBAPI cursor.

SQLAlchemy spends 50–80 µs of Python on each statement it executes (execution context, parameter
construction, result metadata, events) — for the ten small reads of a ``/客户`` card, more than the
database spends answering them (docs/benchmarks.md, "Channels"). A ``HotRead`` does that work once
per dialect: it keeps the statement's SQL, its parameter order, the bind processors of the
parameters a caller passes and the result processors of its columns — all taken from SQLAlchemy's
own compiled form, so values go in and come out exactly as ``Connection.execute`` would give them —
and then runs the SQL directly on the connection's DBAPI cursor, inside the same transaction.

Only for statements whose parameters are scalars named by ``bindparam(key)``; constant ``IN`` lists
are expanded once. Anything else is refused when the statement is first planned.

``HotWrite`` is the same for an INSERT or UPDATE (with or without RETURNING) whose every value is
given: a column the statement leaves to a Python-side default (``default=``, ``onupdate=``) is
refused, since SQLAlchemy's execution context, which would fill it, is not there. Run inside a
transaction, a write first takes the process's SQLite writer queue (``crm_core.db.note_write``), as
``Connection.execute`` does through its event; ``Database.commit_alone`` runs one in a transaction
of its own.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, Select, Update
from sqlalchemy.engine import Dialect


@dataclass
class _Plan:
    sql: str
    order: tuple[str, ...] | None  # positional paramstyles: parameter names in SQL order
    defaults: dict[str, Any]  # constants of the statement (LIMIT, literals, IN lists), already processed
    processors: dict[str, Callable[[Any], Any]]  # bind processors of the caller's parameters
    row: Any  # namedtuple class with the statement's result keys
    types: list[Any]  # the result columns' SQLAlchemy types
    dialect: Dialect
    # per column, known after the first run; empty when no column needs converting
    results: list[Callable[[Any], Any] | None] | None = None


class HotRead:
    """A SELECT compiled once per dialect and executed without SQLAlchemy's per-statement work.

    ``rows``/``first`` return named tuples (attribute access by the same keys as a Row, and
    unpacking), with values converted exactly as SQLAlchemy converts them."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Select[Any] | Insert | Update) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self.run(conn.connection.dbapi_connection, conn.dialect, params)

    def run(self, dbapi_connection: Any, dialect: Dialect, params: Mapping[str, Any] | None = None) -> list[Any]:
        """On a DBAPI connection directly, in whatever transaction it has open."""
        plan = self._plans.get(dialect.name) or self._plan(dialect)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(plan.sql, self._arguments(plan, params or {}))
            if plan.results is None:
                self._learn(plan, cursor.description or ())
            raw = cursor.fetchall() if plan.types else []
        finally:
            cursor.close()
        make, results = plan.row._make, plan.results
        if not results:
            return [make(r) for r in raw]
        return [make([v if p is None or v is None else p(v) for p, v in zip(results, r, strict=True)]) for r in raw]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        found = self.rows(conn, params)
        return found[0] if found else None

    @staticmethod
    def _arguments(plan: _Plan, params: Mapping[str, Any]) -> Any:
        values = dict(plan.defaults)
        for key, value in params.items():
            if key not in values:
                raise KeyError(f"statement has no parameter {key!r}")
            process = plan.processors.get(key)
            values[key] = value if process is None else process(value)  # None too, as SQLAlchemy does (JSON: 'null')
        return values if plan.order is None else tuple(values[name] for name in plan.order)

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        defaulted = [*getattr(compiled, "insert_prefetch", ()), *getattr(compiled, "update_prefetch", ())]
        if defaulted:
            raise ValueError(f"HotRead: give a value for {', '.join(c.key for c in defaulted)} (a Python-side default)")
        given = {bind.key for bind in compiled.bind_names if bind.value is None and not bind.callable}
        for bind, name in compiled.bind_names.items():
            if bind.key in given and (name != bind.key or bind.expanding):
                raise ValueError(f"HotRead: parameter {bind.key!r} must be a plain bindparam(key)")
        defaults = compiled.construct_params(_check=False)
        sql, order, processors = compiled.string, compiled.positiontup, dict(compiled._bind_processors)
        if compiled.post_compile_params:  # constant IN lists: expanded once, they never change
            expanded = compiled._process_parameters_for_postcompile(defaults, _populate_self=False)
            sql, order, defaults = expanded.statement, expanded.positiontup, dict(expanded.parameters)
            processors.update(expanded.processors)
        for name, value in defaults.items():
            process = processors.get(name)
            if name not in given and process is not None and value is not None and not isinstance(process, tuple):
                defaults[name] = process(value)
        keys = [column[0] for column in compiled._result_columns]
        plan = _Plan(sql=sql, order=tuple(order) if order is not None else None, defaults=defaults,
                     processors={k: p for k, p in processors.items() if k in given and callable(p)},
                     row=namedtuple("HotRow", keys, rename=True),  # type: ignore[misc]
                     types=[column[3] for column in compiled._result_columns], dialect=dialect)
        self._plans[dialect.name] = plan
        return plan

    @staticmethod
    def _learn(plan: _Plan, description: Any) -> None:
        """Result processors as SQLAlchemy picks them: by column type and the driver's column type code."""
        if len(description) != len(plan.types):
            raise ValueError("HotRead: the driver returned other columns than the statement selects")
        processors = [type_._cached_result_processor(plan.dialect, column[1])
                      for type_, column in zip(plan.types, description, strict=True)]
        plan.results = processors if any(processors) else []


class HotWrite(HotRead):
    """An INSERT or UPDATE compiled once per dialect, run on the DBAPI cursor of the caller's transaction.

    ``rows`` returns what its RETURNING clause returns (nothing without one)."""

    __slots__ = ()

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        from crm_core.db import note_write

        note_write(conn)
        return super().rows(conn, params)
