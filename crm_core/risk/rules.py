"""The transparent rule score (0–100) and the Chinese reasons every score — rules or model — quotes.

Each rule looks at one feature, adds points when it is bad, and says why in words a manager would
use. The model (``crm_core.risk.model``) reuses ``reason_for`` so that both speak the same language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm_core.risk.features import Features

Points = Callable[[float], int]


@dataclass(frozen=True)
class Rule:
    feature: str
    points: Points


def _steps(*steps: tuple[float, int], above: bool = True) -> Points:
    """Points for the first step the value reaches (``above``: value ≥ step; else value ≤ step)."""
    def points(value: float) -> int:
        for bound, pts in steps:
            if (value >= bound) if above else (value <= bound):
                return pts
        return 0
    return points


# Weights: one strong signal (two months' silence, the open-rate signal, a contract ending without a
# renewal in sight) is "medium"; one with support (silence and an unanswered ticket) or two of them cross
# the default alert threshold (50), which is also the balanced model's decision boundary (p = 0.5).
RULES = (
    Rule("days_since_contact", _steps((90, 40), (60, 30), (30, 20), (14, 5))),
    Rule("proposal_open_rate", lambda v: 35 if v < 0.5 else 0),  # the named signal: under 50 %
    Rule("feedback_days", _steps((7, 10), (4, 5))),
    Rule("complaints_90d", lambda v: int(min(30, 20 * v))),
    Rule("tickets_90d", _steps((3, 5))),
    Rule("sla_breaches", _steps((1, 10))),
    Rule("overdue_payments", _steps((1, 15))),
    Rule("max_days_late", _steps((30, 10))),
    Rule("avg_payment_delay", _steps((15, 5))),
    Rule("budget_trend", _steps((-0.5, 25), (-0.3, 15), (-0.1, 5), above=False)),
    Rule("project_trend", _steps((-1.0, 15), (-0.5, 10), above=False)),
    Rule("renewal_gap", _steps((1, 25))),
)


def reason_for(feature: str, f: Features) -> str | None:
    """The sentence for one feature of one customer, or None when there is nothing to say."""
    v, facts = f.values.get(feature), f.facts
    if v is None:
        return None
    if feature == "days_since_contact":
        return f"已 {int(v)} 天没有互动（上次 {facts.get('last_contact', '—')}）"
    if feature == "proposal_open_rate":
        n, opened = facts.get("proposals", [0, 0])
        return f"近 {n} 次提案打开率 {round(100 * v)}%（{opened}/{n}），低于 50%" if v < 0.5 else \
            f"近 {n} 次提案打开率 {round(100 * v)}%"
    if feature == "feedback_days":
        return f"提案反馈平均要 {v:g} 天"
    if feature == "complaints_90d":
        return f"近 90 天投诉 {int(v)} 次" if v else None
    if feature == "tickets_90d":
        return f"近 90 天工单 {int(v)} 张" if v else None
    if feature == "sla_breaches":
        return f"{int(v)} 张工单超出服务时限未解决" if v else None
    if feature == "overdue_payments":
        return f"{int(v)} 笔回款逾期（最长 {facts.get('max_late', 0)} 天）" if v else None
    if feature == "max_days_late":
        return f"回款最长逾期 {int(v)} 天" if v else None
    if feature == "avg_payment_delay":
        return f"近一年回款平均延迟 {v:g} 天" if v else None
    if feature == "budget_trend":
        recent, before = facts.get("amounts", [0, 0])
        if v < 0:
            return f"近 12 个月合同额较前 12 个月下降 {round(-100 * v)}%（{recent / 1e4:g}万 vs {before / 1e4:g}万）"
        return None
    if feature == "project_trend":
        recent, before = facts.get("projects", [0, 0])
        return f"近半年项目 {recent} 个（前半年 {before} 个）" if v < 0 else None
    if feature == "renewal_gap":
        if not v:
            return None
        title, end = facts.get("renewal", ["合同", None])
        return f"合同「{title}」{end or ''} 到期，暂无续约商机"
    return None


@dataclass(frozen=True)
class Scored:
    score: int | None  # None: not enough data
    method: str  # rules | model | insufficient
    reasons: list[str]  # the top reasons, most important first
    keys: list[str]  # features behind the reasons (a change of reasons is a change of the score)


def rule_score(f: Features, top: int = 3) -> Scored:
    if not f.sufficient:
        return insufficient(f)
    hits = []
    for rule in RULES:
        value = f.values.get(rule.feature)
        if value is None:
            continue
        pts = rule.points(value)
        if pts > 0:
            hits.append((pts, rule.feature))
    hits.sort(key=lambda h: -h[0])
    reasons = [(key, reason_for(key, f)) for _, key in hits]
    shown = [(k, r) for k, r in reasons if r][:top]
    return Scored(min(100, sum(p for p, _ in hits)), "rules", [r for _, r in shown], [k for k, _ in shown])


def insufficient(f: Features) -> Scored:
    known = len(f.known_groups)
    return Scored(None, "insufficient", [f"数据不足：只有 {known} 类可用数据（互动、提案、服务、回款、业务趋势、续约），无法评估"],
                  [])
