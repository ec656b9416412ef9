"""Slots for the curation intents: merges, batch tags, tags from a brief, talent profiles."""

from __future__ import annotations

import re

from handlers.nlu.slots import (
    EXTRACTORS,
    Frame,
    SlotResult,
    _customer,
    _self_ref,
    _staff,
    extractor,
    find_industry,
    find_tier,
)

_INTO = re.compile(r"(并入|合并到|合并进|合到|并到)")
_WITH = re.compile(r"(和|与|跟|、)")


def _customer_in(f: Frame, start: int, end: int) -> tuple[str | None, list[tuple[str, str]]]:
    """The customer named in ``f.text[start:end]``: an exact name first (duplicates share their short name)."""
    piece = f.text[start:end]
    exact = [e for e in f.linker.catalogue.customers() if e.name and e.name in piece]
    if exact:
        longest = max(len(e.name) for e in exact)
        exact = [e for e in exact if len(e.name) == longest]
        if len(exact) == 1:
            return exact[0].key, []
    inside = [m for m in f.links.of("customer") if m.start >= start and m.end <= end]
    if not inside:
        return None, []
    top = max(m.score for m in inside)
    best = list(dict.fromkeys(m.entity.key for m in inside if m.score >= top - 3))
    if len(best) == 1:
        return best[0], []
    names = {m.entity.key: m.entity.name for m in inside}
    return None, [(k, names[k]) for k in best]


@extractor("customer.merge")
def _merge(f: Frame, out: SlotResult) -> None:
    m = _INTO.search(f.text)
    if m:  # "A 并入 B": B stays
        spans = [("drop", 0, m.start()), ("keep", m.end(), len(f.text))]
    else:
        w = _WITH.search(f.text)
        if not w:
            return
        cut = f.text.find("合并", w.end())
        spans = [("keep", 0, w.start()), ("drop", w.end(), cut if cut > 0 else len(f.text))]
        out.extras["auto"] = True  # no direction given: the action keeps the richer record
    for slot, start, end in spans:
        ref, options = _customer_in(f, start, end)
        if ref:
            out.slots[slot] = ref
        elif options:
            out.ambiguous[slot] = options


@extractor("customer.unmerge")
def _unmerge(f: Frame, out: SlotResult) -> None:
    m = re.search(r"(?:#|编号|第)\s*(\d{1,9})", f.text)
    if m:
        out.slots["record"] = int(m.group(1))


@extractor("customer.tag_batch")
def _tag_batch(f: Frame, out: SlotResult) -> None:
    single = SlotResult()
    EXTRACTORS["customer.tag"](f, single)
    if "tag" in single.slots:
        out.slots["tag"] = single.slots["tag"]
    if single.slots.get("op"):
        out.slots["op"] = single.slots["op"]
    elif re.search(r"(去掉|删掉|删除|移除|去除|摘掉|拿掉|撕掉)", f.text):
        out.slots["op"] = "remove"
    if tier := find_tier(f.text):
        out.slots["tier"] = tier
    if ind := find_industry(f.text):
        out.slots["industry"] = ind[0]
    if re.search(r"(我的|我负责的|我名下)", f.text):
        out.slots["owner"] = _self_ref(f)
    else:
        _staff(f, "owner", out)


@extractor("customer.tag_brief")
def _tag_brief(f: Frame, out: SlotResult) -> None:
    _customer(f, out)
    m = re.search(r"[:：]\s*(.+)$", f.text, flags=re.DOTALL)
    text = m.group(1).strip() if m else ""
    if text:
        out.slots["text"] = text


@extractor("talent.profile")
def _talent_profile(f: Frame, out: SlotResult) -> None:
    if not _staff(f, "staff", out) and re.search(r"我的|我自己", f.text):
        out.slots["staff"] = _self_ref(f)
