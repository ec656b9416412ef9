"""A push to one colleague's personal chat with the bot, through the outbox (deduped by key).

The route follows what is configured: the WeCom self-built app (``message/send`` to the userid)
when WeCom is set up and the person has a WeCom id; else DingTalk 1:1 through the robot's OpenAPI;
else the web console's 1:1 chat (``dm:<userid>``). Outside quiet hours the message is due at once;
inside them it waits for their end (these pushes are never urgent).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

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


def personal_message(staff: Staff, title: str, lines: list[str], dedupe_key: str,
                     settings: Settings) -> outbox.NewMessage:
    plain = "\n".join([f"【{title}】", *lines])
    if settings.wecom_corp_id and staff.wecom_userid:
        markdown = "\n".join([f"**{title}**", *lines])
        return outbox.NewMessage(channel="wecom_app", target=staff.wecom_userid, text=markdown, msg_type="markdown",
                                 payload={"msgtype": "markdown"}, dedupe_key=dedupe_key)
    if settings.dingtalk_app_key and staff.dingtalk_userid:
        markdown = "\n\n".join([f"**{title}**", *lines])
        return outbox.NewMessage(channel="dingtalk", target=f"dm:{staff.dingtalk_userid}", text=markdown,
                                 msg_type="markdown", dedupe_key=dedupe_key,
                                 payload={"conversation_type": "1", "robot_code": settings.dingtalk_app_key,
                                          "sender_staff_id": staff.dingtalk_userid, "title": title})
    who = staff.wecom_userid or staff.dingtalk_userid or staff.ref or str(staff.id)
    return outbox.NewMessage(channel="console", target=f"dm:{who}", text=plain, dedupe_key=dedupe_key)


def to_staff(session: Session, staff: Staff, title: str, lines: list[str], *, dedupe_key: str, now: datetime,
             settings: Settings | None = None) -> OutboxMessage:
    settings = settings or get_settings()
    message = personal_message(staff, title, lines, dedupe_key, settings)
    return outbox.enqueue(session, [message], now=now, hold_until=quiet_until(now, settings))[0]
