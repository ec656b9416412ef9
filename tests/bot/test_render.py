"""One Reply, four dialects, and splitting under each channel's byte limits."""

from __future__ import annotations

import pytest

from bot.delivery.addresses import DingTalkConversation, WeComAppUser, WeComKfCustomer
from bot.render import Dialect, limits, render, render_parts, split_message
from handlers.reply import Fields, Heading, ListBlock, Paragraph, Reply

REPLY = Reply(blocks=[
    Heading(text="客户档案｜星屿科技（C-1）"),
    Fields(pairs=[("级别", "战略级"), ("负责人", "甲经理")]),
    Paragraph(text="逾期回款 2 笔\n共 80万", tone="warning"),
    ListBlock(title="进行中商机：", items=["年度框架｜合同谈判", "<script>alert(1)</script>"]),
])


def test_wecom_markdown_subset() -> None:
    text = render(REPLY, Dialect.wecom_markdown)
    assert text.splitlines() == [
        "### 客户档案｜星屿科技（C-1）", "> **级别**：战略级", "> **负责人**：甲经理",
        '<font color="warning">逾期回款 2 笔</font>', '<font color="warning">共 80万</font>',
        "**进行中商机：**", "- 年度框架｜合同谈判", "- <script>alert(1)</script>"]


def test_dingtalk_markdown_breaks_lines_and_colours_in_hex() -> None:
    text = render(REPLY, Dialect.dingtalk_markdown)
    assert '<font color="#E8590C">逾期回款 2 笔</font>  \n<font color="#E8590C">共 80万</font>  ' in text
    assert "- **级别**：战略级" in text and "\n\n" in text


def test_html_is_escaped_with_tone_classes() -> None:
    html = render(REPLY, Dialect.html)
    assert "<h3>客户档案｜星屿科技（C-1）</h3>" in html
    assert '<p class="tone-warning">逾期回款 2 笔<br>共 80万</p>' in html
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_text_is_the_plain_rendering() -> None:
    assert render(REPLY, Dialect.text).splitlines()[0] == "【客户档案｜星屿科技（C-1）】"


@pytest.mark.parametrize("limit", [2048, 4096, 6000, 300])
def test_split_at_line_boundaries_with_numbering(limit: int) -> None:
    lines = [f"第{i}行：星屿科技品牌升级项目素材第{i}批（含中文、English 与 emoji 🎯）" for i in range(400)]
    parts = split_message("\n".join(lines), limit)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= limit for p in parts)
    assert [p.split("\n", 1)[0] for p in parts] == [f"（{i}/{len(parts)}）" for i in range(1, len(parts) + 1)]
    body_lines = [line for p in parts for line in p.split("\n")[1:]]
    assert body_lines == lines  # nothing lost, nothing cut mid-line


def test_a_line_longer_than_the_limit_is_cut_between_characters() -> None:
    line = "星" * 1000 + "🎯" * 100  # 3000 + 400 bytes, no newline
    parts = split_message(line, 2048)
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert "".join(p.split("\n", 1)[1] for p in parts) == line  # every part decodes: no character was split


def test_short_message_is_not_numbered() -> None:
    assert split_message("你好", 2048) == ["你好"]


def test_numbering_width_grows_with_the_part_count() -> None:
    text = "\n".join("一二三四五六七八九十" * 3 for _ in range(400))  # ~36 KB
    parts = split_message(text, 300)
    assert len(parts) >= 100 and all(len(p.encode("utf-8")) <= 300 for p in parts)
    assert parts[-1].startswith(f"（{len(parts)}/{len(parts)}）")


def long_reply(n: int) -> Reply:
    return Reply(blocks=[ListBlock(items=[f"任务 {i}：整理星屿科技第 {i} 批素材" for i in range(n)])])


def test_each_address_splits_under_its_channel_limit() -> None:
    reply = long_reply(400)
    app = WeComAppUser("am1").messages(reply, "k")
    # too long for one passive text answer: numbered text parts, the first one answerable passively
    assert len(app) > 1 and all(len(m.text.encode()) <= limits.WECOM_TEXT_BYTES for m in app)
    assert app[0].payload["passive_text"] == app[0].text and app[0].text.startswith(f"（1/{len(app)}）")
    assert all("passive_text" not in m.payload for m in app[1:])
    kf = WeComKfCustomer("wk1", "wm1").messages(reply, "k")
    assert all(len(m.text.encode()) <= limits.WECOM_KF_TEXT_BYTES for m in kf)
    dt = DingTalkConversation("cid", "2", "robot", "dt_am1").messages(reply, "k")
    assert all(len(m.text.encode()) <= limits.DINGTALK_MARKDOWN_BYTES for m in dt)
    assert [m.dedupe_key for m in app] == [f"k#{i}/{len(app)}" for i in range(1, len(app) + 1)]


def test_short_app_reply_can_be_answered_passively() -> None:
    [message] = WeComAppUser("am1").messages(Reply.text("好的", tone="info"), "k")
    assert message.payload["passive_text"] == "好的"
    assert message.msg_type == "markdown" and message.text == '<font color="info">好的</font>'


def test_render_parts_default_limits() -> None:
    assert render_parts(long_reply(10), Dialect.text) == [render(long_reply(10), Dialect.text)]
