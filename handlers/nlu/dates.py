"""Relative and absolute dates in chat text, resolved against the message time (Asia/Shanghai by default).

Conventions (shared/evals/nlu/README.md): 明天 +1, 后天 +2, N天后/N天内 +N; 周五/这周五 = this
(Monday-based) week; 下周X = X of the next week; 下下周X = the week after; N号 = the next such day of
a month (today counts); 月底 = the last day of this month; 年底 = 12-31. A trailing 前/之前/截止 …
belongs to the expression (its span covers it) but does not move the date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from crm_core.normalise import parse_number

_CN_NUM = "零〇一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,3}}|[{_CN_NUM}]{{1,3}})"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
# "前" alone stays out: "下周一前" keeps it, but "3天前" means "ago" and is handled by its own rule.
_TAIL = r"(?:之前|以前|前|截止|为止|之内|以内|deadline|ddl)?"


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    value: date
    text: str


def _num(text: str) -> int | None:
    try:
        n = parse_number(text)
    except ValueError:
        return None
    return int(n) if n == int(n) else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> tuple[int, int]:
    total = d.year * 12 + (d.month - 1) + months
    return total // 12, total % 12 + 1


def _week_day(today: date, weeks_ahead: int, weekday: int) -> date:
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(weeks=weeks_ahead, days=weekday)


def _month_day(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """A month/day without a year: this year, unless that is more than a month ago (then next year)."""
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        if (today - candidate).days > 31:
            candidate = date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _day_of_month(today: date, day: int) -> date | None:
    """"12号": the next 12th, today included."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        year, month = _add_months(date(year, month, 1), 1)
    return None


Rule = tuple[re.Pattern[str], "callable"]  # type: ignore[valid-type]


def _rules() -> list[tuple[re.Pattern[str], object]]:
    def full(m: re.Match[str], today: date) -> date | None:
        return _month_day(today, int(m["m"]), int(m["d"]), int(m["y"]))

    def month_day(m: re.Match[str], today: date) -> date | None:
        mo, d = _num(m["m"]), _num(m["d"])
        return _month_day(today, mo, d) if mo and d else None

    def slash(m: re.Match[str], today: date) -> date | None:
        return _month_day(today, int(m["m"]), int(m["d"]))

    def dom(m: re.Match[str], today: date) -> date | None:
        d = _num(m["d"])
        return _day_of_month(today, d) if d else None

    def rel_day(m: re.Match[str], today: date) -> date:
        return today + timedelta(days={"今": 0, "明": 1, "后": 2, "大后": 3}[m["w"]])

    def n_days(m: re.Match[str], today: date) -> date | None:
        n = _num(m["n"])
        if n is None:
            return None
        unit = m["u"]
        if unit in ("周", "星期", "个星期", "礼拜", "个礼拜"):
            n *= 7
        elif unit in ("个月", "月"):
            y, mo = _add_months(today, n)
            return date(y, mo, min(today.day, calendar.monthrange(y, mo)[1]))
        return today + timedelta(days=n)

    def weekday(m: re.Match[str], today: date) -> date:
        prefix = m["p"] or ""
        weeks = 2 if prefix.startswith("下下") else 1 if prefix.startswith("下") else -1 if prefix.startswith("上") else 0
        return _week_day(today, weeks, _WEEKDAY[m["x"]])

    def bare_week(m: re.Match[str], today: date) -> date:
        weeks = 2 if m["p"] == "下下" else 1 if m["p"] == "下" else 0
        return _week_day(today, weeks, 4)  # "下周内" = by the end of next working week

    def month_edge(m: re.Match[str], today: date) -> date:
        ahead = 1 if (m["p"] or "").startswith("下") else 0
        y, mo = _add_months(today, ahead)
        return {"底": _month_end(y, mo), "末": _month_end(y, mo), "初": date(y, mo, 1) if ahead else
                date(*_add_months(today, 1), 1), "中": date(y, mo, 15)}[m["e"]]

    def named_month_end(m: re.Match[str], today: date) -> date | None:
        mo = _num(m["m"])
        if not mo or not 1 <= mo <= 12:
            return None
        candidate = _month_end(today.year, mo)
        return candidate if candidate >= today - timedelta(days=31) else _month_end(today.year + 1, mo)

    def year_end(m: re.Match[str], today: date) -> date:
        return date(today.year + (1 if m["p"] in ("明", "明年") else 0), 12, 31)

    return [
        (re.compile(rf"(?P<y>20\d\d)\s*[-/.年]\s*(?P<m>\d{{1,2}})\s*[-/.月]\s*(?P<d>\d{{1,2}})\s*[日号]?{_TAIL}"), full),
        (re.compile(rf"(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]{_TAIL}"), month_day),
        (re.compile(rf"(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM}){_TAIL}(?![\d{_CN_NUM}万千百])"), month_day),
        (re.compile(rf"(?P<p>明|明年)?年[底末]{_TAIL}"), year_end),
        (re.compile(rf"(?P<m>{_NUM})\s*月\s*[底末]{_TAIL}"), named_month_end),
        (re.compile(rf"(?P<p>下下?个?|本|这个?)?月(?P<e>[底末初中]){_TAIL}"), month_edge),
        (re.compile(rf"(?P<p>下下|下个?|这个?|本|上个?)?(?:周|星期|礼拜)(?P<x>[一二三四五六日天末1-7]){_TAIL}"), weekday),
        (re.compile(rf"(?P<n>{_NUM})\s*(?P<u>天|日|周|星期|个星期|礼拜|个礼拜|个月)\s*(?:后|之后|以后|内|之内|以内){_TAIL}"),
         n_days),
        (re.compile(rf"(?P<w>大后|今|明|后)(?:天|日|早|晚)(?:上|下午|中午)?{_TAIL}"), rel_day),
        (re.compile(rf"(?<![\d/.-])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/%]){_TAIL}"), slash),
        (re.compile(rf"(?<![\d{_CN_NUM}月.])(?P<d>{_NUM})\s*[号日](?![子元]){_TAIL}"), dom),
        (re.compile(rf"(?P<p>下下|下|这|本)(?:周|星期|礼拜)(?:内|之内|以内)?{_TAIL}(?![一二三四五六日天末1-7])"), bare_week),
    ]


_RULES = _rules()


def find_dates(text: str, today: date) -> list[DateMention]:
    """Every date expression in ``text``, left to right, without overlaps (earlier rules win)."""
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    for pattern, resolve in _RULES:
        for m in pattern.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            value = resolve(m, today)  # type: ignore[operator]
            if value is None:
                continue
            taken.append((s, e))
            found.append(DateMention(s, e, value, m.group(0)))
    return sorted(found, key=lambda d: d.start)


def parse_due(text: str, today: date) -> date | None:
    """The first date in ``text`` (an ISO date is accepted as is)."""
    hits = find_dates(text, today)
    return hits[0].value if hits else None
