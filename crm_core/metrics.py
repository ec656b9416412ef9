"""Case metrics as agencies write them → comparable numbers.

``{"CTR": "4.1%", "ROI": "1:3.5", "播放量": "3.2亿", "线索成本": "150元/条"}`` →
``{"ctr": 0.041, "roi": 3.5, "impressions": 320000000.0, "cpl": 150.0}``.

Keys are matched case- and space-insensitively, first exactly against the aliases below, then by
suffix, so "京东跳转CTR" or "领券转化率" still count as ctr / cvr — but an exact "CTR" beats them.
Rates are fractions; a bare rate number above 1 is read as percent (4.1 → 0.041).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_core.normalise import UNITS

ALIASES: dict[str, tuple[str, ...]] = {
    "ctr": ("CTR", "点击率", "点击通过率"),
    "cvr": ("CVR", "转化率", "转化", "转换率", "conversion rate"),
    "roi": ("ROI", "投产比", "ROAS", "投入产出比", "投资回报率"),
    "impressions": ("播放量", "播放", "播放次数", "曝光", "曝光量", "曝光次数", "覆盖人次", "覆盖人数", "观看",
                    "观看量", "观看人次", "观看次数", "展现量", "展示量", "阅读", "阅读量", "impressions", "views",
                    "reach"),
    "engagement": ("互动率", "engagement", "engagement rate"),
    "completion": ("完播率", "completion rate"),
    "cpl": ("线索成本", "CPL", "留资成本", "单条线索成本", "cost per lead"),
    "cpa": ("CPA", "激活成本", "下载成本"),
    "cpm": ("CPM", "千次曝光成本", "千次展示成本"),
    "cpc": ("CPC", "点击成本", "单次点击成本"),
    "gmv": ("GMV", "销售额", "成交额", "成交金额", "带货金额"),
    "followers": ("涨粉", "新增粉丝", "粉丝增长", "新增关注", "涨粉量", "新增粉丝数"),
}
RATE_METRICS = frozenset({"ctr", "cvr", "engagement", "completion"})
LABELS: dict[str, str] = {
    "ctr": "点击率", "cvr": "转化率", "roi": "ROI", "impressions": "曝光/播放", "engagement": "互动率",
    "completion": "完播率", "cpl": "线索成本", "cpa": "CPA", "cpm": "CPM", "cpc": "CPC", "gmv": "GMV",
    "followers": "涨粉",
}


def _key(text: str) -> str:
    text = re.sub(r"[（(][^）)]*[）)]", "", text)  # "曝光（次）", "CTR(%)"
    return re.sub(r"\s+", "", text).lower()


_EXACT = {_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_SUFFIXES = sorted(_EXACT.items(), key=lambda kv: len(kv[0]), reverse=True)


def _match(key: str) -> tuple[str, int] | None:
    """(canonical name, 0 for an exact match / 1 for a suffix match)."""
    k = _key(key)
    if k in _EXACT:
        return _EXACT[k], 0
    for alias, name in _SUFFIXES:
        if k.endswith(alias):
            return name, 1
    return None


def canonical_metric(name: str) -> str | None:
    """"转化率" → "cvr", "京东跳转CTR" → "ctr", "笔记数" → None."""
    hit = _match(name)
    return hit[0] if hit else None


_RATIO = re.compile(r"^(\d+(?:\.\d+)?)[:：](\d+(?:\.\d+)?)$")
_VALUE = re.compile(rf"^(\d+(?:\.\d+)?)({'|'.join(sorted(UNITS, key=len, reverse=True))})?(%|％)?(\D*)$",
                    re.IGNORECASE)


def parse_metric_value(value: Any, metric: str | None = None) -> float | None:
    """One metric value → float, or ``None`` when it is not a number ("售罄", "1万-2万")."""
    rate = metric in RATE_METRICS
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        return float(number / 100 if rate and number > 1 else number)
    if not isinstance(value, str):
        return None
    s = re.sub(r"[\s,，]", "", value).lstrip("+约≈~～")
    if m := _RATIO.match(s):
        first, second = Decimal(m.group(1)), Decimal(m.group(2))
        return float(second / first) if first else None
    m = _VALUE.match(s)
    if m is None:
        return None
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return None
    if m.group(2):
        number *= UNITS[m.group(2).lower()]
    if m.group(3) or "%" in m.group(4) or (rate and number > 1):
        number /= 100
    return float(number)


def normalise_metrics(raw: dict[str, Any] | None) -> dict[str, float]:
    """Known metrics as numbers under canonical keys; unknown keys and unreadable values are dropped."""
    best: dict[str, tuple[int, float]] = {}
    for key, value in (raw or {}).items():
        hit = _match(str(key))
        if hit is None:
            continue
        name, priority = hit
        number = parse_metric_value(value, name)
        if number is None:
            continue
        if name not in best or priority < best[name][0]:
            best[name] = (priority, number)
    return {name: number for name, (_, number) in best.items()}
