"""Running the app under uvicorn in one process or several (``crmbot serve --workers N``)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from bot.balanced_accept import BOARD_ENV, AcceptBoard


def tcp_socket(host: str, port: int) -> socket.socket:
    """The listening socket, made with ``IPPROTO_TCP``: asyncio only sets TCP_NODELAY on connections
    accepted from such a socket, and uvicorn's own (protocol 0) left every keep-alive answer waiting
    for a delayed ACK — 40 ms a request with several workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run(app: Any, *, host: str, port: int, workers: int = 1, factory: str | None = None, **options: Any) -> None:
    """One process serving ``app``, or ``workers`` processes each building it with ``factory``
    ("module:function", settings from the environment), taking turns at new connections
    (``bot/balanced_accept.py``)."""
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)
        return
    with tempfile.TemporaryDirectory(prefix="crmbot-serve-") as tmp:
        os.environ[BOARD_ENV] = str(AcceptBoard.create(Path(tmp) / "accept-board"))  # inherited by the workers
        try:
            config = uvicorn.Config(factory, factory=True, workers=workers, host=host, port=port,
                                    loop="bot.balanced_accept:BalancedAcceptLoop", **options)
            Multiprocess(config, sockets=[tcp_socket(host, port)]).run()
        finally:
            os.environ.pop(BOARD_ENV, None)
