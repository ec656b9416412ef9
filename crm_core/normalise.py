"""Values as people write them → canonical values. Pure functions, shared by the importer and chat.

Enum normalisers (tier, stage, role, …) return the canonical value or ``None`` when the text is not
recognised, so callers can word their own error. ``normalise_industry`` is the exception: an unknown
industry is kept as written. Parsers (amounts, dates, booleans) raise ``ValueError`` with a Chinese
message that can be shown to the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.models import (
    BUDGET_LEVELS,
    INDUSTRIES,
    LEAD_STATUSES,
    PAYMENT_STATUSES,
    PROJECT_STATUSES,
    STAGES,
    TASK_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TIERS,
    Role,
)

DEFAULT_TZ = "Asia/Shanghai"

# ---------------------------------------------------------------------------------------------
# numbers and amounts

UNITS: dict[str, int] = {
    "亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4, "千": 10**3, "百": 100,
    "w": 10**4, "k": 10**3, "m": 10**6,
}
_UNIT_ALT = "|".join(sorted(UNITS, key=len, reverse=True))
_SEGMENT = re.compile(rf"(\d+(?:\.\d+)?)({_UNIT_ALT})?", re.IGNORECASE)
_CURRENCY_PREFIX = re.compile(r"^(¥|￥|rmb|cny|人民币)", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(r"(元人民币|人民币|块钱|元|块|rmb|cny)$", re.IGNORECASE)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}


def _cn_int(text: str) -> int | None:
    """"一百二十万" → 1200000; ``None`` if the text is not a Chinese numeral."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_SMALL and ch not in _CN_BIG for ch in text):
        return None
    if not any(ch in _CN_DIGITS or ch in _CN_SMALL for ch in text):
        return None  # "万" alone is a unit, not a number
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (1 if digit is None else digit) * _CN_SMALL[ch]
            digit = None
        else:
            section += digit or 0
            total = (total + section) * _CN_BIG[ch] if ch == "亿" else total + section * _CN_BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def _integral(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def parse_number(text: str) -> Decimal:
    """"50万" / "1.2百万" / "5w" / "12.5k" / "120,000" / "3亿2000万" / "五十万" → Decimal. No currency."""
    s = re.sub(r"[\s,，]", "", text)
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    cn = _cn_int(s)
    if cn is not None:
        return Decimal(sign * cn)
    pos, total, segments = 0, Decimal(0), []
    for m in _SEGMENT.finditer(s):
        if m.start() != pos:
            break
        segments.append(m)
        pos = m.end()
    # every segment but a lone one needs a unit: "3万5" is colloquial and ambiguous, so refuse it
    if not segments or pos != len(s) or any(m.group(2) is None for m in segments[:-1]) or (
        len(segments) > 1 and segments[-1].group(2) is None
    ):
        raise ValueError(f"无法识别的数字「{text}」")
    for m in segments:
        total += Decimal(m.group(1)) * (UNITS[m.group(2).lower()] if m.group(2) else 1)
    return _integral(sign * total)


def parse_amount(value: Any) -> Decimal:
    """An amount in yuan: 120000, "120,000", "50万", "5w", "1.2百万", "3.5亿", "¥8,000元" → Decimal."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"无法识别的金额「{value}」")
    if isinstance(value, int | Decimal):
        return _integral(Decimal(value))
    if isinstance(value, float):
        return _integral(Decimal(str(value)))
    if not isinstance(value, str):
        raise ValueError(f"无法识别的金额「{value}」")
    s = re.sub(r"[\s,，]", "", value)
    s = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", s))
    try:
        return parse_number(s)
    except ValueError:
        raise ValueError(f"无法识别的金额「{value}」，请写成 500000、50万 或 5w 这样的形式") from None


# ---------------------------------------------------------------------------------------------
# vocabularies


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


def _table(canon: Iterable[str], synonyms: dict[str, Iterable[str]]) -> dict[str, str]:
    table = {_key(c): c for c in canon}
    for target, words in synonyms.items():
        table.update({_key(w): target for w in words})
    return table


def _choice(table: dict[str, str]) -> Callable[[Any], str | None]:
    def normalise(text: Any) -> str | None:
        if text is None:
            return None
        return table.get(_key(str(text)))

    return normalise


_INDUSTRY = _table(INDUSTRIES, {
    "快消": ("快消品", "快速消费品", "FMCG", "消费品", "日化", "食品饮料", "饮料", "饮品", "零食", "食品",
            "酒水", "乳制品", "CPG"),
    "美妆": ("化妆品", "护肤", "护肤品", "彩妆", "美容", "美妆个护", "个护", "香水", "beauty", "cosmetics",
            "skincare", "makeup"),
    "科技": ("互联网", "IT", "tech", "technology", "SaaS", "软件", "数码", "3C", "消费电子", "电子",
            "人工智能", "AI", "企业服务", "通信", "internet"),
    "文旅": ("旅游", "文化旅游", "景区", "旅行", "酒店", "OTA", "travel", "tourism"),
    "汽车": ("车企", "auto", "automotive", "新能源车", "新能源汽车", "汽车后市场", "车"),
    "餐饮": ("餐厅", "茶饮", "新茶饮", "咖啡", "餐饮连锁", "快餐", "火锅", "烘焙", "food", "restaurant",
            "F&B", "catering"),
    "教育": ("培训", "教培", "在线教育", "职业教育", "K12", "edu", "education"),
})
_INDUSTRY_SPLIT = re.compile(r"^(.+?)\s*([-－—/·])\s*(.+)$")


def normalise_industry(text: Any) -> str | None:
    """化妆品 → 美妆, FMCG → 快消 …; "快速消费品-饮料" → "快消-饮料"; unknown values are kept as written."""
    if text is None:
        return None
    s = str(text).strip()
    if not s:
        return None
    if (hit := _INDUSTRY.get(_key(s))) is not None:
        return hit
    m = _INDUSTRY_SPLIT.match(s)
    if m and (head := _INDUSTRY.get(_key(m.group(1)))) is not None:
        return f"{head}{m.group(2)}{m.group(3)}"
    return s


normalise_tier = _choice(_table(TIERS, {
    "战略级": ("战略", "战略客户", "战略级客户", "A", "A类", "A级", "A类客户", "KA", "重点客户", "strategic"),
    "成长级": ("成长", "成长客户", "成长级客户", "B", "B类", "B级", "B类客户", "growth"),
    "常规级": ("常规", "常规客户", "常规级客户", "普通", "普通客户", "一般", "C", "C类", "C级", "C类客户",
            "regular", "normal"),
}))
normalise_budget_level = _choice(_table(BUDGET_LEVELS, {
    "高": ("高预算", "预算高", "预算充足", "充足", "high", "H"),
    "中": ("中等", "中预算", "预算中等", "一般", "medium", "mid", "M"),
    "低": ("低预算", "预算低", "预算有限", "有限", "low", "L"),
}))
normalise_stage = _choice(_table(STAGES, {
    "需求确认": ("需求", "初步接洽", "接洽", "意向", "qualification", "discovery"),
    "方案报价": ("方案", "报价", "提案", "方案提报", "proposal", "quote"),
    "合同谈判": ("谈判", "商务谈判", "合同", "议价", "negotiation"),
    "签约成功": ("签约", "已签约", "签单", "赢单", "成交", "已成交", "won", "closedwon"),
    "输单": ("丢单", "失败", "已输单", "未中标", "lost", "closedlost"),
}))
normalise_role = _choice(_table([r.value for r in Role], {
    "admin": ("管理员", "系统管理员", "administrator"),
    "manager": ("经理", "主管", "总监", "部门经理"),
    "account_manager": ("客户经理", "AM", "客户总监"),
    "sales": ("销售", "BD", "商务"),
    "planner": ("策划", "策略"),
    "designer": ("设计", "设计师"),
    "media": ("媒介", "投放", "媒介投放"),
    "service": ("客服", "客户服务"),
    "viewer": ("只读", "查看", "访客", "readonly"),
}))
normalise_task_status = _choice(_table(TASK_STATUSES, {
    "待办": ("未开始", "待处理", "todo", "open"),
    "进行中": ("处理中", "进行", "doing", "inprogress"),
    "已完成": ("完成", "done", "finished", "closed"),
    "已取消": ("取消", "cancelled", "canceled"),
}))
normalise_project_status = _choice(_table(PROJECT_STATUSES, {
    "筹备中": ("筹备", "未开始", "planning"),
    "进行中": ("执行中", "进行", "active"),
    "已完成": ("完成", "结项", "已结项", "done"),
    "已暂停": ("暂停", "搁置", "paused"),
}))
normalise_lead_status = _choice(_table(LEAD_STATUSES, {
    "待分配": ("未分配", "新线索", "new"),
    "已认领": ("认领", "跟进中", "claimed"),
    "已转化": ("转化", "converted"),
    "已关闭": ("关闭", "无效", "closed"),
}))
normalise_payment_status = _choice(_table(PAYMENT_STATUSES, {
    "待收": ("未收", "未付", "待付款", "unpaid"),
    "部分收款": ("部分", "部分回款", "partial"),
    "已收": ("已回款", "已付", "已付款", "收讫", "paid"),
}))
normalise_priority = _choice(_table(TICKET_PRIORITIES, {
    "低": ("low",), "中": ("普通", "一般", "normal", "medium"), "高": ("high",), "紧急": ("urgent", "加急"),
}))
normalise_ticket_status = _choice(_table(TICKET_STATUSES, {
    "待处理": ("新建", "open", "new"), "处理中": ("进行中", "processing"), "已解决": ("解决", "resolved"),
    "已关闭": ("关闭", "closed"),
}))
INTERACTION_KINDS = ("电话", "拜访", "微信", "会议", "邮件", "其他")
normalise_interaction_kind = _choice(_table(INTERACTION_KINDS, {
    "电话": ("通话", "call", "phone"), "拜访": ("上门", "面谈", "visit"), "微信": ("企微", "企业微信", "wechat"),
    "会议": ("开会", "视频会议", "meeting"), "邮件": ("email", "mail"), "其他": ("other",),
}))


# ---------------------------------------------------------------------------------------------
# dates, booleans, lists


def zone(tz: str | tzinfo | None) -> tzinfo:
    if tz is None:
        return ZoneInfo(DEFAULT_TZ)
    return ZoneInfo(tz) if isinstance(tz, str) else tz


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?\s*[T ]?\s*"
    r"(\d{1,2})\s*[:：时点]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})\s*秒?)?$"
)


def parse_datetime(value: Any, tz: str | tzinfo | None = None) -> datetime:
    """ISO 8601 (``2026-11-25T10:00:00+08:00``, ``…Z``), ``2026/11/25 10:00``, ``2026年11月25日 10:00``,
    or a bare date (midnight). Naive times are read in ``tz``; the result is always aware."""
    zone_ = zone(tz)
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        s = value.strip()
        try:
            result = datetime.fromisoformat(s)
        except ValueError:
            m = _DATETIME.match(s) or _DATE.match(s)
            if m is None:
                raise ValueError(f"无法识别的时间「{value}」，请使用 2026-11-25T10:00:00+08:00 这样的格式") from None
            parts = [int(p) for p in m.groups() if p is not None]
            try:
                result = datetime(*parts)  # type: ignore[arg-type]
            except ValueError:
                raise ValueError(f"不存在的时间「{value}」") from None
    else:
        raise ValueError(f"无法识别的时间「{value}」")
    return result if result.tzinfo is not None else result.replace(tzinfo=zone_)


def parse_date(value: Any, tz: str | tzinfo | None = None) -> date:
    """``2026-11-25``, ``2026/11/25``, ``2026年11月25日``, ``20261125``; a datetime → its date in ``tz``."""
    if isinstance(value, datetime):
        return value.astimezone(zone(tz)).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"无法识别的日期「{value}」，请使用 YYYY-MM-DD")
    s = value.strip()
    m = _DATE.match(s) or re.match(r"^(\d{4})(\d{2})(\d{2})$", s)
    if m:
        try:
            return date(*(int(p) for p in m.groups()))
        except ValueError:
            raise ValueError(f"不存在的日期「{value}」") from None
    try:
        return parse_date(parse_datetime(s, tz), tz)
    except ValueError:
        raise ValueError(f"无法识别的日期「{value}」，请使用 YYYY-MM-DD") from None


_TRUE = {"1", "true", "t", "yes", "y", "on", "是", "对", "有", "真", "同意", "已同意", "√", "✓", "✔"}
_FALSE = {"0", "false", "f", "no", "n", "off", "否", "不", "无", "假", "不同意", "未同意", "×", "✗", "✘"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    s = _key(str(value)) if value is not None else ""
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"无法识别的是/否值「{value}」，请写 是/否 或 true/false")


_LIST_SEP = re.compile(r"[|｜、,，;；\n]")


def split_list(value: Any) -> list[str]:
    """A list, a JSON list, ``"a|b"``, ``"a、b"``, ``"a,b"`` or ``"[a, b]"`` → stripped, non-empty strings."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        items = [str(v).strip() for v in value if v is not None]
        return [v for v in items if v]
    s = str(value).strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            parsed = json.loads(s)
        except ValueError:
            s = s[1:-1]
        else:
            if isinstance(parsed, list):
                return split_list(parsed)
    parts = (p.strip().strip("\"'").strip() for p in _LIST_SEP.split(s))
    return [p for p in parts if p]
