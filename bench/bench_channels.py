"""Channel benchmark: the WeCom app callback round trip, against a bare endpoint, same run.

    python -m bench.bench_channels [--customers 100000] [--concurrency 4] [--requests 2000] [--rounds 3]
                                   [--workers 1] [--record]

A fresh SQLite database (or ``--database-url``) gets a synthetic agency from this file's own generator
— 100,000 customers by default, with staff, contacts, projects and opportunities — written with
SQLAlchemy Core bulk inserts. The server serves the app exactly as `crmbot serve [--workers N]` does
(uvicorn, one process or N; outbox worker and scheduled push jobs off: no network, nothing else running) plus ``POST /bench/bare``, an endpoint that
only verifies, decrypts and parses the callback and encrypts a text answer. One load generator
(httpx, a thread per connection, keep-alive) sends pre-built, correctly signed and encrypted
callbacks, each with its own MsgId, to each endpoint in turn, for several rounds:

- ``bare``: the same encrypted text callback to the bare endpoint;
- ``/帮助``: the help command through /wecom/callback (dedupe, sender, handler, outbox, passive answer);
- ``/客户 <name>``: an account manager asks for one of their customers by name.

Every answer is decrypted and checked (a passive answer with the expected content). Latency is
the round trip at the client; throughput is answered requests per second of wall time.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import Request  # module level: FastAPI resolves the bare endpoint's annotations here

SECTION = "## Channels"
SUBSECTION = "### Callback round trip"
TOKEN, CORP, AGENT = "BenchToken", "wwbenchcorp", "1000002"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CHARS = "星屿澜山云杉白鹭晨光驰远青禾松果海盐米粒橙子蓝鲸雪松丹枫竹影石榴金穗银河星河远山明月清泉锦绣华彩瑞丰嘉禾"
SUFFIXES = ("科技", "传媒", "食品", "饮品", "美妆", "家居", "文创", "汽车", "教育", "旅游", "服饰", "医疗", "金融",
            "地产", "物流", "电器", "乳业", "茶饮", "烘焙", "酒业", "母婴", "宠物", "体育", "健康", "游戏", "出行",
            "能源", "环保", "农业", "数码")
INDUSTRIES = ("快消", "美妆", "科技", "文旅", "汽车", "餐饮", "教育")
TIERS = ("战略级", "成长级", "常规级")


# -- data -------------------------------------------------------------------------------------------
def _names(n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.sample(CHARS, 4)) + rng.choice(SUFFIXES))
    return sorted(out)


def generate(url: str, customers: int, seed: int = 7) -> dict[str, Any]:
    """The agency, written with Core bulk inserts. Returns who owns which customer names."""
    from sqlalchemy import insert

    from crm_core.db import Database
    from crm_core.models import Contact, Customer, Opportunity, Project, Staff
    from crm_core.schema import upgrade

    rng = random.Random(seed)
    db = Database(url)
    upgrade(db)
    now = datetime.now(UTC)
    n_staff = max(10, customers // 500)
    staff = [{"id": i, "ref": f"S{i:05d}", "name": f"员工{i:05d}", "role": "account_manager" if i > 2 else "manager",
              "department": f"客户{(i % 10) + 1}部", "wecom_userid": f"am{i:05d}", "dingtalk_userid": f"dt{i:05d}",
              "skills": [], "active": True, "created_at": now, "updated_at": now} for i in range(1, n_staff + 1)]
    names = _names(customers, rng)
    rows = [{"id": i, "ref": f"C{i:06d}", "name": name, "industry": INDUSTRIES[i % len(INDUSTRIES)],
             "tier": TIERS[i % 3], "budget_level": "中", "owner_id": 1 + (i % n_staff), "custom_fields": {},
             "consent": False, "status": "合作中", "version": 1, "created_at": now, "updated_at": now}
            for i, name in enumerate(names, 1)]
    contacts = [{"ref": f"CT{i:06d}", "customer_id": i, "name": f"联系人{i}", "title": "市场经理",
                 "phone": f"138{i:08d}", "is_primary": True, "created_at": now, "updated_at": now}
                for i in range(1, customers + 1, 5)]
    projects = [{"ref": f"P{i:06d}", "name": f"{names[i - 1]}年度传播", "customer_id": i, "manager_id": 1 + (i % n_staff),
                 "status": "进行中", "budget": None, "created_at": now, "updated_at": now}
                for i in range(1, customers + 1, 20)]
    opportunities = [{"ref": f"O{i:06d}", "customer_id": i, "name": f"{names[i - 1]}框架合作", "stage": "方案报价",
                      "amount": 500000, "owner_id": 1 + (i % n_staff), "version": 1, "created_at": now,
                      "updated_at": now} for i in range(1, customers + 1, 10)]
    with db.engine.begin() as conn:
        for table, data in ((Staff, staff), (Customer, rows), (Contact, contacts), (Project, projects),
                            (Opportunity, opportunities)):
            for start in range(0, len(data), 10_000):
                conn.execute(insert(table.__table__), data[start:start + 10_000])  # type: ignore[attr-defined]
    db.dispose()
    owned: dict[str, list[str]] = {}
    for row in rows:
        owned.setdefault(f"am{row['owner_id']:05d}", []).append(str(row["name"]))
    return {"owned": {k: v for k, v in owned.items() if int(k[2:]) > 2}, "counts": {
        "staff": len(staff), "customers": len(rows), "contacts": len(contacts), "projects": len(projects),
        "opportunities": len(opportunities)}}


# -- server -----------------------------------------------------------------------------------------
def serve(url: str, port: int, workers: int = 1) -> None:
    """The app as `crmbot serve [--workers N]` runs it, plus the bare endpoint."""
    from bot import serving

    os.environ["BENCH_DATABASE_URL"] = url  # as `crmbot serve --workers N`: each process builds bench_app itself
    serving.run(bench_app(url) if workers <= 1 else None, factory="bench.bench_channels:bench_app", workers=workers,
                host="127.0.0.1", port=port, log_level="warning")


def bench_app(url: str | None = None) -> Any:
    """The bot's app with the benchmark's settings, plus ``POST /bench/bare``."""
    from fastapi.responses import Response

    from bot.app import create_app
    from bot.channels.wecom.app_callback import app_crypto, decrypt_xml_request
    from bot.channels.wecom.crypto import encrypted_xml, text_reply_xml
    from config.settings import load_settings
    from crm_core.db import Database

    url = url or os.environ["BENCH_DATABASE_URL"]
    settings = load_settings(database_url=url, wecom_token=TOKEN, wecom_aes_key=AES_KEY, wecom_corp_id=CORP,
                             wecom_agent_id=AGENT, wecom_secret="bench", outbox_worker=False, jobs_scheduler=False,
                             wecom_api_base="http://127.0.0.1:9", nlu_embeddings=False)
    app = create_app(settings, Database(url))
    runtime = app.state.runtime

    async def bare(request: Request) -> Response:
        crypto = app_crypto(runtime)
        msg = await decrypt_xml_request(crypto, request, settings.callback_max_body_bytes)
        xml = text_reply_xml(msg["FromUserName"], CORP, msg.get("Content", ""))
        return Response(encrypted_xml(crypto, xml), media_type="application/xml")

    app.add_api_route("/bench/bare", bare, methods=["POST"])
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- load -------------------------------------------------------------------------------------------
@dataclass
class Call:
    path: str
    params: dict[str, str]
    body: bytes
    expect: str


@dataclass
class Result:
    name: str
    latencies: list[float]
    wall: float
    ok: int
    late: int
    wrong: int
    server_cpu: float = float("nan")  # seconds of CPU the server process used during the run
    loop_cpu: float = float("nan")  # of which its main thread's (the event loop: HTTP, crypto, XML)
    split: tuple[int, ...] = ()  # connections held by each server process, halfway through the run

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request: what the endpoint costs, whatever else the machine is doing."""
        return 1000 * self.server_cpu / len(self.latencies)

    @property
    def loop_ms(self) -> str:
        """The event loop's share of the server CPU per request, or "—" when it was not measured."""
        return "—" if math.isnan(self.loop_cpu) else f"{1000 * self.loop_cpu / len(self.latencies):.2f}"

    def pct(self, p: float) -> float:
        return float(np.percentile(np.asarray(self.latencies), p)) * 1000

    @property
    def throughput(self) -> float:
        return self.ok / self.wall


def build(path: str, sender: str, text: str, expect: str, msg_id: int) -> Call:
    from bot.channels.wecom.crypto import CallbackCrypto

    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP)
    inner = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
             f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
             f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT}</AgentID></xml>")
    encrypt, signature, timestamp, nonce = crypto.encrypt(inner)
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return Call(path, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body.encode(), expect)


def check(answer: bytes, expect: str) -> str:
    """"ok", "late" (empty answer: the reply went to the outbox) or "wrong"."""
    from bot.channels.wecom.crypto import CallbackCrypto, parse_xml

    if not answer:
        return "late"
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP)
    outer = parse_xml(answer)
    if not crypto.verify(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]):
        return "wrong"
    content = parse_xml(crypto.decrypt(outer["Encrypt"])).get("Content", "")
    return "ok" if expect in content else "wrong"


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, utime + stime seconds) of every process (Linux)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return stats


def _tree(stats: dict[int, tuple[int, float]], pid: int) -> list[int]:
    """``pid`` and its live descendants (the server's worker processes)."""
    tree, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in stats.items() if ppid == parent and child not in tree]
        tree += children
        frontier += children
    return tree


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process and its live descendants (the worker processes; Linux), or NaN."""
    stats = _proc_stats()
    if pid is None or pid not in stats:
        return float("nan")
    return sum(stats[p][1] for p in _tree(stats, pid))


def connections_per_process(pid: int | None, port: int) -> list[int]:
    """How many established connections to ``port`` each process of the server holds, most first (Linux)."""
    if pid is None:
        return []
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])  # the socket's inode
    counts = []
    for proc in _tree(_proc_stats(), pid):
        held = 0
        try:
            for fd in Path(f"/proc/{proc}/fd").iterdir():
                target = os.readlink(fd)
                held += target.startswith("socket:[") and target[8:-1] in established
        except OSError:
            continue
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)


def main_thread_seconds(pid: int | None) -> float:
    """CPU seconds of a process's main thread (the server's event loop; one process only), or NaN."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(base: str, name: str, requests: list[Call], concurrency: int, pid: int | None = None,
         single_process: bool = True, port: int = 0) -> Result:
    lanes = [requests[i::concurrency] for i in range(concurrency)]
    latencies: list[list[float]] = [[] for _ in lanes]
    outcomes: list[list[str]] = [[] for _ in lanes]
    finished = [0.0] * concurrency
    start_gate = threading.Barrier(concurrency + 1)

    def run(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            start_gate.wait()
            for req in lanes[i]:
                t = time.perf_counter()
                response = http.post(req.path, params=req.params, content=req.body,
                                     headers={"Content-Type": "text/xml"})
                latencies[i].append(time.perf_counter() - t)
                outcomes[i].append(response.content.decode("latin-1") if response.status_code == 200 else "\x00")
                if response.status_code != 200:
                    outcomes[i][-1] = "\x00"
        finished[i] = time.perf_counter()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    start_gate.wait()
    loop_pid = pid if single_process else None  # with workers, the main thread is the supervisor's
    cpu0, loop0, t0 = cpu_seconds(pid), main_thread_seconds(loop_pid), time.perf_counter()
    while any(t.is_alive() for t in threads) and sum(len(lane) for lane in latencies) <= len(requests) // 2:
        time.sleep(0.05)
    split = connections_per_process(pid, port)  # halfway through the run
    for t in threads:
        t.join()
    cpu, loop = cpu_seconds(pid) - cpu0, main_thread_seconds(loop_pid) - loop0
    wall = max(finished) - t0  # to the last answer, not to when this thread looked again
    counts = {"ok": 0, "late": 0, "wrong": 0}
    for lane, reqs in zip(outcomes, lanes, strict=True):
        for answer, req in zip(lane, reqs, strict=True):
            counts["wrong" if answer == "\x00" else check(answer.encode("latin-1"), req.expect)] += 1
    return Result(name, [x for lane in latencies for x in lane], wall, counts["ok"], counts["late"], counts["wrong"], cpu,
                  loop, tuple(split))


def paced(base: str, name: str, requests: list[Call], rate: float, seed: int = 5) -> Result:
    """Open loop: requests go out at ``rate`` per second on average (Poisson arrivals), whether or not
    earlier ones were answered, over already-open connections; latency is from send to answer."""
    rng = random.Random(seed)
    at, schedule = 0.0, []
    for _ in requests:
        at += rng.expovariate(rate)
        schedule.append(at)
    clients: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
    for _ in range(16):
        http = httpx.Client(base_url=base, timeout=30)
        http.get("/healthz")
        clients.put(http)
    latencies: list[float] = [0.0] * len(requests)
    answers: list[str] = [""] * len(requests)
    t0 = time.perf_counter() + 0.2

    def send(i: int) -> None:
        time.sleep(max(0.0, t0 + schedule[i] - time.perf_counter()))
        http, req = clients.get(), requests[i]
        start = time.perf_counter()
        response = http.post(req.path, params=req.params, content=req.body, headers={"Content-Type": "text/xml"})
        latencies[i] = time.perf_counter() - start
        clients.put(http)
        answers[i] = response.content.decode("latin-1") if response.status_code == 200 else "\x00"

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, range(len(requests))))
    wall = time.perf_counter() - t0
    while not clients.empty():
        clients.get().close()
    counts = {"ok": 0, "late": 0, "wrong": 0}
    for answer, req in zip(answers, requests, strict=True):
        counts["wrong" if answer == "\x00" else check(answer.encode("latin-1"), req.expect)] += 1
    return Result(name, latencies, wall, counts["ok"], counts["late"], counts["wrong"])


def combine(runs: list[Result]) -> Result:
    """Several saturated runs of one endpoint as one: all latencies, wall time and CPU added up."""
    return Result(runs[0].name, [x for r in runs for x in r.latencies], sum(r.wall for r in runs),
                  sum(r.ok for r in runs), sum(r.late for r in runs), sum(r.wrong for r in runs),
                  sum(r.server_cpu for r in runs), sum(r.loop_cpu for r in runs), runs[0].split)


def per_round(runs: list[Result], bare: list[Result]) -> list[float]:
    """Throughput as a percentage of the bare endpoint's in the same round."""
    return [100 * r.throughput / b.throughput for r, b in zip(runs, bare, strict=True)]


def scenarios(owned: dict[str, list[str]], n: int, rng: random.Random) -> dict[str, Callable[[int], list[Call]]]:
    senders = sorted(owned)
    counter = iter(range(7_000_000_000_000_000_000, 8_000_000_000_000_000_000))

    def bare(k: int) -> list[Call]:
        return [build("/bench/bare", rng.choice(senders), "/帮助", "/帮助", next(counter)) for _ in range(k)]

    def help_(k: int) -> list[Call]:
        return [build("/wecom/callback", rng.choice(senders), "/帮助", "客户助手能帮你做这些", next(counter))
                for _ in range(k)]

    def customer(k: int) -> list[Call]:
        out = []
        for _ in range(k):
            sender = rng.choice(senders)
            name = rng.choice(owned[sender])
            out.append(build("/wecom/callback", sender, f"/客户 {name}", f"客户档案｜{name}", next(counter)))
        return out

    return {"bare": bare, "/帮助": help_, "/客户 <name>": customer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3,
                        help="saturated runs per endpoint, the endpoints taking turns (bare, /帮助, /客户, bare, …)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections of the saturation run")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second of the paced run")
    parser.add_argument("--paced-requests", type=int, default=400)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=1, help="server processes (as crmbot serve --workers N)")
    parser.add_argument("--record", action="store_true", help="write the figures into docs/benchmarks.md")
    parser.add_argument("--only", choices=["bare", "help", "customer"], action="append",
                        help="run only these scenarios (bare is always run first, for the ratio)")
    parser.add_argument("--profile", metavar="SVG", help="record the server with py-spy into this flame graph")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.port, args.workers)
        return

    tmp = tempfile.TemporaryDirectory(prefix="crmbot-bench-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    t = time.perf_counter()
    world = generate(url, args.customers)
    gen_seconds = time.perf_counter() - t
    print(f"data: {world['counts']} in {gen_seconds:.1f} s", flush=True)

    port = _free_port()
    env = {**os.environ, "CRMBOT_DATA_DIR": str(Path(tmp.name) / "var")}
    command = [sys.executable, "-m", "bench.bench_channels", "--serve", "--port", str(port), "--database-url", url,
               "--workers", str(args.workers)]
    if args.profile:
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--gil", "--rate", "250", "-o", args.profile,
                   *(["--format", "raw"] if args.profile.endswith(".txt") else []),
                   "--", *command]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        rng = random.Random(11)
        makers = scenarios(world["owned"], args.requests, rng)
        keys = {"bare": "bare", "help": "/帮助", "customer": "/客户 <name>"}
        wanted = {"bare", *(keys[k] for k in args.only)} if args.only else set(makers)
        names = [name for name in makers if name in wanted]
        for name in names:
            load(base, name, makers[name](args.warmup), args.concurrency)
        rounds: dict[str, list[Result]] = {name: [] for name in names}
        for _ in range(args.rounds):  # the endpoints take turns, so a slow spell of the machine hits each of them
            for name in names:
                rounds[name].append(load(base, name, makers[name](args.requests), args.concurrency,
                                         None if args.profile else server.pid, single_process=args.workers == 1,
                                         port=port))
        results: list[tuple[Result, Result]] = []
        for name in names:
            full = combine(rounds[name])
            calm = paced(base, name, makers[name](args.paced_requests), args.rate)
            results.append((full, calm))
            print(f"{name:14} saturated: p50 {full.pct(50):6.1f} ms  p99 {full.pct(99):6.1f} ms  "
                  f"{full.throughput:7.1f} req/s  server CPU {full.cpu_ms:5.2f} ms/req (event loop {full.loop_ms})  ok {full.ok} late {full.late} "
                  f"wrong {full.wrong} connections per process {'/'.join(map(str, full.split)) or '?'} | at {args.rate:g}/s: p50 {calm.pct(50):5.1f} ms  p99 {calm.pct(99):5.1f} ms  "
                  f"ok {calm.ok} late {calm.late} wrong {calm.wrong}", flush=True)
    finally:
        server.send_signal(signal.SIGINT)  # uvicorn (and py-spy) finish cleanly on SIGINT
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    bare = results[0][0]
    for r, _ in results[1:]:
        print(f"{r.name}: throughput {100 * r.throughput / bare.throughput:.0f} % of bare, by round "
              f"{', '.join(f'{p:.0f}' for p in per_round(rounds[r.name], rounds[bare.name]))} % "
              f"(server CPU per request: {100 * bare.cpu_ms / r.cpu_ms:.0f} %)", flush=True)
    if args.record:
        _record(results, rounds, world["counts"], args, gen_seconds, url)
    tmp.cleanup()


def _record(results: list[tuple[Result, Result]], rounds: dict[str, list[Result]], counts: dict[str, int],
            args: argparse.Namespace, gen_seconds: float, url: str) -> None:
    from bench.record import load_average, record_section

    bare = results[0][0]
    processes = "one process" if args.workers == 1 else f"{args.workers} processes"
    engine = "SQLite (WAL)" if url.startswith("sqlite") else url.split("://", 1)[0]
    lines = [SUBSECTION, "",
             f"`python -m bench.bench_channels --customers {args.customers} --requests {args.requests} "
             f"--rounds {args.rounds} --concurrency {args.concurrency} --rate {args.rate:g} --workers {args.workers}` — encrypted WeCom app callbacks (signed, "
             f"AES-256-CBC, a new MsgId each) from one load generator (httpx) to `crmbot serve`-style uvicorn "
             f"({processes}) on the same machine, {engine}, outbox worker and push jobs off. Data: {counts['customers']:,} customers, "
             f"{counts['staff']} staff, {counts['contacts']:,} contacts, {counts['projects']:,} projects, "
             f"{counts['opportunities']:,} opportunities (Core bulk inserts, {gen_seconds:.1f} s). Every answer is "
             "decrypted, its signature checked and its content compared.",
             "",
             f"- *saturated*: {args.concurrency} keep-alive connections sending back to back, {args.rounds} rounds of "
             f"{args.requests} requests per endpoint after {args.warmup} warm-up, the endpoints taking turns (bare, "
             "/帮助, /客户, bare, …); throughput is answers per second of wall time over all rounds, *by round* the "
             "ratio to the bare endpoint in each round; server CPU is the server processes' CPU time per request "
             "(independent of what else the machine runs); *connections* is how many of the connections each server "
             "process held.",
             f"- *paced*: {args.paced_requests} requests sent at {args.rate:g} per second on average (Poisson "
             "arrivals, open loop over open connections), latency from send to answer.",
             "",
             "| endpoint | saturated p50 ms | p95 | p99 | req/s | vs bare | by round | server CPU ms/req | "
             "of which event loop | connections | paced p50 ms | paced p99 ms | passive answers |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for full, calm in results:
        ratio = "—" if full is bare else f"{100 * full.throughput / bare.throughput:.0f} %"
        by_round = "—" if full is bare else " / ".join(
            f"{p:.0f}" for p in per_round(rounds[full.name], rounds[bare.name])) + " %"
        label = "bare (verify, decrypt, encrypt)" if full is bare else f"`{full.name}`"
        lines.append(f"| {label} | {full.pct(50):.1f} | {full.pct(95):.1f} | {full.pct(99):.1f} | "
                     f"{full.throughput:.0f} | {ratio} | {by_round} | {full.cpu_ms:.2f} | {full.loop_ms} | "
                     f"{'/'.join(map(str, full.split)) or '—'} | {calm.pct(50):.1f} | {calm.pct(99):.1f} | "
                     f"{full.ok + calm.ok}/{len(full.latencies) + len(calm.latencies)} |")
    lines += ["", f"Machine: {os.cpu_count()} CPUs shared with other work (load {load_average()}), "
              f"{datetime.now(UTC).isoformat(timespec='seconds')}. "
              "Targets: p99 ≤ 50 ms for `/客户`, throughput ≥ 40 % of the bare endpoint's.", ""]
    record_section("\n".join(lines), SECTION, SUBSECTION)


if __name__ == "__main__":
    main()
