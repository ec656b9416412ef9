"""The tier (with its reasons and service playbook) and the tags (with their sources) of a profile card."""

from __future__ import annotations

from crm_core.services import customer_profile as svc
from crm_core.services.tag_vocab import SOURCE_LABELS
from handlers.reply import Block, ListBlock, Paragraph

TIER_SOURCES = {"rule": "模型评定", "manual": "主管手动设定", "import": "导入"}


def tier_text(p: svc.CustomerProfile) -> str:
    info = p.tier_info
    if info is None:
        return p.tier or "未分级"
    bits = [TIER_SOURCES.get(info.source or "", "")]
    if info.score is not None:
        bits.append(f"模型评分 {info.score:g}/100")
    if info.model_tier and info.model_tier != p.tier:
        bits.append(f"模型建议 {info.model_tier}" + ("，下次夜间重算生效" if info.source == "import" else ""))
    shown = "，".join(b for b in bits if b)
    return f"{p.tier or '未分级'}（{shown}）" if shown else (p.tier or "未分级")


def tags_text(p: svc.CustomerProfile) -> str:
    if not p.tag_details:
        return "、".join(p.tags) or "—"
    return "、".join(f"{t.name}（{SOURCE_LABELS.get(t.source, t.source)}）" for t in p.tag_details)


def blocks(p: svc.CustomerProfile) -> list[Block]:
    info = p.tier_info
    out: list[Block] = []
    if info is not None and info.reasons:
        title = "分层依据（尚未评定，按当前数据估算）：" if info.live else "分层依据："
        out.append(ListBlock(title=title, items=info.reasons))
    if info is not None and info.changed:
        out.append(Paragraph(text=f"最近调整：{info.changed}", tone="comment"))
    if info is not None and info.playbook:
        out.append(ListBlock(title=f"{p.tier}服务策略：", items=info.playbook))
    if info is not None and info.cases:
        label = "专属案例推荐" if p.tier == "战略级" else "同行业高转化案例"
        out.append(ListBlock(title=f"{label}：", items=info.cases))
    reasons = [f"{t.name}：{t.reason}" for t in p.tag_details if t.source in ("rule", "nlp") and t.reason]
    if reasons:
        out.append(ListBlock(title="自动标签依据：", items=reasons))
    return out
