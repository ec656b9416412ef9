"""What every callback endpoint does before it trusts a byte: a size limit, and refusals that are
logged with their reason and never take the server down."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import PlainTextResponse

log = logging.getLogger("crmbot.callbacks")


class Refusal(Exception):
    """Refuse the request: 400 malformed, 403 not signed by the messenger, 413 too large."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (announced or actual)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise Refusal(413, f"请求体 {declared} 字节，超过上限 {limit}")
        except ValueError:
            raise Refusal(400, "Content-Length 不是数字") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"请求体超过上限 {limit} 字节")
        chunks.append(chunk)
    return b"".join(chunks)


def refusal_response(request: Request, exc: Refusal) -> PlainTextResponse:
    client = request.client.host if request.client else "-"
    log.warning("refused %s %s from %s: %d %s", request.method, request.url.path, client, exc.status, exc.reason)
    return PlainTextResponse(exc.reason, status_code=exc.status)
