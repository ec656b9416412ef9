"""Server processes that share one listening socket take turns at new connections.

Every process of ``crmbot serve --workers N`` waits on the same socket, and the kernel wakes all of them for a
new connection; asyncio's accept loop then takes every pending connection at once. WeCom and DingTalk keep a
few keep-alive connections open, so one process often ended up with all of them while the others idled: with
four connections, two processes split them 4–0 or 3–1 in most runs, and the second process bought nothing
(docs/benchmarks.md, "Channels").

Here each process notes how many connections it holds on an ``AcceptBoard`` (a small shared file, one slot per
process) and takes a pending connection only while no live process holds fewer, one connection per wake-up.
A process holding more leaves the connection to the others and looks again a millisecond later; once a
connection has waited ``GIVE_UP_S`` (the least busy process may be inside a slow handler), any process takes it.
"""

from __future__ import annotations

import asyncio
import fcntl
import mmap
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

BOARD_ENV = "CRMBOT_ACCEPT_BOARD"
SLOTS = 64
_SLOT = struct.Struct("=ii")  # process id, open connections
RECHECK_S = 0.001
GIVE_UP_S = 0.02


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AcceptBoard:
    """The open-connection count of every server process, in a file they all map."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < SLOTS * _SLOT.size:
                os.ftruncate(fd, SLOTS * _SLOT.size)
            self._map = mmap.mmap(fd, SLOTS * _SLOT.size)
            fcntl.flock(fd, fcntl.LOCK_EX)  # claiming a slot: one process at a time
            try:
                self.slot = self._claim()
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @staticmethod
    def create(path: Path) -> Path:
        path.write_bytes(bytes(SLOTS * _SLOT.size))
        return path

    def _claim(self) -> int:
        for slot in range(SLOTS):
            pid, _ = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if pid == 0 or not _alive(pid):  # free, or left by a process that died (uvicorn starts another)
                _SLOT.pack_into(self._map, slot * _SLOT.size, os.getpid(), 0)
                return slot
        raise RuntimeError(f"more than {SLOTS} server processes on one accept board")

    def publish(self, connections: int) -> None:
        _SLOT.pack_into(self._map, self.slot * _SLOT.size, os.getpid(), connections)

    def fewest_elsewhere(self) -> int | None:
        """The fewest connections any other live process holds, or None when there is no other."""
        fewest: int | None = None
        for slot in range(SLOTS):
            if slot == self.slot:
                continue
            pid, connections = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if pid and (fewest is None or connections < fewest) and _alive(pid):
                fewest = connections
        return fewest


class BalancedAcceptLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, accepting as the module docstring says when ``CRMBOT_ACCEPT_BOARD`` names a
    board (``bot.serving`` sets it for its worker processes); otherwise exactly asyncio's loop."""

    def __init__(self, selector: Any = None) -> None:
        super().__init__(selector)
        path = os.environ.get(BOARD_ENV)
        self.board = AcceptBoard(Path(path)) if path else None
        self.connections = 0
        self._deferring_since: float | None = None
        self._last_deferral = 0.0

    def _accept_connection(self, protocol_factory: Callable[[], asyncio.BaseProtocol], sock: socket.socket,
                           sslcontext: Any = None, server: Any = None, backlog: int = 100, *rest: Any) -> None:
        if self.board is None:
            super()._accept_connection(protocol_factory, sock, sslcontext, server, backlog, *rest)  # type: ignore[misc]
            return
        fewest = self.board.fewest_elsewhere()
        now = self.time()
        if fewest is not None and self.connections > fewest:
            if self._deferring_since is None or now - self._last_deferral > 10 * RECHECK_S:
                self._deferring_since = now  # a new wait (not the same pending connection seen again)
            self._last_deferral = now
            if now - self._deferring_since < GIVE_UP_S:
                self.remove_reader(sock.fileno())
                self.call_later(RECHECK_S, self._rearm, protocol_factory, sock, sslcontext, server, backlog, *rest)
                return
        self._deferring_since = None
        super()._accept_connection(self._counted(protocol_factory), sock, sslcontext, server,  # type: ignore[misc]
                                   1, *rest)

    def _rearm(self, protocol_factory: Callable[[], asyncio.BaseProtocol], sock: socket.socket, sslcontext: Any,
               server: Any, backlog: int, *rest: Any) -> None:
        if sock.fileno() == -1 or (server is not None and not server.is_serving()):
            return  # closed while we waited
        self.add_reader(sock.fileno(), self._accept_connection, protocol_factory, sock, sslcontext, server,
                        backlog, *rest)

    def _counted(self, protocol_factory: Callable[[], asyncio.BaseProtocol]) -> Callable[[], asyncio.BaseProtocol]:
        def factory() -> asyncio.BaseProtocol:
            protocol = protocol_factory()
            self._count(+1)
            lost = protocol.connection_lost

            def connection_lost(exc: Exception | None) -> None:
                self._count(-1)
                lost(exc)

            protocol.connection_lost = connection_lost  # type: ignore[method-assign]
            return protocol

        return factory

    def _count(self, delta: int) -> None:
        self.connections += delta
        if self.board is not None:
            self.board.publish(self.connections)
