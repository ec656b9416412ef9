"""Where a message goes, and how a ``Reply`` becomes outbox rows for that place.

Each address renders the reply in its messenger's dialect, splits it under that message type's byte
limit, and yields one ``NewMessage`` per request the sender will make. The first row of a reply
also carries the reply as HTML, so the web console can show pushes as a person would see them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from bot.render import Dialect, limits, render, render_parts, title_of
from crm_core.services.outbox import NewMessage
from handlers.reply import Reply


def _keys(base: str | None, count: int) -> list[str | None]:
    if base is None:
        return [None] * count
    return [base] if count == 1 else [f"{base}#{i}/{count}" for i in range(1, count + 1)]


def _rows(channel: str, target: str, parts: list[str], payloads: list[dict[str, Any]], reply: Reply,
          dedupe_key: str | None, *, msg_type: str, mentions: list[str], rate_key: str | None = None,
          html: bool = True) -> list[NewMessage]:
    first: dict[str, Any] = {"html": render(reply, Dialect.html)} if html else {}
    first["parts"] = len(parts)
    rows = []
    for i, (part, payload, key) in enumerate(zip(parts, payloads, _keys(dedupe_key, len(parts)), strict=True)):
        extra = first if i == 0 else {"continuation": True}
        rows.append(NewMessage(channel=channel, target=target, text=part, msg_type=msg_type,
                               payload={**payload, **extra}, mentions=mentions if i == 0 else [],
                               dedupe_key=key, rate_key=rate_key))
    return rows


@dataclass(frozen=True)
class ConsoleChat:
    """The web console: nothing leaves the machine; the console polls these rows."""

    chat_id: str

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        return _rows("console", self.chat_id, [reply.plain()], [{}], reply, dedupe_key, msg_type="text",
                     mentions=list(reply.mentions), html=html)


@dataclass(frozen=True)
class WeComAppUser:
    """A member's 1:1 chat with the self-built app (``message/send``).

    A callback can be answered passively with one text message (2048 bytes). A reply that fits is one
    markdown row for the API that also carries its plain text for the passive answer. A longer one is
    split into numbered text parts: the first can still be the passive answer, the rest follow
    through the API, so the reader sees "（1/3）" at once and the others right after."""

    userid: str

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        plain = reply.plain()
        if len(plain.encode("utf-8")) <= limits.WECOM_TEXT_BYTES:
            parts = render_parts(reply, Dialect.wecom_markdown)
            payloads: list[dict[str, Any]] = [{"msgtype": "markdown"} for _ in parts]
            payloads[0]["passive_text"] = plain
            return _rows("wecom_app", self.userid, parts, payloads, reply, dedupe_key, msg_type="markdown",
                         mentions=[], html=html)
        parts = render_parts(reply, Dialect.text, limit_bytes=limits.WECOM_TEXT_BYTES)
        payloads = [{"msgtype": "text"} for _ in parts]
        payloads[0]["passive_text"] = parts[0]
        return _rows("wecom_app", self.userid, parts, payloads, reply, dedupe_key, msg_type="text", mentions=[], html=html)


@dataclass(frozen=True)
class WeComRobotChat:
    """A smart robot conversation: one answer through the callback's ``response_url`` (usable once)."""

    chat: str
    response_url: str

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        body = render(reply, Dialect.wecom_markdown)
        if len(body.encode("utf-8")) > limits.WECOM_ROBOT_STREAM_BYTES:
            cut = body.encode("utf-8")[: limits.WECOM_ROBOT_STREAM_BYTES - 60].decode("utf-8", errors="ignore")
            body = cut.rsplit("\n", 1)[0] + "\n……（内容过长，已截断）"
        return _rows("wecom_robot", self.chat, [body], [{"response_url": self.response_url}], reply, dedupe_key,
                     msg_type="markdown", mentions=[], html=html)


@dataclass(frozen=True)
class WeComKfCustomer:
    """A client in 微信客服 (``kf/send_msg``, text only)."""

    open_kfid: str
    external_userid: str

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        parts = render_parts(reply, Dialect.text, limit_bytes=limits.WECOM_KF_TEXT_BYTES)
        return _rows("wecom_kf", self.external_userid, parts, [{"open_kfid": self.open_kfid} for _ in parts],
                     reply, dedupe_key, msg_type="text", mentions=[], html=html)


@dataclass(frozen=True)
class DingTalkConversation:
    """A DingTalk robot conversation: the callback's ``sessionWebhook`` while valid, then the OpenAPI."""

    conversation_id: str
    conversation_type: str  # "1" 1:1, "2" group
    robot_code: str
    sender_staff_id: str | None = None
    session_webhook: str | None = None
    session_expires_ms: int | None = None

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        mentions = list(reply.mentions)
        if self.conversation_type == "2" and self.sender_staff_id and self.sender_staff_id not in mentions:
            mentions.append(self.sender_staff_id)  # in a group, answer the person who asked
        with_mentions = reply.model_copy(update={"mentions": mentions})
        parts = render_parts(with_mentions, Dialect.dingtalk_markdown, mentions_in_text=bool(mentions))
        title = title_of(reply)
        routing = {"conversation_type": self.conversation_type, "robot_code": self.robot_code,
                   "sender_staff_id": self.sender_staff_id, "session_webhook": self.session_webhook,
                   "session_expires_ms": self.session_expires_ms, "title": title}
        return _rows("dingtalk", self.conversation_id, parts, [dict(routing) for _ in parts], reply, dedupe_key,
                     msg_type="markdown", mentions=mentions, html=html)


def _rate_key(kind: str, url: str) -> str:
    return f"{kind}:{hashlib.sha1(url.split('&timestamp=')[0].encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class WeComGroupRobot:
    """A WeCom group robot webhook bound to a chat (push-only; 20 messages per minute per robot)."""

    chat_id: str
    binding_id: int
    webhook_url: str
    mention_mobiles: list[str] = field(default_factory=list)

    @property
    def rate_key(self) -> str:
        return _rate_key("wecom_webhook", self.webhook_url)

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        base = {"binding_id": self.binding_id}
        if reply.mentions or self.mention_mobiles:  # @ works in text messages: mentioned_list / mentioned_mobile_list
            parts = render_parts(reply, Dialect.text, limit_bytes=limits.WECOM_TEXT_BYTES)
            bodies = [{"msgtype": "text", "text": {"content": p}} for p in parts]
            bodies[0]["text"].update({"mentioned_list": list(reply.mentions),
                                      "mentioned_mobile_list": list(self.mention_mobiles)})
            msg_type = "text"
        else:
            parts = render_parts(reply, Dialect.wecom_markdown)
            bodies = [{"msgtype": "markdown", "markdown": {"content": p}} for p in parts]
            msg_type = "markdown"
        mentions = list(reply.mentions) + [f"mobile:{m}" for m in self.mention_mobiles]
        return _rows("wecom_webhook", self.chat_id, parts, [{**base, "body": b} for b in bodies], reply, dedupe_key,
                     msg_type=msg_type, mentions=mentions, rate_key=self.rate_key, html=html)

    def image(self, data: bytes, dedupe_key: str | None = None, caption: str = "[图片]") -> NewMessage:
        body = {"msgtype": "image", "image": {"base64": base64.b64encode(data).decode("ascii"),
                                              "md5": hashlib.md5(data).hexdigest()}}
        return NewMessage(channel="wecom_webhook", target=self.chat_id, text=caption, msg_type="image",
                          payload={"binding_id": self.binding_id, "body": body}, dedupe_key=dedupe_key,
                          rate_key=self.rate_key)

    def news(self, articles: list[dict[str, str]], dedupe_key: str | None = None) -> NewMessage:
        """``articles``: title, description, url, picurl (1–8)."""
        body = {"msgtype": "news", "news": {"articles": articles[:8]}}
        text = "\n".join(a.get("title", "") for a in articles[:8])
        return NewMessage(channel="wecom_webhook", target=self.chat_id, text=text, msg_type="news",
                          payload={"binding_id": self.binding_id, "body": body}, dedupe_key=dedupe_key,
                          rate_key=self.rate_key)


@dataclass(frozen=True)
class DingTalkGroupRobot:
    """A DingTalk custom robot webhook (signed per request when it has a secret)."""

    chat_id: str
    binding_id: int
    webhook_url: str
    mention_mobiles: list[str] = field(default_factory=list)

    @property
    def rate_key(self) -> str:
        return _rate_key("dingtalk_webhook", self.webhook_url)

    def _at(self, user_ids: list[str]) -> dict[str, Any]:
        return {"atUserIds": user_ids, "atMobiles": list(self.mention_mobiles), "isAtAll": False}

    def messages(self, reply: Reply, dedupe_key: str | None = None, *, html: bool = True) -> list[NewMessage]:
        everyone = list(reply.mentions) + list(self.mention_mobiles)
        tagged = reply.model_copy(update={"mentions": everyone})
        parts = render_parts(tagged, Dialect.dingtalk_markdown, mentions_in_text=bool(everyone))
        title = title_of(reply)
        bodies = [{"msgtype": "markdown", "markdown": {"title": title, "text": p}} for p in parts]
        bodies[0]["at"] = self._at(list(reply.mentions))
        mentions = list(reply.mentions) + [f"mobile:{m}" for m in self.mention_mobiles]
        return _rows("dingtalk_webhook", self.chat_id, parts, [{"binding_id": self.binding_id, "body": b} for b in bodies],
                     reply, dedupe_key, msg_type="markdown", mentions=mentions, rate_key=self.rate_key, html=html)

    def action_card(self, title: str, markdown: str, buttons: list[tuple[str, str]],
                    dedupe_key: str | None = None) -> NewMessage:
        """An actionCard with one button (whole-card link) or several (``btns``)."""
        card: dict[str, Any] = {"title": title, "text": markdown, "btnOrientation": "0"}
        if len(buttons) == 1:
            card.update(singleTitle=buttons[0][0], singleURL=buttons[0][1])
        else:
            card["btns"] = [{"title": t, "actionURL": u} for t, u in buttons]
        return NewMessage(channel="dingtalk_webhook", target=self.chat_id, text=f"{title}\n{markdown}",
                          msg_type="actionCard", payload={"binding_id": self.binding_id,
                                                          "body": {"msgtype": "actionCard", "actionCard": card}},
                          dedupe_key=dedupe_key, rate_key=self.rate_key)
