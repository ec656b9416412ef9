"""``/console``: a page (plain HTML + JS, no build step) and its small JSON API.

Pick a demo user (a staff member or a client contact, listed from the database), pick a chat (the
1:1 chat, a project group from the chat bindings, or the client service chat), type, and see the
reply rendered as HTML — plus the pushes the outbox addressed to that chat. Messages go through the
console channel, so they get exactly the permissions of the chosen user.

``CONSOLE=local`` (default) serves the console only to requests from this machine; anyone who can
reach it can act as any user, so ``on`` is for closed demo networks only.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from bot.channels.console import send
from bot.render import Dialect, render
from bot.runtime import Runtime
from crm_core.services import inbound, outbox

STATIC = Path(__file__).parent / "static"


class ConsoleMessage(BaseModel):
    user: str = Field(min_length=1, max_length=128)
    kind: str = Field(pattern="^(staff|client)$")
    chat: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4000)


def _allowed(runtime: Runtime, request: Request) -> None:
    mode = runtime.settings.console
    if mode == "off":
        raise HTTPException(404, "控制台未启用（CONSOLE=off）")
    if mode == "local":
        host = request.client.host if request.client else ""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host in ("testclient", "localhost")
        if not local:
            raise HTTPException(403, "控制台只对本机开放（CONSOLE=local）")


def addresses_for(runtime: Runtime, chat: str, user: str) -> list[tuple[str, str]]:
    """Every (outbox channel, target) that lands in this chat as the console shows it."""
    pairs = [("console", chat)]
    if chat.startswith("dm:"):
        pairs += [("wecom_app", chat[3:]), ("wecom_robot", chat)]
    elif chat.startswith("kf:"):
        pairs.append(("wecom_kf", chat.split(":")[-1]))
    else:
        pairs += [("wecom_webhook", chat), ("dingtalk_webhook", chat), ("wecom_robot", chat), ("dingtalk", chat)]
    return pairs


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter()
    db = runtime.db

    @api.get("/console", include_in_schema=False)
    def page(request: Request) -> FileResponse:
        _allowed(runtime, request)
        return FileResponse(STATIC / "console.html", media_type="text/html; charset=utf-8")

    @api.get("/console/console.js", include_in_schema=False)
    def script(request: Request) -> FileResponse:
        _allowed(runtime, request)
        return FileResponse(STATIC / "console.js", media_type="text/javascript; charset=utf-8")

    @api.get("/console/api/people")
    def people(request: Request) -> list[dict[str, str]]:
        _allowed(runtime, request)
        with db.unit_of_work() as session:
            return [p.__dict__ for p in inbound.console_people(session)]

    @api.get("/console/api/chats")
    def chats(request: Request, user: str, kind: str = "staff") -> list[dict[str, str]]:
        _allowed(runtime, request)
        person = inbound.ConsolePerson(kind if kind in ("staff", "client") else "staff", user, "", "")
        with db.unit_of_work() as session:
            return [c.__dict__ for c in inbound.console_chats(session, person)]

    @api.post("/console/api/send")
    async def send_message(request: Request, message: ConsoleMessage) -> dict[str, Any]:
        _allowed(runtime, request)
        reply = await asyncio.to_thread(send, db, message.text, sender=message.user, chat=message.chat,
                                        external=message.kind == "client", settings=runtime.settings)
        return {"html": render(reply, Dialect.html), "plain": reply.plain(), "intent": reply.intent}

    @api.get("/console/api/pushes")
    def pushes(request: Request, chat: str, user: str = "", after: int = 0) -> list[dict[str, Any]]:
        _allowed(runtime, request)
        with db.unit_of_work() as session:
            rows = outbox.for_targets(session, addresses_for(runtime, chat, user), after_id=after)
            return [{"id": r.id, "channel": r.channel, "status": r.status,
                     "html": (r.payload or {}).get("html"), "text": r.text,
                     "continuation": bool((r.payload or {}).get("continuation")),
                     "created_at": r.created_at.isoformat()} for r in rows]

    return api
