"""Stored churn scores: the current one per customer and a history row whenever it moved.

A customer is *above* the alert threshold from the day its score reaches it until it falls
``HYSTERESIS`` points below, so a score wobbling around the threshold does not alert every week.
Crossing upwards is recorded on the history row (``crossed``); the alert job reads crossings from
there, so an alert survives a crash between scoring and pushing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import CustomerRisk, RiskScore
from crm_core.risk.features import Features
from crm_core.risk.rules import Scored
from crm_core.services import bulk

HYSTERESIS = 10
MIN_CHANGE = 3  # smaller moves are noise: no new history row
METHOD_LABELS = {"rules": "规则评分", "model": "模型评分", "insufficient": "数据不足"}


def record(session: Session, scored: Mapping[int, Scored], features: Mapping[int, Features], *, as_of: date,
           threshold: int, now: datetime, scope: tuple[int, int] | None = None) -> int:
    """Store this chunk's scores (``scope``: the id range they come from); returns how many customers
    crossed the threshold upwards. A customer's first score is its current row; the history gets a row
    when a score moves or crosses — and for a first score that is already at or over the threshold."""
    ids = list(scored)
    where = CustomerRisk.customer_id.between(*scope) if scope else CustomerRisk.customer_id.in_(ids)
    current = {r.customer_id: r for r in session.execute(
        select(CustomerRisk.customer_id, CustomerRisk.score, CustomerRisk.method, CustomerRisk.signal_keys,
               CustomerRisk.above, CustomerRisk.above_since).where(where))}
    history: list[dict[str, object]] = []
    state: dict[int, dict[str, object]] = {}
    crossings = 0
    for cid, s in scored.items():
        prev = current.get(cid)
        was_above = bool(prev.above) if prev else False
        if s.score is None:
            above = was_above  # no data is no news: keep the state, never call it "safe"
        else:
            above = s.score >= threshold or (was_above and s.score >= threshold - HYSTERESIS)
        crossed = above and not was_above
        crossings += crossed
        if prev is not None and not crossed and above == was_above and prev.method == s.method \
                and list(prev.signal_keys or []) == s.keys and _close(prev.score, s.score):
            continue
        if prev is not None or above:
            # the inputs are kept where someone will ask "why": at or above the threshold
            inputs = {"values": features[cid].values, "facts": features[cid].facts} if above else {}
            history.append({"customer_id": cid, "as_of": as_of, "scored_at": now, "score": s.score, "method": s.method,
                            "reasons": s.reasons, "features": inputs, "above": above, "crossed": crossed})
        since = (as_of if crossed else prev.above_since if prev else None) if above else None
        state[cid] = {"score": s.score, "method": s.method, "reasons": s.reasons, "signal_keys": s.keys,
                      "as_of": as_of, "above": above, "above_since": since, "new": prev is None}
    ids_by_customer = {r.customer_id: r.id for r in bulk.insert_rows(session, RiskScore.__table__, history,
                                                                     returning=("id", "customer_id"))}
    rows = [{"customer_id": cid, **{k: v for k, v in s.items() if k != "new"}, "history_id": ids_by_customer.get(cid)}
            for cid, s in state.items()]
    bulk.insert_rows(session, CustomerRisk.__table__, [r for r in rows if state[r["customer_id"]]["new"]])
    bulk.update_rows(session, CustomerRisk.__table__, "customer_id",
                     [r for r in rows if not state[r["customer_id"]]["new"]])
    return crossings


def _close(before: int | None, after: int | None) -> bool:
    if before is None or after is None:
        return before is after
    return abs(before - after) < MIN_CHANGE


def current(session: Session, customer_ids: list[int]) -> dict[int, CustomerRisk]:
    if not customer_ids:
        return {}
    return {r.customer_id: r for r in session.scalars(
        select(CustomerRisk).where(CustomerRisk.customer_id.in_(customer_ids)))}


def band(score: int, threshold: int) -> str:
    if score >= threshold:
        return "高"
    return "中" if score >= threshold // 2 else "低"


def describe(row: CustomerRisk | None, threshold: int) -> str | None:
    """The one line ``/风险`` and the customer profile both show. None: never scored."""
    if row is None:
        return None
    if row.score is None:
        return f"数据不足，暂无法评估（不代表没有风险；{row.as_of.isoformat()} 评估）"
    why = "；".join(row.reasons) if row.reasons else "未发现明显风险信号"
    return (f"{row.score}/100（{band(row.score, threshold)}风险，{METHOD_LABELS.get(row.method, row.method)}，"
            f"{row.as_of.isoformat()} 评估）：{why}")
