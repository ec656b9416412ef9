"""Amounts ("50万", "5w", "1.2百万", "8000元") and metric filters ("转化率高于5%" → cvr > 0.05) in chat text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from crm_core.metrics import RATE_METRICS
from crm_core.normalise import parse_amount

_CN = "零〇一二两三四五六七八九十百千"
_AMOUNT = re.compile(
    r"(?:¥|￥)?(?P<num>\d+(?:\.\d+)?|[一二两三四五六七八九十百千]{1,6})\s*"
    r"(?P<unit>百万|千万|亿|万|w|W|k|K)(?:元|块|人民币)?"
    r"|(?:¥|￥)(?P<num2>\d[\d,]*(?:\.\d+)?)\s*(?:元|块)?"
    r"|(?P<num3>\d[\d,]*(?:\.\d+)?)\s*(?:元|块钱|块)"
)


@dataclass(frozen=True)
class AmountMention:
    start: int
    end: int
    value: int  # yuan
    text: str


def find_amounts(text: str) -> list[AmountMention]:
    out = []
    for m in _AMOUNT.finditer(text):
        s, e = m.span()
        if s > 0 and text[s - 1] in _CN + "0123456789.":
            continue  # the tail of a longer number or word ("双12", "第三万")
        if m["unit"] and e < len(text) and text[e].isascii() and text[e].isalpha():
            continue  # "5km", "3Kb": not money
        try:
            value = parse_amount(m.group(0).replace(",", ""))
        except ValueError:
            continue
        if value <= 0:
            continue
        out.append(AmountMention(s, e, int(value), m.group(0)))
    return out


METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "cvr": ("转化率", "转换率", "CVR", "cvr"),
    "ctr": ("点击率", "CTR", "ctr"),
    "roi": ("ROI", "roi", "Roi", "投产比", "投入产出比", "ROAS", "roas"),
    "impressions": ("播放量", "曝光量", "曝光", "播放", "覆盖人次", "阅读量", "观看量"),
}
_OPS = {
    ">": ("大于", "超过", "高于", "多于", ">", "＞"),
    ">=": ("不低于", "不少于", "至少", ">=", "≥", "＞="),
    "<": ("小于", "低于", "少于", "不到", "<", "＜"),
    "<=": ("不高于", "不超过", "不多于", "<=", "≤"),
}
_SUFFIX_OPS = {">=": ("以上", "及以上", "或以上"), "<=": ("以下", "及以下", "以内")}
_name_alt = "|".join(sorted((re.escape(a) for v in METRIC_NAMES.values() for a in v), key=len, reverse=True))
_op_alt = "|".join(sorted((re.escape(a) for v in _OPS.values() for a in v), key=len, reverse=True))
_suffix_alt = "|".join(sorted((a for v in _SUFFIX_OPS.values() for a in v), key=len, reverse=True))
_VALUE = r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>%|％|个点|万|亿|w|W)?"
_LEAD = rf"(?P<name>{_name_alt})\s*(?:要|得|需|在|达到|达)?\s*"
_METRIC_OP = re.compile(rf"{_LEAD}(?P<op>{_op_alt})\s*{_VALUE}(?:\s*(?:{_suffix_alt}))?")
_METRIC_SUFFIX = re.compile(rf"{_LEAD}{_VALUE}\s*(?P<suf>{_suffix_alt})")
_NAME_OF = {alias: name for name, aliases in METRIC_NAMES.items() for alias in aliases}


@dataclass(frozen=True)
class MetricMention:
    start: int
    end: int
    name: str  # cvr | ctr | roi | impressions
    op: str
    value: float
    text: str

    @property
    def slot(self) -> str:
        return f"{self.name}{self.op}{_plain(self.value)}"


def _plain(value: float) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _value(name: str, num: str, unit: str | None) -> float:
    value = float(num)
    if unit in ("%", "％", "个点"):
        value /= 100
    elif unit in ("万", "w", "W"):
        value *= 10_000
    elif unit == "亿":
        value *= 100_000_000
    elif name in RATE_METRICS and value > 1:
        value /= 100  # "转化率大于5" means five percent
    return round(value, 6)


def find_metrics(text: str) -> list[MetricMention]:
    out: list[MetricMention] = []
    for pattern in (_METRIC_OP, _METRIC_SUFFIX):
        for m in pattern.finditer(text):
            if any(m.start() < x.end and x.start < m.end() for x in out):
                continue
            name = _NAME_OF[m["name"]]
            if pattern is _METRIC_OP:
                op = next(k for k, v in _OPS.items() if m["op"] in v)
            else:
                op = next(k for k, v in _SUFFIX_OPS.items() if m["suf"] in v)
            out.append(MetricMention(m.start(), m.end(), name, op, _value(name, m["num"], m["unit"]), m.group(0)))
    return sorted(out, key=lambda x: x.start)
