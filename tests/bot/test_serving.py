"""Several server processes: answers leave at once (TCP_NODELAY), and SQLite writers queue across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import time
from pathlib import Path

from bot.serving import tcp_socket
from crm_core.db import _ProcessLock
from tests.bot.processes import stop


def test_connections_accepted_from_the_shared_socket_send_without_delay():
    sock = tcp_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(main())
    assert seen and seen[0] != 0  # a protocol-0 socket (uvicorn's own) gives 0 here: 40 ms per keep-alive answer


def _hold(path: str, ready, seconds: float) -> None:  # type: ignore[no-untyped-def]
    lock = _ProcessLock(Path(path))
    assert lock.acquire(5)
    ready.set()
    time.sleep(seconds)
    lock.release()


def test_a_second_process_waits_for_the_writer_lock(tmp_path):
    path = str(tmp_path / "db.sqlite.writer-lock")
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    other = ctx.Process(target=_hold, args=(path, ready, 0.6))
    other.start()
    try:
        assert ready.wait(30)
        mine = _ProcessLock(Path(path))
        assert not mine.acquire(0.1)  # held by the other process
        started = time.monotonic()
        assert mine.acquire(10)  # granted once the other releases
        assert time.monotonic() - started < 5
        mine.release()
    finally:
        other.join(10)


def test_serve_with_two_workers_answers_from_one_sqlite_database(tmp_path):
    """`crmbot serve --workers 2`: both processes start on the same database and the bot answers through them."""
    import os
    import subprocess
    import sys

    import httpx

    exe = str(Path(sys.executable).with_name("crmbot"))
    env = {**os.environ, "CRMBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
           "CRMBOT_DATA_DIR": str(tmp_path / "var"), "CRMBOT_JOBS_SCHEDULER": "false", "CRMBOT_OUTBOX_WORKER": "false"}
    subprocess.run([exe, "init"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([exe, "serve", "--workers", "2", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)
        workers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == server.pid]
        assert len(workers) >= 2
        with httpx.Client(base_url=base, timeout=30) as http:
            for i in range(6):  # keep-alive: several requests, spread over the workers by the kernel
                reply = http.post("/console/api/send", json={"user": f"nobody{i}", "kind": "staff",
                                                            "chat": f"dm:nobody{i}", "text": "/帮助"}).json()
                assert "绑定" in reply["plain"]  # an unbound sender is told how to get access
    finally:
        stop(server)


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1
