"""Server processes started by the tests."""

from __future__ import annotations

import signal
import subprocess


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C would (uvicorn shuts its workers down cleanly); killed if that takes over 30 s."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
