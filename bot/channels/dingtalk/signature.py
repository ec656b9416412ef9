"""DingTalk signatures: the enterprise robot callback headers and the custom robot's signed URL.

Both are ``base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))`` with ``timestamp`` in
milliseconds. A callback is accepted only within the window (1 hour) around our clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit


def sign(timestamp_ms: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check_callback(timestamp: str | None, signature: str | None, secret: str, *, window_seconds: int,
                   now_ms: int | None = None) -> str | None:
    """None when the request is genuine; otherwise the reason to refuse it."""
    if not secret:
        return "未配置 DINGTALK_APP_SECRET，拒绝所有回调"
    if not timestamp or not signature:
        return "缺少 timestamp 或 sign 请求头"
    if not timestamp.isdigit():
        return "timestamp 不是毫秒时间戳"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > window_seconds * 1000:
        return f"timestamp 超出 {window_seconds} 秒有效期"
    if not hmac.compare_digest(sign(timestamp, secret), signature):
        return "sign 签名不匹配"
    return None


def signed_webhook_url(url: str, secret: str | None, *, now_ms: int | None = None) -> str:
    """Append ``timestamp`` and ``sign`` to a custom robot webhook URL (when the robot uses 加签)."""
    if not secret:
        return url
    timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    parts = urlsplit(url)
    extra = urlencode({"timestamp": timestamp, "sign": sign(timestamp, secret)}, quote_via=quote_plus)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
