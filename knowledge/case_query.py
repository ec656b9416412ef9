"""Structure in a case-search query: industry, format, channel, year and metric comparisons.

"美妆 短视频 转化率>5%" → industry 美妆, format 短视频, cvr > 0.05. What is left after the filters
and filler words ("之前做过的…有哪些") is the *residual*: when it is empty the query is purely
structural and results are ordered by the compared metric. Vocabularies live in
``config/vocab/case_facets.json``; metric names and values reuse ``crm_core.metrics``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal

import numpy as np

from config.vocab import load
from crm_core.metrics import ALIASES, LABELS, RATE_METRICS, canonical_metric, parse_metric_value
from crm_core.models import INDUSTRIES, Case
from crm_core.normalise import UNITS, normalise_industry
from knowledge.text import normalise

Facet = Literal["industry", "format", "channel"]
Op = Literal[">", ">=", "<", "<=", "max", "min"]
FACET_LABELS: dict[str, str] = {"industry": "行业", "format": "形式", "channel": "渠道"}
LOWER_IS_BETTER = frozenset({"cpl", "cpa", "cpm", "cpc"})


@dataclass(frozen=True)
class FacetFilter:
    facet: Facet
    value: str  # canonical, e.g. 美妆
    surface: str  # as typed, e.g. 化妆品

    def describe(self) -> str:
        return f"{FACET_LABELS[self.facet]}：{self.value}"


@dataclass(frozen=True)
class MetricCondition:
    metric: str  # canonical key of Case.metrics_norm, e.g. cvr
    op: Op
    value: float | None  # None for "max"/"min" (order only)
    text: str  # the words in the query

    @property
    def is_filter(self) -> bool:
        return self.op in (">", ">=", "<", "<=")

    def accepts(self, actual: Any) -> bool:
        if not self.is_filter:
            return True
        if not isinstance(actual, int | float) or self.value is None:
            return False
        eps = 1e-12
        return {
            ">": actual > self.value + eps, ">=": actual >= self.value - eps,
            "<": actual < self.value - eps, "<=": actual <= self.value + eps,
        }[self.op]

    def mask(self, values: np.ndarray) -> np.ndarray:
        """``accepts`` over an array of values (NaN = unknown = refused)."""
        if not self.is_filter or self.value is None:
            return ~np.isnan(values) if self.is_filter else np.ones(len(values), dtype=bool)
        eps = 1e-12
        with np.errstate(invalid="ignore"):
            return {">": values > self.value + eps, ">=": values >= self.value - eps,
                    "<": values < self.value - eps, "<=": values <= self.value + eps}[self.op]

    @property
    def descending(self) -> bool:
        """Better first: high for ">"/"max", low for "<"/"min"."""
        return self.op in (">", ">=", "max")

    def describe(self, actual: float | None = None) -> str:
        label = LABELS.get(self.metric, self.metric)
        if not self.is_filter:
            return f"按{label}{'从高到低' if self.descending else '从低到高'}"
        shown = f"{label} {format_metric(self.metric, actual)} " if actual is not None else f"{label} "
        return f"{shown}{self.op.replace('>=', '≥').replace('<=', '≤')} {format_metric(self.metric, self.value)}"


@dataclass(frozen=True)
class YearRange:
    lo: int | None
    hi: int | None
    text: str

    def accepts(self, year: int | None) -> bool:
        return year is not None and (self.lo is None or year >= self.lo) and (self.hi is None or year <= self.hi)

    def describe(self) -> str:
        if self.lo == self.hi:
            return f"年份：{self.lo}"
        if self.hi is None:
            return f"年份：{self.lo} 年以来"
        if self.lo is None:
            return f"年份：{self.hi} 年及以前"
        return f"年份：{self.lo}–{self.hi}"


@dataclass
class CaseQuery:
    text: str
    facets: list[FacetFilter] = field(default_factory=list)
    metrics: list[MetricCondition] = field(default_factory=list)
    years: YearRange | None = None
    residual: str = ""

    @property
    def has_filters(self) -> bool:
        return bool(self.facets or self.years or any(m.is_filter for m in self.metrics))

    @property
    def wants_cases(self) -> bool:
        """Clearly about the case library: a metric comparison, or words like 案例 / campaign."""
        return any(m.is_filter for m in self.metrics) or _vocab().case_intent.search(normalise(self.text)) is not None

    @property
    def structural_only(self) -> bool:
        """Nothing but filters: rank by the compared metric rather than by text relevance."""
        return not self.residual and bool(self.facets or self.years or self.metrics)

    def describe(self) -> list[str]:
        out = [f.describe() for f in self.facets]
        if self.years:
            out.append(self.years.describe())
        out.extend(m.describe() for m in self.metrics)
        return out


def format_metric(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    if metric in RATE_METRICS:
        return f"{value * 100:.4g}%"
    if abs(value) >= 1e8:
        return f"{value / 1e8:.3g}亿"
    if abs(value) >= 1e4:
        return f"{value / 1e4:.4g}万"
    return f"{value:.4g}"


# --- vocabularies --------------------------------------------------------------------------------


def _latin(form: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9 &+\-]+", form))


def _pattern(forms: list[str]) -> re.Pattern[str]:
    """Longest form first; Latin forms only as whole words."""
    parts = []
    for form in sorted(set(forms), key=len, reverse=True):
        esc = re.escape(form)
        parts.append(rf"(?<![a-z0-9]){esc}(?![a-z0-9])" if _latin(form) else esc)
    return re.compile("|".join(parts))


@dataclass(frozen=True)
class _Vocab:
    lookup: dict[str, tuple[Facet, str]]  # normalised surface → (facet, canonical), first facet wins
    pattern: re.Pattern[str]  # all facets, for queries
    lookup_by_facet: dict[Facet, dict[str, str]]
    by_facet: dict[Facet, re.Pattern[str]]  # one facet, for a case's own text
    families: dict[str, tuple[str, ...]]  # 微信 → its sub-channels
    fillers: re.Pattern[str]
    case_intent: re.Pattern[str]


def _canonical_industry(word: str, declared: str) -> str:
    known = normalise_industry(word)
    return known if known in INDUSTRIES else declared


@cache
def _vocab() -> _Vocab:
    data = load("case_facets")
    lookup: dict[str, tuple[Facet, str]] = {}
    by_facet: dict[Facet, dict[str, str]] = {"industry": {}, "format": {}, "channel": {}}
    facet: Facet
    for facet in ("industry", "format", "channel"):
        for canon, words in data[facet].items():
            for word in [canon, *words]:
                key = normalise(word)
                value = _canonical_industry(word, canon) if facet == "industry" else canon
                lookup.setdefault(key, (facet, value))
                by_facet[facet].setdefault(key, value)
    families = {k: tuple(v) for k, v in data.get("channel_family", {}).items()}
    fillers = sorted((normalise(w) for w in data["query_fillers"]), key=len, reverse=True)
    return _Vocab(lookup, _pattern(list(lookup)), by_facet, {f: _pattern(list(m)) for f, m in by_facet.items()},
                  families, re.compile("|".join(re.escape(w) for w in fillers)),
                  _pattern([normalise(w) for w in data.get("case_intent", [])]))


# --- metric comparisons --------------------------------------------------------------------------

_NUM = r"(?:\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万亿]+)"
_UNIT = r"(?:%|‰|个点|个百分点|千万|百万|万|亿|w|k|倍|元|块)?"
_PRE_OPS: dict[str, Op] = {
    ">=": ">=", "≥": ">=", ">": ">", "<=": "<=", "≤": "<=", "<": "<",
    "超过": ">", "超出": ">", "高于": ">", "大于": ">", "多于": ">", "不止": ">", "突破": ">", "破": ">",
    "过": ">", "不低于": ">=", "不少于": ">=", "至少": ">=", "最少": ">=", "达到": ">=", "达": ">=", "上": ">=",
    "低于": "<", "小于": "<", "少于": "<", "不到": "<", "不足": "<",
    "不超过": "<=", "不高于": "<=", "未超过": "<=", "最多": "<=", "至多": "<=",
}
_POST_OPS: dict[str, Op] = {"以上": ">=", "之上": ">=", "+": ">=", "起": ">=", "多": ">=", "以下": "<=", "之下": "<=",
                            "以内": "<="}
_SORT_WORDS: dict[str, Op] = {"最高": "max", "最好": "max", "最大": "max", "高的": "max", "最低": "min", "低的": "min",
                              "最少": "min"}


def _alt(words: Any) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _metric_patterns() -> tuple[re.Pattern[str], ...]:
    names = _alt({normalise(a) for aliases in ALIASES.values() for a in aliases})
    pre, post = _alt(_PRE_OPS), _alt(_POST_OPS)
    filler = r"(?:是|为|要|都|能|可以|做到|做|有|在)?"
    value = rf"(?P<num>{_NUM})\s*(?P<unit>{_UNIT})"
    return (
        re.compile(rf"(?P<name>{names})\s*{filler}\s*(?P<pre>{pre})?\s*{value}\s*(?P<post>{post})?"),
        re.compile(rf"(?P<pre>{pre})?\s*{value}\s*(?P<post>{post})?\s*的?\s*(?P<name>{names})"),
        re.compile(rf"(?P<name>{names})\s*(?P<sort>{_alt(_SORT_WORDS)})"),
        re.compile(rf"(?P<sort>最高|最好|最低)\s*的?\s*(?P<name>{names})"),
    )


def _number(num: str, unit: str, metric: str) -> float | None:
    unit = unit.lower()
    if unit in ("个点", "个百分点"):
        unit = "%"
    if unit in ("元", "块", "倍"):
        unit = ""
    if re.fullmatch(r"\d+(?:\.\d+)?", num):
        return parse_metric_value(num + unit, metric)
    if num in UNITS:  # "过亿", "破千万": the unit alone is one of it
        base = float(UNITS[num])
    else:
        from crm_core.normalise import parse_number

        try:
            base = float(parse_number(num))
        except ValueError:
            return None
    if unit in UNITS:
        base *= UNITS[unit]
    if unit == "%":
        return base / 100
    return base / 100 if metric in RATE_METRICS and base > 1 else base


def _metric_conditions(text: str) -> tuple[list[MetricCondition], list[tuple[int, int]]]:
    found: list[MetricCondition] = []
    spans: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in spans)

    for pattern in _metric_patterns():
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            metric = canonical_metric(m.group("name"))
            if metric is None:
                continue
            groups = m.groupdict()
            if groups.get("sort"):
                op: Op = _SORT_WORDS[groups["sort"]]
                if metric in LOWER_IS_BETTER and op == "max" and groups["sort"] in ("最好",):
                    op = "min"
                found.append(MetricCondition(metric, op, None, m.group(0)))
                spans.append(m.span())
                continue
            pre, post = groups.get("pre"), groups.get("post")
            if not pre and not post:
                continue
            op = _PRE_OPS[pre] if pre else _POST_OPS[post or ""]
            value = _number(groups["num"], groups["unit"] or "", metric)
            if value is None:
                continue
            found.append(MetricCondition(metric, op, value, m.group(0).strip()))
            spans.append(m.span())
    return found, spans


# --- years ---------------------------------------------------------------------------------------

_CN_SMALL = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5}
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:-|—|~|～|到|至)\s*((?:19|20)\d{2})\s*年?")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.%万亿千百kw])\s*(?:年度|年)?\s*(以后|之后|以来|后|起|以前|之前|前)?")
_RELATIVE = re.compile(r"(今年|去年|前年|(?:最)?近([一两二三四五12345])年)")


def _years(text: str, today: date, spans: list[tuple[int, int]]) -> YearRange | None:
    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in spans)

    if (m := _YEAR_RANGE.search(text)) and free(*m.span()):
        spans.append(m.span())
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return YearRange(lo, hi, m.group(0))
    for m in _YEAR.finditer(text):
        if not free(*m.span()):
            continue
        year, mod = int(m.group(1)), m.group(2)
        spans.append(m.span())
        if mod in ("以后", "之后", "以来", "后", "起"):
            return YearRange(year, None, m.group(0))
        if mod in ("以前", "之前", "前"):
            return YearRange(None, year, m.group(0))
        return YearRange(year, year, m.group(0))
    if (m := _RELATIVE.search(text)) and free(*m.span()):
        spans.append(m.span())
        word = m.group(1)
        if m.group(2):
            n = _CN_SMALL.get(m.group(2)) or int(m.group(2))
            return YearRange(today.year - n + 1, today.year, word)
        offset = {"今年": 0, "去年": 1, "前年": 2}[word]
        return YearRange(today.year - offset, today.year - offset, word)
    return None


# --- the parser ----------------------------------------------------------------------------------


_PERCENT_WORDS = re.compile(r"百分之([\d.]+|[零一二两三四五六七八九十]+)")


def _percent_words(text: str) -> str:
    """"百分之五" → "5%" so that the comparison patterns see one notation."""
    from crm_core.normalise import parse_number

    def repl(m: re.Match[str]) -> str:
        try:
            return f"{parse_number(m.group(1))}%"
        except ValueError:
            return m.group(0)

    return _PERCENT_WORDS.sub(repl, text)


def parse_case_query(text: str, today: date | None = None) -> CaseQuery:
    norm = _percent_words(normalise(text))
    metrics, spans = _metric_conditions(norm)
    years = _years(norm, today or date.today(), spans)
    vocab = _vocab()
    facets: list[FacetFilter] = []
    for m in vocab.pattern.finditer(norm):
        if not all(m.end() <= s or m.start() >= e for s, e in spans):
            continue
        spans.append(m.span())
        facet, value = vocab.lookup[m.group(0)]
        if any(f.facet == facet and f.value == value for f in facets):
            continue
        facets.append(FacetFilter(facet, value, m.group(0)))
    rest = "".join(" " if any(s <= i < e for s, e in spans) else ch for i, ch in enumerate(norm))
    rest = vocab.fillers.sub(" ", rest)
    residual = " ".join(re.findall(r"[\w%]+", rest))
    return CaseQuery(text=text, facets=facets, metrics=metrics, years=years, residual=residual)


# --- matching cases ------------------------------------------------------------------------------


def _industry_head(industry: str | None) -> str | None:
    if not industry:
        return None
    return re.split(r"[-－—/·]", normalise_industry(industry) or "", maxsplit=1)[0] or None


def case_facets(industry: str | None, fmt: str | None, channels: list[str] | None, title: str,
                description: str | None, client: str | None = None) -> frozenset[tuple[Facet, str]]:
    """Every (facet, value) a case meets: by its own field, or by naming one of the facet's forms.

    The format is looked for in the format, title and description; channels in the channels, title and
    description; the industry in all of them (a coffee brand filed under 快消 still meets 咖啡 → 餐饮).
    """
    vocab = _vocab()
    found: set[tuple[Facet, str]] = set()
    head = _industry_head(industry)
    if head:
        found.add(("industry", head))
    chans = " ".join(channels or [])
    texts: dict[Facet, str] = {
        "industry": " ".join(filter(None, [industry, fmt, chans, title, description, client])),
        "format": " ".join(filter(None, [fmt, title, description])),
        "channel": " ".join(filter(None, [chans, title, description])),
    }
    for facet, text in texts.items():
        for m in vocab.by_facet[facet].finditer(normalise(text)):
            found.add((facet, vocab.lookup_by_facet[facet][m.group(0)]))
    for family, members in vocab.families.items():
        if any(("channel", m) in found for m in members):
            found.add(("channel", family))
    return frozenset(found)


def facets_of(case: Case) -> frozenset[tuple[Facet, str]]:
    return case_facets(case.industry, case.format, case.channels, case.title, case.description, case.client)


def case_year(year: int | None, period: str | None) -> int | None:
    if year:
        return year
    m = re.search(r"(?:19|20)\d{2}", period or "")
    return int(m.group(0)) if m else None


def unmet(case: Case, query: CaseQuery, relaxed: frozenset[Facet] = frozenset()) -> list[str]:
    """Descriptions of the query's filters this case fails (empty = it qualifies)."""
    have = facets_of(case)
    failures = [f.describe() for f in query.facets if f.facet not in relaxed and (f.facet, f.value) not in have]
    if query.years and not query.years.accepts(case_year(case.year, case.period)):
        failures.append(query.years.describe())
    norm = case.metrics_norm or {}
    failures.extend(m.describe() for m in query.metrics if not m.accepts(norm.get(m.metric)))
    return failures
