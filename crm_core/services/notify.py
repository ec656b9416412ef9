"""A push to one colleague's personal chat with the bot, through the outbox (deduped by key).

The route (``personal_route``, shared with the scheduled jobs' pushes) follows what is configured:
the WeCom self-built app (``message/send`` to the userid) when the app can send (corp id and secret)
and the person has a WeCom id; else DingTalk 1:1 through the robot's OpenAPI (app key and secret);
else the web console's 1:1 chat (``dm:<userid>``). Outside quiet hours the message is due at once;
inside them it waits for their end (these pushes are never urgent).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from config import Settings, get_settings
from crm_core.models import OutboxMessage, Staff
from crm_core.services import outbox


def quiet_until(now: datetime, settings: Settings) -> datetime | None:
    """End of the quiet hours ``now`` falls in, or None."""
    local = now.astimezone(settings.tz)
    start, end = settings.quiet_hours
    t = local.timetz().replace(tzinfo=None)
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end.hour, end.minute), tzinfo=settings.tz)


Route = Literal["wecom_app", "dingtalk", "console"]


def personal_route(settings: Settings, wecom_userid: str | None, dingtalk_userid: str | None,
                   fallback: str) -> tuple[Route, str]:
    """Where a colleague's 1:1 chat with the bot is, and their id there. A messenger counts only when the
    bot can send through it: a message queued for an app without its secret would only fail."""
    if settings.wecom_corp_id and settings.wecom_secret and wecom_userid:
        return "wecom_app", wecom_userid
    if settings.dingtalk_app_key and settings.dingtalk_app_secret and dingtalk_userid:
        return "dingtalk", dingtalk_userid
    return "console", wecom_userid or dingtalk_userid or fallback


def personal_message(staff: Staff, title: str, lines: list[str], dedupe_key: str,
                     settings: Settings) -> outbox.NewMessage:
    route, who = personal_route(settings, staff.wecom_userid, staff.dingtalk_userid, f"staff:{staff.id}")
    if route == "wecom_app":
        markdown = "\n".join([f"**{title}**", *lines])
        return outbox.NewMessage(channel="wecom_app", target=who, text=markdown, msg_type="markdown",
                                 payload={"msgtype": "markdown"}, dedupe_key=dedupe_key)
    if route == "dingtalk":
        markdown = "\n\n".join([f"**{title}**", *lines])
        return outbox.NewMessage(channel="dingtalk", target=f"dm:{who}", text=markdown,
                                 msg_type="markdown", dedupe_key=dedupe_key,
                                 payload={"conversation_type": "1", "robot_code": settings.dingtalk_app_key,
                                          "sender_staff_id": who, "title": title})
    return outbox.NewMessage(channel="console", target=f"dm:{who}", text="\n".join([f"【{title}】", *lines]),
                             dedupe_key=dedupe_key)


def to_staff(session: Session, staff: Staff, title: str, lines: list[str], *, dedupe_key: str, now: datetime,
             settings: Settings | None = None) -> OutboxMessage:
    settings = settings or get_settings()
    message = personal_message(staff, title, lines, dedupe_key, settings)
    return outbox.enqueue(session, [message], now=now, hold_until=quiet_until(now, settings))[0]
