"""Server processes take turns at new connections (bot/balanced_accept.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot import balanced_accept
from bot.balanced_accept import BOARD_ENV, AcceptBoard, BalancedAcceptLoop
from tests.bot.processes import stop


def _accept_times(board: Path, others_hold: int, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A loop on ``board`` beside another live process holding ``others_hold`` connections: open two
    connections one after the other; seconds from each connect to its accept."""
    other = AcceptBoard(board)  # this test process plays the other server process
    other.publish(others_hold)
    monkeypatch.setenv(BOARD_ENV, str(board))
    loop = BalancedAcceptLoop()
    accepted: list[float] = []

    async def main() -> list[float]:
        server = await asyncio.start_server(lambda r, w: accepted.append(time.monotonic()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        waits, clients = [], []
        for _ in range(2):
            started, seen = time.monotonic(), len(accepted)
            clients.append(await asyncio.open_connection("127.0.0.1", port))
            while len(accepted) == seen and time.monotonic() - started < 5:
                await asyncio.sleep(0.005)
            assert len(accepted) > seen, "the connection was never accepted"
            waits.append(accepted[-1] - started)
        for _, writer in clients:
            writer.close()
        server.close()
        await server.wait_closed()
        return waits

    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def test_a_process_holding_more_connections_leaves_a_new_one_to_the_others_for_a_while(tmp_path, monkeypatch):
    monkeypatch.setattr(balanced_accept, "GIVE_UP_S", 0.5)
    board = AcceptBoard.create(tmp_path / "board")
    first, second = _accept_times(board, others_hold=0, monkeypatch=monkeypatch)
    assert first < 0.4  # 0 against 0: taken at once
    assert 0.45 <= second < 3  # 1 against 0: left to the other process, then taken when nobody did


def test_a_process_holding_fewer_connections_takes_new_ones_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(balanced_accept, "GIVE_UP_S", 0.5)
    board = AcceptBoard.create(tmp_path / "board")
    assert max(_accept_times(board, others_hold=5, monkeypatch=monkeypatch)) < 0.4


def test_without_a_board_the_loop_accepts_as_asyncio_does(monkeypatch):
    monkeypatch.delenv(BOARD_ENV, raising=False)
    loop = BalancedAcceptLoop()
    try:
        assert loop.board is None
    finally:
        loop.close()


def test_a_dead_processs_slot_is_taken_over_and_not_counted(tmp_path):
    board_path = AcceptBoard.create(tmp_path / "board")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    board_path.write_bytes(balanced_accept._SLOT.pack(pid, 0) + board_path.read_bytes()[balanced_accept._SLOT.size:])
    board = AcceptBoard(board_path)
    assert board.slot == 0  # the dead process's slot
    assert board.fewest_elsewhere() is None


def test_two_server_processes_split_keep_alive_connections_evenly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("from bot import serving; serving.run(None, factory='tests.bot.pid_app:create', workers=2, "
            f"host='127.0.0.1', port={port}, log_level='warning')")
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: set[str] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2:  # both processes are up once each has answered
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            try:
                workers.add(_ask(_connect(port)))
            except OSError:
                time.sleep(0.2)
        for _ in range(3):
            held = []
            for _ in range(4):  # keep-alive connections, opened one after another and kept open
                conn = _connect(port)
                held.append((conn, _ask(conn)))
            assert sorted(Counter(pid for _, pid in held).values()) == [2, 2]
            for conn, pid in held:
                assert _ask(conn) == pid  # the same process answers the same connection
                conn.close()
            time.sleep(0.3)  # the closes reach the processes' counts
    finally:
        stop(server)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _ask(conn: socket.socket) -> str:
    conn.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 1 << 30
