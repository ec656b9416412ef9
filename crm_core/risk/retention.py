"""A retention suggestion for a customer at risk: three relevant, high-performing cases from the case
library, and the service the customer's tier is offered (the tier playbooks in ``config/vocab/tiering.json``).

Relevance: same industry first, then channels the customer is tagged with (小红书, 抖音 …), then
performance — the mean percentile of the case's conversion, ROI and click-through (cost metrics
count inverted) across the whole library, so "high-performing" means better than most of our cases.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.vocab import load
from crm_core.models import Case

UP = ("cvr", "roi", "ctr", "engagement", "gmv")
DOWN = ("cpl", "cpa")
POOR = 0.25  # performance percentile under which a case is only a last resort
FALLBACK_PLAYBOOKS = {
    "战略级": ["资深客户经理牵头", "案例库专属推荐", "投放效果 1v1 复盘"],
    "成长级": ["推送同行业高转化案例", "创意策略诊断（增值服务）"],
    "常规级": ["标准化服务包", "月度跟进"],
}
DEFAULT_OFFER = ["客户经理尽快回访，了解预算与需求变化"]


@dataclass(frozen=True)
class CaseSuggestion:
    ref: str | None
    title: str
    industry: str | None
    format: str | None
    highlights: list[str]  # up to two metrics as written, e.g. "转化率 6.1%"


def tier_offer(tier: str | None) -> list[str]:
    try:
        playbooks: dict[str, list[str]] = load("tiering").get("playbooks", {})
    except (FileNotFoundError, ValueError):
        playbooks = {}
    return list(playbooks.get(tier or "") or FALLBACK_PLAYBOOKS.get(tier or "") or DEFAULT_OFFER)


class CaseLibrary:
    """The case library with each case's performance percentile, loaded once per job run."""

    def __init__(self, session: Session) -> None:
        rows = list(session.execute(select(Case.id, Case.ref, Case.title, Case.industry, Case.format, Case.channels,
                                           Case.metrics, Case.metrics_norm, Case.year)))
        columns: dict[str, list[float]] = {}
        for r in rows:
            for key, value in (r.metrics_norm or {}).items():
                if isinstance(value, int | float):
                    columns.setdefault(key, []).append(float(value))
        for values in columns.values():
            values.sort()
        self._cases = [(r, self._performance(r.metrics_norm or {}, columns)) for r in rows]

    @staticmethod
    def _performance(norm: dict[str, Any], columns: dict[str, list[float]]) -> float | None:
        parts = []
        for key in (*UP, *DOWN):
            value, column = norm.get(key), columns.get(key)
            if not isinstance(value, int | float) or not column:
                continue
            pct = (bisect_left(column, float(value)) + bisect_right(column, float(value))) / (2 * len(column))
            parts.append(pct if key in UP else 1 - pct)
        return sum(parts) / len(parts) if parts else None

    def suggest(self, industry: str | None, tags: Sequence[str] = (), k: int = 3) -> list[CaseSuggestion]:
        """Most relevant first; within the same relevance, good performers before poor ones (bottom quarter)."""
        wanted = set(tags)

        def rank(entry: tuple[Any, float | None]) -> tuple[int, int, bool, float, int]:
            r, perf = entry
            same = int(bool(industry) and r.industry == industry)
            overlap = len(wanted & set(r.channels or [])) + int(bool(r.format) and r.format in wanted)
            score = perf if perf is not None else 0.0
            return (-same, -overlap, score < POOR, -score, -(r.year or 0))

        out = []
        for r, _ in sorted(self._cases, key=rank)[:k]:
            metrics = [f"{name} {value}" for name, value in list((r.metrics or {}).items())[:2]]
            out.append(CaseSuggestion(r.ref, r.title, r.industry, r.format, metrics))
        return out
