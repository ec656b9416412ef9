"""Push-job benchmark: one full pass of every job over 1,000,000 tasks and 100,000 customers.

    python -m bench.bench_jobs [--scale 1.0] [--database-url URL] [--keep DIR] [--record]

A SQLite file (and/or ``--database-url``, e.g. PostgreSQL) gets the synthetic agency of
``bench/jobs_data.py`` (Core bulk inserts). Each pass runs in its own subprocess (so its peak RSS is
its own) on a weekday morning, after the push state (ledger, outbox, risk scores, leases) is reset so
that every pass does the same work:

- ``first``: the day's first pass — every item is new; the customers of the day's blocks and up to
  ``CHURN_FIRST_SCORES_PER_RUN`` more get their first risk score (the rest of a never-scored agency over the week);
- ``rerun``: the same pass again at once — everything already pushed, scores unchanged;
- ``no-index``: ``first`` without this feature's indexes (``ix_tasks_title_history``,
  ``ix_tasks_kind_history``) — the baseline the ratio is against.

Before each pass the night's ``churn_model`` job runs at 03:00 (on the first pass it fits the model: 3,000
labelled contracts); its database time is reported on its own, the pass is the push jobs at 09:00.

Database time is the time spent inside the DB-API driver (execute, fetch and commit), measured by wrapping
its connection; wall time includes Python (rendering, scoring). Peak RSS is the pass process's maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bench.record import load_average

TODAY = date(2026, 12, 2)  # a Wednesday
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SECTION = "## Proactive pushes"
SPEED = "### Speed"
INDEXES = {"ix_tasks_title_history": "tasks (title, status, completed_at)",
           "ix_tasks_kind_history": "tasks (kind, status, completed_at)"}
COUNTED = ("tasks", "customers", "projects", "staff", "opportunities", "payments", "interactions", "proposals", "tickets")
STATE_TABLES = ("push_ledger", "outbox", "job_runs", "customer_risk", "risk_scores", "risk_models")


# --- database time: wrap the DB-API connection and its cursors --------------------------------------


class Clock:
    seconds = 0.0
    statements = 0
    by_statement: ClassVar[dict[str, float]] = {}  # with BENCH_JOBS_TOP=N: seconds per statement text (fetches included)
    current = ""


def _statement(sql: Any) -> str:
    return " ".join(str(sql).split())[:160]


def _timed(fn: Any, statement: bool = False, key: str | None = None) -> Any:
    """``fn``, timed; its time is charged to ``key`` (a fetch: its cursor's statement), else to the statement
    it executes, else to the last one executed (a commit)."""
    def call(*args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        if statement:
            Clock.current = _statement(args[1] if len(args) > 1 and not isinstance(args[0], str) else args[0])
        charged = key if key is not None else Clock.current
        try:
            return fn(*args, **kw)
        finally:
            spent = time.perf_counter() - start
            Clock.seconds += spent
            Clock.by_statement[charged] = Clock.by_statement.get(charged, 0.0) + spent
    return call


class TimedCursor:
    def __init__(self, cursor: Any) -> None:
        object.__setattr__(self, "_c", cursor)
        object.__setattr__(self, "_sql", "")

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._c, name)
        if name in ("execute", "executemany"):
            Clock.statements += 1

            def run(sql: Any, *args: Any, **kw: Any) -> Any:
                object.__setattr__(self, "_sql", _statement(sql))
                return _timed(attr, key=self._sql)(sql, *args, **kw)
            return run
        if name in ("fetchone", "fetchmany", "fetchall", "scroll"):
            return _timed(attr, key=self._sql)  # a streamed result's fetches belong to its own statement
        return attr

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._c, name, value)

    def __iter__(self) -> Any:
        return iter(self._c)

    def __enter__(self) -> TimedCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._c.close()


class TimedConnection:
    def __init__(self, conn: Any) -> None:
        object.__setattr__(self, "_conn", conn)

    def cursor(self, *args: Any, **kw: Any) -> TimedCursor:
        return TimedCursor(self._conn.cursor(*args, **kw))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        return _timed(attr) if name in ("commit", "rollback", "execute") else attr

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)


def _psycopg_timed() -> tuple[type, type]:
    import psycopg

    def timed_class(base: type) -> type:
        def fetching(name: str) -> Any:
            def fetch(self: Any, *args: Any, **kw: Any) -> Any:  # charged to this cursor's statement
                return _timed(getattr(base, name), key=getattr(self, "_bench_sql", ""))(self, *args, **kw)
            return fetch

        def executing(name: str) -> Any:
            def execute(self: Any, query: Any, *args: Any, **kw: Any) -> Any:
                Clock.statements += 1
                self._bench_sql = _statement(query)
                return _timed(getattr(base, name), key=self._bench_sql)(self, query, *args, **kw)
            return execute

        methods = {name: fetching(name) for name in ("fetchone", "fetchmany", "fetchall")}
        return type(f"Timed{base.__name__}", (base,), {**methods, "execute": executing("execute"),
                                                        "executemany": executing("executemany")})

    return timed_class(psycopg.Cursor), timed_class(psycopg.ServerCursor)


def timed_database(url: str) -> Any:
    """A ``crm_core.db.Database`` whose driver calls are timed (cursor classes for psycopg, a proxy for sqlite3)."""
    from crm_core.db import Database, _sqlite_pragmas, normalise_url

    db = Database(url)
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        cursor, server_cursor = _psycopg_timed()

        def use_timed(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.cursor_factory, dbapi_conn.server_cursor_factory = cursor, server_cursor

        event.listen(db.engine, "connect", use_timed)
        dialect = db.engine.dialect
        dialect.do_commit = _timed(dialect.do_commit)  # type: ignore[method-assign]  # waits for the server's flush
        return db
    dialect = db.engine.dialect
    cargs, cparams = dialect.create_connect_args(parsed)
    cparams["check_same_thread"] = False

    def creator() -> Any:
        return TimedConnection(dialect.connect(*cargs, **cparams))

    engine = create_engine(parsed, creator=creator)
    event.listen(engine, "connect", lambda c, r: _sqlite_pragmas(c._conn, r))
    db.engine.dispose()
    db.engine = engine
    db._factory = sessionmaker(engine, expire_on_commit=False)  # type: ignore[attr-defined]
    return db


# --- one pass (subprocess) ------------------------------------------------------------------------


def run_pass(url: str, now: datetime = NOW) -> dict[str, Any]:
    from bot.jobs import PUSH_JOBS, JobRunner
    from config.settings import load_settings

    db = timed_database(url)
    settings = load_settings(database_url=url, nlu_embeddings=False)
    runner = JobRunner(db, settings)
    Clock.seconds = 0.0
    [model] = runner.run(["churn_model"], now.replace(hour=3, minute=0))  # the night before, on its own
    model_s = Clock.seconds
    Clock.seconds, Clock.statements, Clock.by_statement = 0.0, 0, {}
    per_job: dict[str, tuple[float, float]] = {}
    run_job = runner.run_job

    def timed_job(name: str, moment: datetime | None = None) -> Any:
        before, began = Clock.seconds, time.perf_counter()
        result = run_job(name, moment)
        per_job[name] = (round(Clock.seconds - before, 3), round(time.perf_counter() - began, 3))
        return result

    runner.run_job = timed_job  # type: ignore[method-assign]
    start = time.perf_counter()
    results = runner.run(PUSH_JOBS, now)  # one pass of the push jobs at one moment, as `crmbot jobs run --once`
    wall = time.perf_counter() - start
    top = int(os.environ.get("BENCH_JOBS_TOP", "0"))
    for sql, spent in sorted(Clock.by_statement.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{spent:7.3f} s  {sql}", file=sys.stderr)
    db_seconds, statements = Clock.seconds, Clock.statements
    with db.engine.connect() as conn:
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"db_s": round(db_seconds, 3), "wall_s": round(wall, 3), "statements": statements,
            "peak_rss_mb": round(rss_kb / 1024, 1), "outbox_rows": outbox,
            "model": {"db_s": round(model_s, 3), "trained": bool(model.extra.get("trained")), "note": model.note},
            "jobs": {r.job: {"status": r.status, "messages": r.messages, "items": r.items, "already": r.already,
                             "db_s": per_job[r.job][0], "wall_s": per_job[r.job][1],
                             **({"note": r.note} if r.note else {})} for r in results}}


def _overnight(url: str) -> None:
    """What PostgreSQL's autovacuum does between two runs a day apart: fresh planner statistics, and the
    visibility map that lets index-only scans skip the table."""
    from crm_core.db import Database

    db = Database(url)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    db.dispose()


def _subprocess_pass(url: str, now: datetime = NOW) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.bench_jobs", "--pass-only", url, "--now", now.isoformat()],
                         check=True, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- driver ---------------------------------------------------------------------------------------


def _reset(url: str) -> None:
    """Empty the push state, as on an installation that never ran the jobs. On PostgreSQL by TRUNCATE: a DELETE
    would leave the previous pass's rows behind as dead tuples that the next pass's scans and index checks wade
    through until autovacuum comes."""
    from crm_core.db import Database

    db = Database(url)
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(STATE_TABLES)}"))
        else:
            for table in STATE_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
    db.dispose()


def _indexes(url: str, present: bool) -> None:
    from crm_core.db import Database

    db = Database(url)
    with db.engine.begin() as conn:
        for name, spec in INDEXES.items():
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
            if present:
                conn.execute(text(f"CREATE INDEX {name} ON {spec}"))
        conn.execute(text("ANALYZE"))
    db.dispose()


def prepare(url: str, scale: float, *, regenerate: bool = False) -> dict[str, int]:
    from bench.jobs_data import generate
    from crm_core.db import Database
    from crm_core.models import Task
    from crm_core.schema import upgrade

    db = Database(url)
    upgrade(db)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Task.__table__)).scalar() or 0
    if regenerate or have != int(1_000_000 * scale):
        if db.dialect == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.dispose()
            Path(make_url(url).database or "").unlink(missing_ok=True)
            db = Database(url)
        upgrade(db)
        started = time.perf_counter()
        with db.engine.begin() as conn:
            generate(conn, TODAY, scale=scale, progress=lambda t, n: print(f"\r{t}: {n:,}  ", end="", file=sys.stderr))
        print(f"\ngenerated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        _indexes(url, True)
    db.dispose()
    return _counts(url)


@dataclass
class Row:
    engine: str
    label: str
    figures: dict[str, Any]


def bench(url: str, engine: str) -> list[Row]:
    rows = []
    _reset(url)
    _overnight(url)  # freshly generated tables have never been vacuumed (autovacuum may be off, as on this machine)
    rows.append(Row(engine, "first", _subprocess_pass(url)))
    rows.append(Row(engine, "rerun", _subprocess_pass(url)))
    _overnight(url)
    rows.append(Row(engine, "next day", _subprocess_pass(url, NOW + timedelta(days=1))))
    _reset(url)
    _indexes(url, False)
    try:
        rows.append(Row(engine, "no-index", _subprocess_pass(url)))
    finally:
        _indexes(url, True)
        _reset(url)
    return rows


def report(rows: list[Row], counts: dict[str, int]) -> str:
    lines = [SPEED, "",
             "`python -m bench.bench_jobs [--database-url postgresql://…]` — every push job once (churn scoring, digest, "
             "overdue tasks, due soon, follow-ups, payments, SLA) as of a weekday 09:00, each pass in a fresh process, "
             "after the night's churn-model job at 03:00 (timed on its own). Database time includes commits. "
             "Scale: " + ", ".join(f"{v:,} {k}" for k, v in counts.items() if v) + " (`bench/jobs_data.py`).", "",
             "| engine | pass | database s | wall s | peak RSS MB | outbox rows after | database time vs no-index "
             "| 03:00 model job database s |",
             "|---|---|---|---|---|---|---|---|"]
    base = {r.engine: r.figures["db_s"] for r in rows if r.label == "no-index"}
    for r in rows:
        f = r.figures
        ratio = f"{base[r.engine] / f['db_s']:.1f}× less" if r.label != "no-index" and f["db_s"] else "baseline"
        night = f.get("model", {})
        trained = " (trained)" if night.get("trained") else ""
        lines.append(f"| {r.engine} | {r.label} | {f['db_s']:.2f} | {f['wall_s']:.2f} | {f['peak_rss_mb']:.0f} | "
                     f"{f['outbox_rows']:,} | {ratio} | {night.get('db_s', 0):.2f}{trained} |")
    jobs = [j for j in rows[0].figures["jobs"]] if rows else []
    lines += ["", "Database seconds per job:", "", "| engine | pass | " + " | ".join(jobs) + " |",
              "|---|---|" + "---|" * len(jobs)]
    for r in rows:
        lines.append(f"| {r.engine} | {r.label} | " + " | ".join(f"{r.figures['jobs'][j]['db_s']:.2f}" for j in jobs) + " |")
    first = next((r for r in rows if r.label == "first"), None)
    if first:
        j = first.figures["jobs"]
        lines += ["", "What the first pass pushed: " + "; ".join(
            f"{name} {v['messages']:,} messages / {v['items']:,} items" for name, v in j.items()) + "."]
        if j.get("churn_risk", {}).get("note"):
            lines.append(f"Churn scoring, first pass: {j['churn_risk']['note']}.")
    lines += ["", f"Machine: {os.cpu_count()} CPUs (shared), load {load_average()}, "
              f"{datetime.now().astimezone().isoformat(timespec='seconds')}."]
    return "\n".join(lines) + "\n"


def rows_from_log(path: str) -> list[Row]:
    """The rows a previous run printed (``ENGINE LABEL {json}``), to write up without running again."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(("SQLite ", "PostgreSQL ")) and " {" in line:
            engine, rest = line.split(" ", 1)
            label, figures = rest.split(" {", 1)
            out.append(Row(engine, label, json.loads("{" + figures)))
    return out


def _targets(args: argparse.Namespace) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    if not args.no_sqlite:
        folder = Path(args.keep or tempfile.mkdtemp(prefix="crmbot-bench-jobs-"))
        folder.mkdir(parents=True, exist_ok=True)
        targets.append(("SQLite", f"sqlite:///{folder / f'jobs-{args.scale:g}.db'}"))
    return targets + [("PostgreSQL" if u.startswith("postgres") else u.split(":")[0], u) for u in args.database_url]


def _counts(url: str) -> dict[str, int]:
    from crm_core.db import Database

    db = Database(url)
    with db.engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0 for t in COUNTED}
    db.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", action="append", default=[], help="also run on this database (e.g. PostgreSQL)")
    parser.add_argument("--keep", help="directory for the SQLite file (kept between runs; default: a temp dir)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--record", action="store_true", help="write the figures into docs/benchmarks.md")
    parser.add_argument("--regenerate", action="store_true", help="generate the data again even if it is there")
    parser.add_argument("--pass-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    parser.add_argument("--from-log", help="write up the figures a previous run printed (with --record)")
    args = parser.parse_args()
    if args.pass_only:
        print(json.dumps(run_pass(args.pass_only, datetime.fromisoformat(args.now) if args.now else NOW),
                         ensure_ascii=False))
        return
    if args.from_log:
        logged = rows_from_log(args.from_log)
        block = report(logged, _counts(_targets(args)[0][1]))
        print(block)
        if args.record:
            from bench.record import record_section

            record_section(block, SECTION, SPEED)
        return
    os.environ.setdefault("CRMBOT_JOBS_SCHEDULER", "false")
    rows: list[Row] = []
    counts: dict[str, int] = {}
    for engine, url in _targets(args):
        counts = prepare(url, args.scale, regenerate=args.regenerate) or counts
        for row in bench(url, engine):
            print(engine, row.label, json.dumps(row.figures, ensure_ascii=False), flush=True)
            rows.append(row)
    text_block = report(rows, counts)
    print(text_block)
    if args.record:
        from bench.record import record_section

        record_section(text_block, SECTION, SPEED)


if __name__ == "__main__":
    main()
