"""Slot extraction per intent, after routing. Values follow shared/INTENTS.md and the evals README:
entity slots carry refs, ``due`` is an ISO date, ``stage``/``tier``/``industry`` are canonical, rates
in ``metric`` are fractions, free-text slots (``query``, ``summary``, ``title``) hold the gist.

Each extractor sees the message, its entity links, dates, amounts and metric filters, and fills a
``SlotResult``: slots, internal extras (never shown as slots), ambiguities (numbered clarification)
and what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from config.intents import load
from crm_core.actor import Actor
from crm_core.normalise import normalise_industry
from handlers.format import money
from handlers.nlu.dates import DateMention
from handlers.nlu.entities import Linker, Links, Mention
from handlers.nlu.numbers import AmountMention, MetricMention


@dataclass
class Frame:
    text: str
    links: Links
    dates: list[DateMention]
    amounts: list[AmountMention]
    metrics: list[MetricMention]
    actor: Actor
    today: date
    linker: Linker
    context: dict[str, Any] = field(default_factory=dict)
    pronoun: bool = False  # "它", "这家" …: the last customer of the conversation

    def spans_of(self, *kinds: str) -> list[tuple[int, int]]:
        out = [m.span for k in kinds for m in self.links.of(k)[:1]]
        if "date" in kinds:
            out += [(d.start, d.end) for d in self.dates]
        if "amount" in kinds:
            out += [(a.start, a.end) for a in self.amounts]
        if "metric" in kinds:
            out += [(m.start, m.end) for m in self.metrics]
        return out


@dataclass
class SlotResult:
    slots: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    ambiguous: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # slot → [(ref, label)]
    unresolved: dict[str, str] = field(default_factory=dict)  # slot → the words that named nothing visible


def _vocab() -> dict[str, Any]:
    return load("vocab")


# --- shared helpers ------------------------------------------------------------------------------

_SELF_OWNER = re.compile(r"(我负责|我名下|我的|我跟的|我跟进的|我手上|我手里|我这边|我这儿|我自己的|归我)")
_SELF_ASSIGNEE = re.compile(r"(给我自己|给我|我自己|我来|我负责|由我|派给我|交给我|指派给我|我的待办|提醒我)")
_PUNCT = "，,。.；;：:！!？?、 \t\n"
_SEG = re.compile(r"[，,。；;！!？?\n]+")


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans replaced by a separator."""
    chars = list(text)
    for s, e in spans:
        for i in range(s, min(e, len(chars))):
            chars[i] = "\0"
    return re.sub("\0+", "，", "".join(chars))


def _tidy(text: str) -> str:
    text = re.sub(r"[\s\u3000]+", "，", text.strip())
    text = re.sub(r"[，,]{2,}", "，", text)
    return text.strip(_PUNCT + "的")


def _remove_words(text: str, words: list[str]) -> str:
    for w in sorted(words, key=len, reverse=True):
        text = text.replace(w, " ")
    return text


def _entity(frame: Frame, kind: str, slot: str, out: SlotResult) -> Mention | None:
    cands = frame.links.candidates(kind)
    if not cands:
        return None
    if len(cands) > 1:
        out.ambiguous[slot] = [(m.entity.key, m.entity.name) for m in cands]
        return None
    out.slots[slot] = cands[0].entity.key
    return cands[0]


def _customer(frame: Frame, out: SlotResult, slot: str = "customer", use_context: bool = True) -> None:
    if _entity(frame, "customer", slot, out) is not None or slot in out.ambiguous:
        return
    # a project or opportunity names its customer
    for kind in ("project", "opportunity"):
        m = frame.links.best(kind)
        if m is not None and m.entity.customer_id:
            cust = frame.linker.catalogue.customer_by_id(m.entity.customer_id)
            if cust is not None:
                out.slots[slot] = cust.key
                return
    if use_context and frame.context.get("customer") and (frame.pronoun or not _named_something(frame)):
        out.slots[slot] = frame.context["customer"]
        out.extras["from_context"] = True
        return
    name = unlinked_name(frame.text)
    if name:
        out.unresolved[slot] = name


def _named_something(frame: Frame) -> bool:
    return bool(unlinked_name(frame.text))


_NAME_HEAD = re.compile(
    r"^(?:看下|看看|查下|查查|查一下|看一下|帮我查|帮我看|给我看|调一下|拉一下)?"
    r"([\u4e00-\u9fffA-Za-z0-9]{2,10}?)(?:的|是谁|谁在|现在|最近|什么|啥|怎么|客户|那边|这边|的负责人|合作)"
)
_NOT_NAMES = {"这个", "那个", "这家", "那家", "我们", "你们", "他们", "它们", "客户", "项目", "今天", "明天", "现在",
              "最近", "这边", "那边", "公司", "大家", "这周", "本周", "这个月", "本月", "我", "你", "他", "它"}


def unlinked_name(text: str) -> str | None:
    """A leading name-like phrase that matched no visible record ("X是谁在跟"), for an honest "not found"."""
    m = _NAME_HEAD.match(text)
    if not m:
        return None
    name = m.group(1)
    if name in _NOT_NAMES or any(name.startswith(p) for p in ("这", "那", "我", "你", "他", "它", "哪", "谁")):
        return None
    return name


def _staff(frame: Frame, slot: str, out: SlotResult) -> bool:
    return _entity(frame, "staff", slot, out) is not None or slot in out.ambiguous


def _self_ref(frame: Frame) -> str | None:
    return frame.actor.staff_ref


@lru_cache(maxsize=1)
def _industry_patterns() -> list[tuple[re.Pattern[str], str]]:
    vocab = _vocab()
    quals = "|".join(map(re.escape, vocab["industry_qualifiers"]))
    out = []
    for canon, forms in vocab["industries"].items():
        for w in forms["plain"]:
            out.append((re.compile(re.escape(w), re.IGNORECASE), canon))
        for w in forms["qualified"]:
            out.append((re.compile(rf"{re.escape(w)}(?=(?:{quals}))", re.IGNORECASE), canon))
    return out


@lru_cache(maxsize=1)
def _industry_words() -> list[tuple[re.Pattern[str], str]]:
    forms = _vocab()["industries"]
    return [(re.compile(re.escape(w), re.IGNORECASE), canon)
            for canon, f in forms.items() for w in sorted(f["plain"] + f["qualified"], key=len, reverse=True)]


def find_industry(text: str, skip: list[tuple[int, int]] | None = None,
                  loose: bool = False) -> tuple[str, tuple[int, int]] | None:
    """The first industry named. Synonyms that are also ordinary words ("零食", "咖啡") count only with a
    qualifier ("零食行业", "咖啡品牌") unless ``loose`` (a search, where any hint helps)."""
    best: tuple[str, tuple[int, int]] | None = None
    for pattern, canon in (_industry_words() if loose else _industry_patterns()):
        for m in pattern.finditer(text):
            if skip and any(m.start() < e and s < m.end() for s, e in skip):
                continue
            if best is None or m.start() < best[1][0]:
                best = (normalise_industry(canon) or canon, m.span())
    return best


def find_format(text: str, skip: list[tuple[int, int]] | None = None) -> tuple[str, tuple[int, int]] | None:
    found = []
    for canon, forms in _vocab()["formats"].items():
        for w in forms:
            pos = text.find(w)
            if pos >= 0 and not (skip and any(pos < e and s < pos + len(w) for s, e in skip)):
                found.append((pos, -len(w), canon, (pos, pos + len(w))))
    if not found:
        return None
    found.sort()
    return found[0][2], found[0][3]


def find_stage(text: str) -> str | None:
    stages = _vocab()["stages"]
    explicit = re.search(r"(推进|推到|推至|进入|进到|挪到|移到|改到|改成|改为|更新到|更新为|标为|标成|标记为|标记成|标|设为|转入|到)"
                         r"(需求确认|方案报价|合同谈判|签约成功|输单|赢单|丢单)", text)
    if explicit:
        word = explicit.group(2)
        return {"赢单": "签约成功", "丢单": "输单"}.get(word, word)
    for strength in ("strong", "weak"):
        hits = []
        for canon, forms in stages.items():
            for w in forms[strength]:
                pos = text.find(w)
                if pos >= 0:
                    hits.append((-len(w), pos, canon))
        if hits:
            return sorted(hits)[0][2]
    return None


def find_tier(text: str) -> str | None:
    for canon, forms in _vocab()["tiers"].items():
        if any(w in text for w in forms):
            return canon
    return None


def find_report(text: str) -> str | None:
    hits = []
    for report, words in _vocab()["reports"].items():
        for w in words:
            pos = text.find(w)
            if pos >= 0:
                hits.append((-len(w), pos, report))
    return sorted(hits)[0][2] if hits else None


def _normalise_amounts(text: str, amounts: list[AmountMention]) -> str:
    """Write "5w" and "1.2百万" the way the reply would: "5万", "120万"."""
    for a in sorted(amounts, key=lambda a: -len(a.text)):
        text = text.replace(a.text, money(a.value))
    return text


# --- per intent ----------------------------------------------------------------------------------

Extractor = Callable[[Frame, SlotResult], None]
EXTRACTORS: dict[str, Extractor] = {}


def extractor(*intents: str) -> Callable[[Extractor], Extractor]:
    def deco(fn: Extractor) -> Extractor:
        for i in intents:
            EXTRACTORS[i] = fn
        return fn
    return deco


@extractor("customer.profile")
def _profile(f: Frame, out: SlotResult) -> None:
    _customer(f, out)
    aspects = {"owner": r"负责人|谁在跟|谁跟|谁负责|对接人|归谁", "tier": r"级别|等级|几级",
               "risk": r"风险|流失|隐患", "payments": r"回款|尾款|款项|付款|收款",
               "contact": r"上次|最近一次|最后一次|联系人|电话|联系方式", "projects": r"项目|商机|单子"}
    out.extras["aspects"] = [k for k, p in aspects.items() if re.search(p, f.text)]


@extractor("customer.list")
def _customer_list(f: Frame, out: SlotResult) -> None:
    tier = find_tier(f.text)
    if tier:
        out.slots["tier"] = tier
    skip = f.spans_of("customer", "project", "opportunity", "staff")
    ind = find_industry(f.text, skip)
    if ind:
        out.slots["industry"] = ind[0]
    if _SELF_OWNER.search(f.text):
        out.slots["owner"] = _self_ref(f)
    else:
        _staff(f, "owner", out)
    m = re.search(r"(?:打了|打上了|带|带有|贴了|有|标了|标着)\s*[「“\"#]?(?P<tag>[^\s，,。「」“”\"]{1,12}?)[」”\"]?\s*标签", f.text) \
        or re.search(r"标签\s*(?:是|为|含|包含)?\s*[:：]?\s*[「“\"#]?(?P<tag>[^\s，,。「」“”\"的]{1,12})", f.text) \
        or re.search(r"#(?P<tag>[^\s，,。#]{1,12})", f.text)
    if m:
        out.slots["tag"] = m.group("tag")


_CREATE_NAME = [
    re.compile(r"(?:叫|名叫|名字是|名字叫|名称是|名为|就是)\s*[「“\"]?(?P<name>[^\s，,。；;：:、「」“”\"（）()]{2,20})"),
    re.compile(r"(?:客户|线索)\s*[：:]?\s*[「“\"]?(?P<name>[^\s，,。；;：:、「」“”\"（）()]{2,20})"),
]
_NAME_TAIL = re.compile(r"(的|吧|呢|啊|了|这家|公司)$")


def _new_name(text: str) -> tuple[str, tuple[int, int]] | None:
    for pattern in _CREATE_NAME:
        for m in pattern.finditer(text):
            name = _NAME_TAIL.sub("", m.group("name"))
            if len(name) >= 2 and not re.match(r"^(是|有|的|叫|一家|一个|来了)", name):
                return name, m.span("name")
    return None


@extractor("customer.create")
def _customer_create(f: Frame, out: SlotResult) -> None:
    named = _new_name(f.text)
    skip: list[tuple[int, int]] = []
    if named:
        out.slots["customer"] = named[0]
        skip.append(named[1])
    ind = find_industry(f.text, skip)
    if ind:
        out.slots["industry"] = ind[0]


@extractor("customer.update")
def _customer_update(f: Frame, out: SlotResult) -> None:
    _customer(f, out)
    fields = _vocab()["update_fields"]
    text = f.text
    value_part = re.split(r"改成|改为|换成|调成|调整为|调整成|调为|升成|升为|升到|升级为|升级成|降为|降成|降到|降级为|设为|设置为|"
                          r"更新为|变更为|变成|换为|改到|转给|移交给|交接给|划给|分给", text, maxsplit=1)
    after = value_part[1] if len(value_part) > 1 else ""
    field_name = None
    tier = find_tier(after or text)
    if tier:
        field_name = "tier"
    else:
        hits = [(len(w), name) for name, words in fields.items() for w in words if w in text]
        if hits:
            field_name = max(hits)[1]
        if field_name is None and f.links.of("staff"):
            field_name = "owner"
    if field_name is None:
        return
    out.slots["field"] = field_name
    if field_name == "tier" and tier:
        out.slots["value"] = tier
    elif field_name == "owner":
        staff = [m for m in f.links.of("staff") if not after or m.start >= len(value_part[0])] or f.links.of("staff")
        if staff:
            out.slots["value"] = staff[0].entity.key
        elif re.search(r"(改成|换成|转给|给)(我|我自己)", text):
            out.slots["value"] = _self_ref(f)
    elif field_name == "budget_level":
        for level, words in _vocab()["budget_levels"].items():
            if any(w in after for w in words):
                out.slots["value"] = level
                break
    elif field_name == "industry":
        ind = find_industry(after) if after else None
        out.slots["value"] = ind[0] if ind else _tidy(after) or None
    elif after:
        out.slots["value"] = _tidy(after)
    if out.slots.get("value") is None:
        out.slots.pop("value", None)


@extractor("customer.tag")
def _customer_tag(f: Frame, out: SlotResult) -> None:
    _customer(f, out)
    text = f.text
    remove = re.search(r"(去掉|删掉|删除|移除|去除|取消|摘掉|拿掉|撕掉|不要)", text) is not None
    tag_chars = r"[^\s，,。「」“”\"]"
    m = re.search(r"标签\s*[「“\"](?P<tag>[^」”\"]{1,16})", text) \
        or re.search(r"的(?P<tag>[^\s，,。的「」]{1,10}?)(?:这个|这一)?标签\s*(?:删掉|去掉|删除|移除|取消|拿掉|摘掉|撕掉)", text) \
        or re.search(rf"标签\s*(?:[：:]|是|为|加一个|加个|加上)\s*[「“\"#]?(?P<tag>{tag_chars}{{1,16}})", text) \
        or re.search(rf"标签\s+[「“\"#]?(?P<tag>{tag_chars}{{1,16}})", text) \
        or re.search(rf"(?:打|加|贴|添加|新增|上|挂)(?:个|一个|上)?\s*[「“\"#]?(?P<tag>{tag_chars}{{1,12}}?)[」”\"]?\s*(?:的)?标签",
                     text) \
        or re.search(rf"(?:去掉|删掉|删除|移除|去除|取消|摘掉|拿掉|撕掉)(?:标签)?\s*[「“\"#]?(?P<tag>{tag_chars}{{1,12}}?)"
                     r"[」”\"]?\s*(?:的)?(?:标签|$)", text) \
        or re.search(r"[#＃](?P<tag>[^\s，,。#]{1,12})", text)
    if m:
        tag = re.sub(r"(这个|那个|这一|的)$", "", m.group("tag").strip("「」“”\"'#"))
        cust = f.links.best("customer")
        if tag in ("个", "一个", "上", "") or (cust is not None and tag in cust.entity.name):
            tag = ""
        if tag:
            out.slots["tag"] = tag
    if remove:
        out.slots["op"] = "remove"


_FOLLOWUP_KINDS = (("电话", r"电话|通话|打给|致电"), ("拜访", r"拜访|上门|见面|见了|面谈|去了.{0,6}公司"),
                   ("会议", r"开会|开了会|会议|碰了个?会|开完会"), ("微信", r"微信|企微"), ("邮件", r"邮件|邮箱|email"))


@extractor("followup.log")
def _followup(f: Frame, out: SlotResult) -> None:
    _customer(f, out)
    spans = f.spans_of("customer", "project", "opportunity")
    text = _cut(f.text, [s for s in spans if s[1] - s[0] > 0][:1])
    text = _remove_words(text, _vocab()["followup_cues"] + ["帮我", "帮忙", "一下"])
    text = re.sub(r"^[，,\s]*(今天|刚刚|刚才|刚)?[，,\s]*", "", text)
    text = re.sub(r"(和|跟|与)[，,](?=\S)", r"与", text)
    summary = _tidy(_normalise_amounts(text, f.amounts))
    if summary:
        out.slots["summary"] = summary
    for kind, pattern in _FOLLOWUP_KINDS:
        if re.search(pattern, f.text):
            out.extras["kind"] = kind
            break


@extractor("lead.create")
def _lead_create(f: Frame, out: SlotResult) -> None:
    named = _new_name(f.text)
    skip: list[tuple[int, int]] = []
    if named:
        out.slots["customer"] = named[0]
        skip.append(named[1])
    industry_span = None
    ind = find_industry(f.text, skip)
    if ind and re.search(rf"{re.escape(f.text[ind[1][0]:ind[1][1]])}(行业|类|领域|赛道)", f.text):
        out.slots["industry"] = ind[0]
        industry_span = ind[1]
    if f.amounts:
        out.slots["amount"] = f.amounts[0].value
    text = f.text
    cut_spans = list(skip)
    if industry_span:
        end = industry_span[1]
        while end < len(text) and text[end] in "行业类领域赛道的":
            end += 1
        cut_spans.append((industry_span[0], end))
    text = _cut(text, cut_spans)
    text = re.sub(r"(来了个|来了一个|来了|录个|录一个|新建|新增|加个|有个|有一个|有条|记个)?(新的?)?线索[:：]?", " ", text)
    text = re.sub(r"(一家|一个)?(叫|名叫|名字是|名字叫)[，,]", " ", text)
    summary = _tidy(_normalise_amounts(text, f.amounts))
    summary = re.sub(r"^(一家|一个)", "", summary)
    if summary:
        out.slots["summary"] = summary


@extractor("lead.claim")
def _lead_claim(f: Frame, out: SlotResult) -> None:
    hit = f.linker.leads(f.text)
    if hit:
        out.slots["lead"] = hit[0].entity.name
        out.extras["lead_ref"] = hit[0].entity.key
        return
    m = re.search(r"(?:认领|领取|领|接手|抢)(?:一下|下)?(?:这条|这个|一条|一个)?(?:线索)?\s*[:：]?\s*[「“\"]?(?P<name>[^\s，,。「」“”\"]{2,20})",
                  f.text)
    if m and not re.search(r"线索|池|公海|吗|么|哪", m.group("name")):
        out.slots["lead"] = m.group("name")


@extractor("opportunity.list")
def _opportunity_list(f: Frame, out: SlotResult) -> None:
    if _SELF_OWNER.search(f.text):
        out.slots["owner"] = _self_ref(f)
    else:
        _staff(f, "owner", out)
    stage = find_stage(f.text)
    if stage:
        out.slots["stage"] = stage


@extractor("opportunity.stage")
def _opportunity_stage(f: Frame, out: SlotResult) -> None:
    _customer(f, out, use_context=True)
    opp = f.links.best("opportunity")
    if opp is not None and opp.score >= 70:
        _entity(f, "opportunity", "opportunity", out)
        if "customer" not in out.slots and "customer" not in out.ambiguous and opp.entity.customer_id:
            cust = f.linker.catalogue.customer_by_id(opp.entity.customer_id)
            if cust:
                out.slots["customer"] = cust.key
    stage = find_stage(f.text)
    if stage:
        out.slots["stage"] = stage
    if f.amounts:
        out.slots["amount"] = f.amounts[0].value


@extractor("project.status")
def _project_status(f: Frame, out: SlotResult) -> None:
    if _entity(f, "project", "project", out) is None and "project" not in out.ambiguous:
        cust = f.links.best("customer")
        if cust is not None:
            out.extras["customer"] = cust.entity.key
        elif f.context.get("project") and (f.pronoun or not _named_something(f)):
            out.slots["project"] = f.context["project"]
            out.extras["from_context"] = True


_TASK_TITLE = [
    re.compile(r"(?:任务|待办|todo|TODO)\s*[：:]\s*(?P<t>[^，,；;。\n]+)"),
    re.compile(r"需要(?:一个|个)(?P<t>.{2,24}?)的?(?:任务|待办)"),
    re.compile(r"(?:建|加|新建|添加|创建|安排|派|布置|开|新增)(?:个|一个|条|一条)?(?:新的?)?(?:任务|待办)\s+(?P<t>[^，,；;。\n]+)"),
]
_TASK_NOISE = re.compile(
    r"(那边|这边|下面|底下|项目里|项目下|项目中|项目|里面)?(加个|加一个|建个|建一个|新建|添加|创建|安排|派个|布置|开个|新增)"
    r"(个|一个|条)?(新的?)?(任务|待办)|(给我自己|给我|帮我|我自己)|提醒我|(交给|派给|分给|指派给|安排给|让|给|由)$|"
    r"(负责|来做|来负责|跟进|搞定|处理|交|要|完成|deadline|ddl|截止)$|^(在|给|把任务)")


@extractor("task.create")
def _task_create(f: Frame, out: SlotResult) -> None:
    text = f.text
    project = _entity(f, "project", "project", out)
    staff = [m for m in f.links.of("staff")]
    if staff:
        _staff(f, "assignee", out)
    elif _SELF_ASSIGNEE.search(text):
        out.slots["assignee"] = _self_ref(f)
    if f.dates:
        out.slots["due"] = f.dates[0].value.isoformat()
    removable = [(d.start, d.end) for d in f.dates] + [m.span for m in staff[:1]]
    if project is not None:
        removable.append(project.span)
    title = None
    for pattern in _TASK_TITLE:
        m = pattern.search(text)
        if m:
            s, e = m.span("t")
            inner = _cut(text[:e], [(max(a, s), min(b, e)) for a, b in removable if a < e and s < b])[s:]
            title = _clean_title(inner)
            if title:
                break
    if not title:
        segments = [_clean_title(seg) for seg in _SEG.split(_cut(text, removable))]
        segments = [s for s in segments if s]
        title = max(segments, key=len) if segments else None
    if title:
        out.slots["title"] = title


def _clean_title(segment: str) -> str:
    parts = [p for p in re.split(r"[，,]", segment) if p.strip()]
    cleaned = []
    for p in parts:
        p = p.strip()
        for _ in range(3):
            p = _TASK_NOISE.sub("", p).strip(_PUNCT)
        if p and not re.fullmatch(r"(的|了|吧|前|之前|负责|来|交|要|在|给|把)+", p):
            cleaned.append(p)
    return max(cleaned, key=len) if cleaned else ""


@extractor("task.done")
def _task_done(f: Frame, out: SlotResult) -> None:
    if not f.links.of("task"):
        f.links.by_kind["task"] = f.linker.tasks(f.text)
    _entity(f, "task", "task", out)


@extractor("task.list")
def _task_list(f: Frame, out: SlotResult) -> None:
    text = f.text
    overdue = re.search(r"逾期|超期|延期|拖期|过期|超时|没按时|晚了", text) is not None
    project = _entity(f, "project", "project", out)
    staff = f.links.of("staff")
    if staff:
        _staff(f, "assignee", out)
    selfish = re.search(r"我(的|这周|今天|本周|明天|手上|手里|还有|有|名下|逾期)|给我的|我自己", text) is not None
    if overdue:
        out.slots["scope"] = "overdue"
        if not staff and selfish:
            out.slots["assignee"] = _self_ref(f)
    elif project is not None or "project" in out.ambiguous:
        out.slots["scope"] = "project"
    elif staff:
        out.slots["scope"] = "person"
    else:
        out.slots["scope"] = "mine"
    if re.search(r"这周|本周|这个星期", text):
        out.extras["until"] = (f.today + timedelta(days=6 - f.today.weekday())).isoformat()
    elif re.search(r"今天|今日", text):
        out.extras["until"] = f.today.isoformat()


@extractor("payment.due")
def _payment_due(f: Frame, out: SlotResult) -> None:
    if f.links.of("customer") or f.pronoun:
        _customer(f, out)
    t = f.today
    if re.search(r"这周|本周|这个星期", f.text):
        out.extras["until"] = (t + timedelta(days=6 - t.weekday())).isoformat()
    elif re.search(r"下周", f.text):
        out.extras["until"] = (t + timedelta(days=13 - t.weekday())).isoformat()
    elif re.search(r"这个月|本月|月底", f.text):
        nxt = date(t.year + (t.month == 12), t.month % 12 + 1, 1)
        out.extras["until"] = (nxt - timedelta(days=1)).isoformat()
    elif f.dates:
        out.extras["until"] = f.dates[0].value.isoformat()


@extractor("ticket.create")
def _ticket_create(f: Frame, out: SlotResult) -> None:
    _customer(f, out, use_context=True)
    spans = f.spans_of("customer")
    text = _cut(f.text, spans[:1])
    text = re.sub(r"(帮我|帮忙|麻烦)?(开|建|提|新建|创建|报|起|录|登记|发起)(个|一个|张|一张|条)?(新的?)?(工单|问题)(吧|一下)?", " ", text)
    text = re.sub(r"^[，,\s]*(那边|这边)?(客户)?(反馈说|反馈|反映说|反映|投诉说|投诉|说|报告说|报告)", " ", text)
    summary = _tidy(text)
    if summary:
        out.slots["summary"] = summary


_TICKET_NO = re.compile(r"(?:工单|单号|TK-?|#)\s*(?:号|编号)?\s*#?(\d{3,})|(\d{3,})\s*号?工单", re.IGNORECASE)


@extractor("ticket.status")
def _ticket_status(f: Frame, out: SlotResult) -> None:
    m = _TICKET_NO.search(f.text)
    if m:
        out.slots["ticket"] = m.group(1) or m.group(2)


@extractor("case.search")
def _case_search(f: Frame, out: SlotResult) -> None:
    skip = f.spans_of("customer", "project", "opportunity")
    ind = find_industry(f.text, skip, loose=True)
    if ind:
        out.slots["industry"] = ind[0]
    fmt = find_format(f.text, skip)
    if fmt:
        out.slots["format"] = fmt[0]
    if f.metrics:
        out.slots["metric"] = f.metrics[0].slot
    text = f.text
    for m in f.metrics:  # keep the condition as written, but as one token
        text = text.replace(m.text, " " + m.text.replace(" ", "") + " ")
    query = _remove_words(text, _vocab()["case_fillers"])
    query = re.sub(r"[，,。；;！!？?\s]+", " ", query).strip()
    if query:
        out.slots["query"] = query


@extractor("kb.ask")
def _kb_ask(f: Frame, out: SlotResult) -> None:
    text = _remove_words(f.text, _vocab()["kb_fillers"])
    query = re.sub(r"\s+", " ", text).strip(_PUNCT)
    if query:
        out.slots["query"] = query


@extractor("talent.recommend")
def _talent(f: Frame, out: SlotResult) -> None:
    if f.dates:
        out.slots["due"] = f.dates[0].value.isoformat()
    spans = [(d.start, d.end) for d in f.dates] + f.spans_of("customer", "project", "opportunity")
    text = _cut(f.text, spans)
    text = _remove_words(text, _vocab()["talent_fillers"])
    text = re.sub(r"(前|之前|以前)?(能|可以)?(接|做|出图|出稿|交)(个活|活)?", " ", text)
    text = re.sub(r"(月底|下周|这周|本周)?(前|之前)?(要)?出图", " ", text)
    words = [w.strip("的") for w in re.split(r"[，,。；;！!？?\s]+", text)]
    query = " ".join(w for w in words if w and w not in ("要", "能", "有", "谁", "个", "活", "人", "接"))
    query = re.sub(r"(\S)的(\S)", r"\1\2", query)
    if query:
        out.slots["query"] = query


@extractor("risk.list")
def _risk(f: Frame, out: SlotResult) -> None:
    if _SELF_OWNER.search(f.text):
        out.slots["owner"] = _self_ref(f)
    else:
        _staff(f, "owner", out)


@extractor("report.show")
def _report(f: Frame, out: SlotResult) -> None:
    report = find_report(f.text)
    if report:
        out.slots["report"] = report
    dept = re.search(r"([\u4e00-\u9fff]{1,4}部)", f.text)
    if dept:
        out.extras["department"] = dept.group(1)


def extract(intent: str, frame: Frame) -> SlotResult:
    out = SlotResult()
    fn = EXTRACTORS.get(intent)
    if fn is not None:
        fn(frame, out)
    return out


from handlers.nlu import slots_curation  # noqa: E402, F401  (registers the curation extractors)
