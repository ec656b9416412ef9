"""A local stand-in for the messengers' servers (qyapi.weixin.qq.com, api.dingtalk.com,
oapi.dingtalk.com): a real HTTP server on 127.0.0.1 that answers like they do, records every request,
and fails on demand (5xx, rate limits, expired tokens, dropped connections).

Access tokens are real in the sense that matters: the stand-in issues them, remembers which are
valid, and refuses a call with an unknown or expired one the way the messenger does (WeCom errcode
42001, DingTalk HTTP 401 ``InvalidAuthentication``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.bot.peers import PeerError, check_custom_robot_url


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    url: str
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # dict → JSON; None → the normal answer
    drop: bool = False  # close the connection without answering
    delay: float = 0.0


class StandIn:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self.wecom_tokens: set[str] = set()
        self.dingtalk_tokens: set[str] = set()
        self.token_lifetime = 7200
        self.issued = 0
        self.kf_pages: dict[str, dict[str, Any]] = {}  # cursor → sync_msg page
        self.custom_robot_secrets: dict[str, str] = {}  # access_token → secret (加签)
        self.app_inbox: list[dict[str, Any]] = []  # app messages that reached a member (after duplicate check)
        self.routes: dict[str, Callable[[Recorded], tuple[int, Any]]] = {}
        self.changed = threading.Condition(self.lock)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                rec = Recorded(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()},
                               body, self.path)
                status, answer, drop = standin._answer(rec)
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="standin", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what the tests script and read -----------------------------------------------------------
    def fail(self, path: str, *, status: int = 200, body: Any = None, times: int = 1, drop: bool = False,
             delay: float = 0.0) -> None:
        """The next ``times`` requests to ``path`` get this answer instead of the normal one."""
        with self.lock:
            for _ in range(times):
                self.scripts[path].append(Scripted(status, body, drop, delay))

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (as if it expired early or was reset)."""
        with self.lock:
            self.wecom_tokens.clear()
            self.dingtalk_tokens.clear()

    def calls(self, path: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [r for r in self.requests if r.path == path]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{path}: {len(found)} requests after {timeout}s, expected {count}")
                self.changed.wait(left)

    # -- answers ----------------------------------------------------------------------------------
    def _answer(self, rec: Recorded) -> tuple[int, Any, bool]:
        with self.changed:
            self.requests.append(rec)
            self.changed.notify_all()
            script = self.scripts[rec.path].popleft() if self.scripts.get(rec.path) else None
        if script is not None:
            if script.delay:
                time.sleep(script.delay)
            if script.drop:
                return 0, None, True
            if script.body is not None or script.status != 200:
                return script.status, script.body if script.body is not None else {"error": "scripted"}, False
        if rec.path in self.routes:
            status, body = self.routes[rec.path](rec)
            return status, body, False
        status, body = self._normal(rec)
        return status, body, False

    def _issue(self, pool: set[str], prefix: str) -> str:
        with self.lock:
            self.issued += 1
            token = f"{prefix}-{self.issued}"
            pool.add(token)
            return token

    def _normal(self, rec: Recorded) -> tuple[int, Any]:
        path = rec.path
        # --- WeCom (qyapi) ---
        if path == "/cgi-bin/gettoken":
            if not rec.query.get("corpid") or not rec.query.get("corpsecret"):
                return 200, {"errcode": 41002, "errmsg": "corpid missing"}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._issue(self.wecom_tokens, "wt"),
                         "expires_in": self.token_lifetime}
        if path == "/cgi-bin/webhook/send":
            return 200, self._wecom_webhook(rec)
        if path == "/cgi-bin/aibot/response":
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path.startswith("/cgi-bin/"):
            if rec.query.get("access_token") not in self.wecom_tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if path == "/cgi-bin/kf/sync_msg":
                cursor = str(rec.json.get("cursor") or "")
                page = self.kf_pages.get(cursor, {"next_cursor": cursor, "has_more": 0, "msg_list": []})
                return 200, {"errcode": 0, "errmsg": "ok", **page}
            if path == "/cgi-bin/message/send":
                self._app_message(rec.json, rec.at)
                return 200, {"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.requests)}"}
            if path == "/cgi-bin/kf/send_msg":
                return 200, {"errcode": 0, "errmsg": "ok", "msgid": rec.json.get("msgid") or "auto"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        # --- DingTalk new OpenAPI ---
        if path == "/v1.0/oauth2/accessToken":
            return 200, {"accessToken": self._issue(self.dingtalk_tokens, "dt"), "expireIn": self.token_lifetime}
        if path.startswith("/v1.0/robot/"):
            if rec.headers.get("x-acs-dingtalk-access-token") not in self.dingtalk_tokens:
                return 401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
            return 200, {"processQueryKey": f"pqk-{len(self.requests)}"}
        # --- DingTalk oapi webhooks ---
        if path == "/robot/send":
            secret = self.custom_robot_secrets.get(rec.query.get("access_token", ""))
            if secret:
                try:
                    check_custom_robot_url(rec.url, secret)
                except PeerError as exc:
                    return 200, {"errcode": 310000, "errmsg": f"sign not match: {exc}"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path == "/robot/sendBySession":
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": f"no route {path}"}

    def _app_message(self, body: dict[str, Any], at: float) -> None:
        """WeCom's duplicate check: with enable_duplicate_check, a message identical to one sent to the
        same member within duplicate_check_interval seconds is dropped (the call still succeeds)."""
        kind = body.get("msgtype")
        key = (body.get("touser"), kind, json.dumps(body.get(kind), sort_keys=True, ensure_ascii=False))
        window = float(body.get("duplicate_check_interval") or 1800)
        with self.lock:
            if body.get("enable_duplicate_check") and any(
                    m["key"] == key and at - m["at"] < window for m in self.app_inbox):
                return
            self.app_inbox.append({"key": key, "at": at, "body": body})

    @staticmethod
    def _wecom_webhook(rec: Recorded) -> dict[str, Any]:
        body = rec.json
        kind = body.get("msgtype")
        limits = {"text": 2048, "markdown": 4096}
        if kind in limits and len(str(body[kind].get("content", "")).encode("utf-8")) > limits[kind]:
            return {"errcode": 40058, "errmsg": "content exceed max length"}
        return {"errcode": 0, "errmsg": "ok"}
