"""DingTalk Stream mode (``DINGTALK_TRANSPORT=stream``): the robot's messages arrive over a
WebSocket that we open (no public URL needed), through the ``dingtalk-stream`` package, and go
through exactly the same path as the HTTP callback (``robot.accept``: dedupe, handler, outbox).

The connection is opened against ``DINGTALK_API_BASE`` (``/v1.0/gateway/connections/open``), so
tests can stand in for DingTalk on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any
from urllib.parse import quote_plus

import dingtalk_stream
import httpx
import websockets
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage

from bot.channels.dingtalk import robot
from bot.runtime import Runtime

log = logging.getLogger("crmbot.dingtalk.stream")


class RobotMessages(CallbackHandler):  # type: ignore[misc]
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        data: dict[str, Any] = message.data if isinstance(message.data, dict) else json.loads(message.data or "{}")
        try:
            await robot.accept(self.runtime, data)
        except robot.BadMessage as exc:
            log.warning("stream message refused: %s", exc)
            return AckMessage.STATUS_BAD_REQUEST, str(exc)
        return AckMessage.STATUS_OK, "OK"


class StreamClient(dingtalk_stream.DingTalkStreamClient):  # type: ignore[misc]
    """The SDK's client, opening its connection at our configured API base and without probing the
    network for a local IP address."""

    def __init__(self, runtime: Runtime) -> None:
        s = runtime.settings
        super().__init__(dingtalk_stream.Credential(s.dingtalk_app_key, s.dingtalk_app_secret), logger=log)
        self.runtime = runtime
        self.register_callback_handler(ChatbotMessage.TOPIC, RobotMessages(runtime))

    retry_seconds = 5.0

    def get_host_ip(self) -> str:
        return ""

    async def start(self) -> None:
        """Connect, dispatch frames, reconnect after a drop; stops cleanly when cancelled."""
        self.pre_start()
        tasks: set[asyncio.Task[Any]] = set()
        while True:
            connection = await asyncio.to_thread(self.open_connection)
            if not connection:
                await asyncio.sleep(self.retry_seconds)
                continue
            uri = f"{connection['endpoint']}?ticket={quote_plus(str(connection['ticket']))}"
            try:
                async with websockets.connect(uri) as ws:
                    self.websocket = ws
                    keepalive = asyncio.create_task(self.keepalive(ws))
                    try:
                        async for raw in ws:
                            try:
                                frame = json.loads(raw)
                            except ValueError:
                                log.warning("stream frame is not JSON; ignored")
                                continue
                            task = asyncio.create_task(self.background_task(frame))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                    finally:
                        keepalive.cancel()
            except (OSError, websockets.exceptions.WebSocketException) as exc:
                log.warning("DingTalk stream connection lost (%s); reconnecting", exc)
            await asyncio.sleep(self.retry_seconds)

    def open_connection(self) -> dict[str, Any] | None:
        s = self.runtime.settings
        body = {"clientId": s.dingtalk_app_key, "clientSecret": s.dingtalk_app_secret,
                "subscriptions": [{"type": "CALLBACK", "topic": t} for t in self.callback_handler_map],
                "ua": "crmbot/0.1", "localIp": ""}
        try:
            response = self.runtime.http.post(f"{s.dingtalk_api_base.rstrip('/')}/v1.0/gateway/connections/open",
                                              json=body)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.error("opening the DingTalk stream connection failed: %s", exc)
            return None
        return data if isinstance(data, dict) else None


class StreamTransport:
    """Runs the stream client in its own thread and event loop; ``stop`` cancels it."""

    def __init__(self, runtime: Runtime) -> None:
        self.client = StreamClient(runtime)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self.started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crmbot-dingtalk-stream", daemon=True)
        self._thread.start()
        self.started.wait(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self.client.start())
        self.started.set()
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)
