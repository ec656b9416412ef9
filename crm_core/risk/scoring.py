"""Score every customer (chunk by chunk, bounded memory) and store the scores with their history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.db import refresh_statistics
from crm_core.models import Customer, CustomerRisk
from crm_core.risk import history
from crm_core.risk.features import FeatureStream, extract
from crm_core.risk.model import CHURNED_STATUSES, ChurnModel, active_model
from crm_core.risk.rules import rule_score
from crm_core.services.reminders import require_system

CHUNK = 5000
ANALYZE_AFTER = 20_000  # customers scored in one run


@dataclass
class ScoringRun:
    method: str  # model | rules
    model_id: int | None = None
    customers: int = 0
    scored: int = 0
    insufficient: int = 0
    crossed: int = 0
    waiting: int = 0  # never scored, left for a later run by ``first_scores``


def score_all(session: Session, actor: Actor, now: datetime, tz: ZoneInfo, *, threshold: int, rescore_days: int = 1,
              first_scores: int | None = None, commit: Callable[[], None] | None = None, chunk: int = CHUNK,
              reader: Session | None = None) -> ScoringRun:
    """Score customers as of ``now``'s local day: those never scored, and the id blocks due today —
    with ``rescore_days`` = N, block b (ids b·chunk … b·chunk + chunk − 1) is due when b ≡ day (mod N),
    so every customer is re-scored every N days and a run reads 1/N of the data. Never-scored customers outside
    today's blocks are scored at once, lowest ids first, up to ``first_scores`` a run (None: all); the rest wait
    for a later run or their block's day, whichever comes first — so a bulk import of a whole agency is scored
    over the first N days, not in one run that reads every table in full. ``commit`` after each chunk.
    ``reader``: a second session; when at least half the blocks are to be scored (``rescore_days`` = 1, or a
    first run without a ``first_scores`` limit), the features come from one scan of each table through it (``FeatureStream``)
    rather than from index probes block by block."""
    require_system(actor)
    now = now.astimezone(tz)
    as_of: date = now.date()
    model: ChurnModel | None = active_model(session)  # trained by the churn_model job
    run = ScoringRun(method="model" if model else "rules", model_id=model.model_id if model else None)
    current = Customer.status.not_in(CHURNED_STATUSES)
    top = session.scalar(select(func.max(Customer.id))) or 0
    today = as_of.toordinal() % max(1, rescore_days)
    due = {b for b in range(top // chunk + 1) if b % max(1, rescore_days) == today}
    backlog = [cid for (cid,) in session.execute(
        select(Customer.id).outerjoin(CustomerRisk, CustomerRisk.customer_id == Customer.id)
        .where(current, CustomerRisk.customer_id.is_(None)).order_by(Customer.id)) if cid // chunk not in due]
    taken = backlog if first_scores is None else backlog[:first_scores]
    run.waiting = len(backlog) - len(taken)
    unscored: dict[int, list[int]] = {}
    for cid in taken:
        unscored.setdefault(cid // chunk, []).append(cid)
    blocks = sorted(due | set(unscored))
    stream = FeatureStream(reader, as_of, tz, batch=chunk) if reader is not None and 2 * len(blocks) > top // chunk else None
    for block in blocks:
        lo, hi = block * chunk, block * chunk + chunk - 1
        stmt = select(Customer.id, Customer.last_contact_at).where(current).order_by(Customer.id)
        if block in due or len(unscored[block]) * 4 >= chunk:
            scope: tuple[int, int] | list[int] = (lo, hi)  # an id range: index range scans, not long IN lists
            rows = list(session.execute(stmt.where(Customer.id.between(lo, hi))))
            if block not in due:
                wanted = set(unscored[block])
                rows = [r for r in rows if r[0] in wanted]
        else:
            scope = unscored[block]
            rows = list(session.execute(stmt.where(Customer.id.in_(scope))))
        if not rows:
            continue
        customers = [(r[0], r[1]) for r in rows]
        feats = stream.extract(customers, lo, hi) if stream else extract(session, customers, as_of, tz, scope, live=True)
        scored = {cid: (model.score(f) if model else rule_score(f)) for cid, f in feats.items()}
        run.customers += len(rows)
        run.insufficient += sum(1 for s in scored.values() if s.score is None)
        run.crossed += history.record(session, scored, feats, as_of=as_of, threshold=threshold, now=now,
                                      scope=scope if isinstance(scope, tuple) else None)
        if commit is not None:
            commit()
    run.scored = run.customers - run.insufficient
    if run.customers >= ANALYZE_AFTER:
        refresh_statistics(session, "customer_risk", "risk_scores")  # the alert query right after joins them
    return run
