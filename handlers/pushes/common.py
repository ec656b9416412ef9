"""Shared pieces of push messages: who to @ in which messenger, dates, the daily-limit line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from crm_core.services.reminders import Person
from handlers.reply import Paragraph

WEEKDAYS = "一二三四五六日"


@dataclass
class Mentions:
    """Collects the people a group message @-mentions, as the group's messenger knows them."""

    channel: str  # the group binding's messenger: wecom | dingtalk | console
    ids: list[str] = field(default_factory=list)
    mobiles: list[str] = field(default_factory=list)  # people without an id on that messenger

    def at(self, person: Person | None) -> str:
        """"@姓名" for the text, and the person is added to the message's mentions."""
        if person is None:
            return "（未指派）"
        uid = person.dingtalk_userid if self.channel == "dingtalk" else person.wecom_userid
        if uid:
            if uid not in self.ids:
                self.ids.append(uid)
        elif person.mobile and person.mobile not in self.mobiles:
            self.mobiles.append(person.mobile)
        return f"@{person.name}"


def short_day(d: date) -> str:
    return f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def days_text(value: float) -> str:
    if value < 1:
        return "不到 1 天"
    return f"{round(value)} 天" if value >= 10 or abs(value - round(value)) < 0.05 else f"{value:.1f} 天"


def held_line(held: int, limit: int, see: str) -> Paragraph:
    return Paragraph(text=f"今天给你的提醒已达上限（每天 {limit} 条），另有 {held} 项新提醒没有单独推送，今天之后的提醒"
                          f"会汇总进明早的每日提醒；现在查看可发送{see}。", tone="comment")


def more_line(more: int, see: str) -> Paragraph:
    return Paragraph(text=f"另有 {more} 项未逐条列出，查看全部请发送{see}。", tone="comment")
