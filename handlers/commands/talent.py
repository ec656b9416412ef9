"""/人才 (/找人) — who should do this; /人才档案 — a colleague's talent profile, and edits to it."""

from __future__ import annotations

import re

from handlers.actions.resolve import staff_ref
from handlers.commands.args import split_typed, tokens
from handlers.commands.base import apply, usage
from handlers.nlu.slots import find_industry
from handlers.registry import Context, registry
from handlers.reply import Reply

FIELDS = {"技能": "skills", "skills": "skills", "skill": "skills", "风格": "styles", "styles": "styles",
          "style": "styles", "级别": "level", "level": "level", "请假": "leave", "休假": "leave", "leave": "leave",
          "排期": "booked", "档期": "booked", "booked": "booked", "取消档期": "unblock", "取消请假": "unblock",
          "取消排期": "unblock", "unblock": "unblock", "作品": "work", "案例": "work", "work": "work"}
_RATING = re.compile(r"^(?:评分|满意度|rating)?[:：]?(\d(?:\.\d)?)分?$")
PROFILE_USAGE = ("用法：/人才档案 [同事|我] — 查看；/人才档案 <同事|我> 技能 +国潮 -三维动画｜风格 +极简｜级别 资深｜"
                 "请假 12月20日 12月22日｜排期 12月20日 12月22日 <项目>｜取消档期 12月20日｜作品 <名称> [评分4.8]")


@registry.command("人才", intent="talent.recommend", summary="按技能、档期、口碑推荐同事",
                  aliases=("找人", "talent", "rc"), usage="/人才 <需求或技能> [截止日期]",
                  examples=("/人才 国潮风短视频脚本 下周三", "/找人 三维动效 下周五", "/talent 信息流优化"), group="人才")
def talent(ctx: Context, args: str) -> Reply:
    split = split_typed(args, ctx.now.date(), want_amounts=False)
    if not split.rest:
        return usage("talent.recommend", "用法：/人才 <需求或技能> [截止日期]，例如 /人才 国潮风短视频脚本 下周三")
    slots: dict[str, object] = {"query": " ".join(split.rest)}
    if split.dates:
        slots["due"] = split.dates[0]
    return apply(ctx, "talent.recommend", slots)


@registry.command("人才档案", intent="talent.profile", summary="查看或修改技能、风格、档期、作品",
                  aliases=("talentprofile", "rcda"), usage="/人才档案 [同事|我] [技能|风格|级别|请假|排期|取消档期|作品 …]",
                  examples=("/人才档案 张浩然", "/人才档案 我 技能 +国潮 +短视频脚本", "/人才档案 我 请假 12月20日 12月22日"),
                  group="人才")
def talent_profile(ctx: Context, args: str) -> Reply:
    toks = tokens(args)
    if toks and toks[0] in FIELDS:
        toks = ["我", *toks]
    if not toks:
        if not ctx.actor.staff_ref:
            return usage("talent.profile", PROFILE_USAGE)
        return apply(ctx, "talent.profile", {"staff": ctx.actor.staff_ref})
    who = staff_ref(ctx, toks[0], "staff")
    if len(toks) == 1:
        return apply(ctx, "talent.profile", {"staff": who})
    field = FIELDS.get(toks[1])
    if field is None:
        return usage("talent.update", PROFILE_USAGE)
    rest = toks[2:]
    slots: dict[str, object] = {"staff": who, "field": field}
    if field in ("skills", "styles"):
        slots["add"] = [t.lstrip("+＋") for t in rest if not t.startswith(("-", "－")) and t.lstrip("+＋")]
        slots["remove"] = [t[1:] for t in rest if t.startswith(("-", "－")) and len(t) > 1]
        if not slots["add"] and not slots["remove"]:
            return usage("talent.update", "请写出要加或去掉的技能，例如：/人才档案 我 技能 +国潮 -三维动画")
    elif field == "level":
        if not rest:
            return usage("talent.update", "请写出级别，例如：/人才档案 张浩然 级别 资深")
        slots["value"] = rest[0]
    elif field in ("leave", "booked", "unblock"):
        split = split_typed(" ".join(rest), ctx.now.date(), want_amounts=False)
        if split.dates:
            slots["start"] = split.dates[0]
            if len(split.dates) > 1 and field != "unblock":
                slots["end"] = split.dates[1]
        if split.rest:
            slots["value"] = " ".join(split.rest)
    else:
        title = []
        for t in rest:
            m = _RATING.match(t)
            if m and (t.startswith(("评分", "满意度", "rating")) or t.endswith("分") or "." in t):
                slots["rating"] = float(m.group(1))
            elif (ind := find_industry(t, loose=True)) and len(t) <= len(ind[0]) + 1 and "industry" not in slots:
                slots["industry"] = ind[0]
            else:
                title.append(t)
        if not title:
            return usage("talent.update", "请写出作品名称，例如：/人才档案 张浩然 作品 晨光乳业国潮新年短视频 评分4.8")
        slots["value"] = " ".join(title)
    return apply(ctx, "talent.update", slots)
