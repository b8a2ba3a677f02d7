"""Live benchmark: a real `allo serve` process, simulated advisers and customers on WebSockets.

For each database (SQLite, then PostgreSQL when reachable): 200 advisers connected to
/ws/staff accept what they are offered and answer; customers open chats at 20 per second,
wait for an adviser over /public/v1/chat/ws, and exchange messages, while a supervisor's
wall follows the pushes and re-reads its snapshot as the page does (`--walls`). Printed,
with the goals:
offer latency (chat started → offer pushed to the adviser), message delivery latency (sent
by one side → pushed to the other), messages lost, and the server's peak memory.

The server runs as deployed (README): `allo serve` with ALLO_RUN_INSIGHTS=false and `allo
insights` reading the conversations in a process of its own beside it, whose memory and
CPU are printed too. `--insights-inside` runs them inside the API process instead, as
`allo demo` does: their language model then shares the API's interpreter lock and memory.

    python bench/live.py [--quick] [--advisers 200] [--rate 20] [--seconds 20] [--walls 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

import hostspeed
from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import accounts, advisers, queues, sites
from allo.services.bus import EventBus
from allo.services.principal import system_principal
from allo.store.database import make_engine
from allo.store.migrate import upgrade
from allo.store.tables import TenantRow
from allo.store.uow import Store

PG_ADMIN = os.environ.get(
    "ALLO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MESSAGES_EACH_WAY = 3
WALL_DEBOUNCE = 0.2  # as wall.js: one re-read per 200 ms of pushes
console = Console(width=160)


@dataclass
class Stats:
    offer_latency: list[float] = field(default_factory=list)
    message_latency: list[float] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # message tag → send time
    received: set[str] = field(default_factory=set)
    chats_started: int = 0
    chats_answered: int = 0
    errors: list[str] = field(default_factory=list)
    # How late the bench's own event loop wakes up: latencies above it are the server's.
    client_lag: list[float] = field(default_factory=list)
    wall_reads: list[float] = field(default_factory=list)  # GET /api/v1/wall durations


def wall() -> datetime:
    return datetime.now(UTC)


def seed(
    url: str, adviser_count: int, ready: bool = True
) -> tuple[str, list[tuple[int, str]], int, str]:
    """A tenant with one queue, `adviser_count` advisers (ready), each with an API token, and
    a supervisor: (widget key, [(adviser id, token)], queue id, supervisor's token)."""
    upgrade(url)
    engine = make_engine(url)
    store = Store(engine, EventBus(), wall)
    with store.unit_of_work() as uow:
        tenant = accounts.create_tenant(uow, "bench", "Bench SA")
    actor = system_principal(tenant.id)
    out: list[tuple[int, str]] = []
    with store.unit_of_work() as uow:
        site = sites.create_site(
            uow,
            actor,
            dict(
                name="Lille",
                country="FR",
                timezone="Europe/Paris",
                languages=["fr"],
                hourly_cost=28.0,
            ),
        )
        queue = queues.create_queue(uow, actor, {"name": "Assistance"})
        for n in range(adviser_count):
            adviser = advisers.create_adviser(
                uow,
                actor,
                {
                    "site_id": site.id,
                    "name": f"Bot {n}",
                    "languages": {"fr": 5},
                    "capacity": {"chat": 3},
                },
            )
            user = accounts.create_user(
                uow,
                actor,
                email=f"a{n}@bench.test",
                password="bench-password",
                role=Role.ADVISER,
                display_name=f"a{n}",
                adviser_id=adviser.id,
            )
            out.append((adviser.id, accounts.create_token(uow, actor, user.id, "bench")))
            if ready:
                advisers.set_adviser_state(uow, actor, adviser.id, AdviserState.READY)
        supervisor = accounts.create_user(
            uow,
            actor,
            email="supervisor@bench.test",
            password="bench-password",
            role=Role.SUPERVISOR,
            display_name="supervisor",
        )
        watcher = accounts.create_token(uow, actor, supervisor.id, "bench")
        key = uow.session.get(TenantRow, tenant.id).widget_key  # type: ignore[union-attr]
    engine.dispose()
    return key, out, queue.id, watcher


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, log: Path, insights_inside: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ALLO_COOKIE_SECURE": "false",
        "ALLO_CHAT_STARTS_PER_MINUTE": "100000",
        "ALLO_CHAT_MESSAGES_PER_MINUTE": "100000",
        "ALLO_RUN_INSIGHTS": "true" if insights_inside else "false",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "allo", "serve", "--database-url", url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(log.read_text()[-2000:])


def start_insights(url: str, log: Path) -> subprocess.Popen[bytes]:
    """`allo insights`, reading the conversations in a process of its own, as deployed; once
    its model is loaded (it logs that it follows the events)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "allo", "insights", "--database-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while "following events" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(log.read_text()[-2000:])
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Http:
    """A bare HTTP/1.1 keep-alive client for JSON requests.

    The load generator shares the two cores with the server: httpx costs about as much CPU
    per request as the server's handler, which would show up as server latency. This costs
    a small fraction of it. One request at a time per connection.
    """

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        address = base.removeprefix("http://")
        self.host, _, port = address.partition(":")
        self.port = int(port)
        self.head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        return await self.request("POST", path, body, headers)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        message = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        answer = await self._exchange(message)
        if answer is None:  # the server closed the idle connection (keep-alive timeout)
            await self.__aenter__()
            answer = await self._exchange(message)
        if answer is None:
            raise ConnectionError(f"{method} {path}: connection closed")
        return answer

    async def _exchange(self, message: bytes) -> tuple[int, Any] | None:
        assert self.reader is not None and self.writer is not None
        self.writer.write(message)
        status_line = await self.reader.readline()
        if not status_line:
            return None
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        raw = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), json.loads(raw) if raw else None


async def adviser_loop(
    base: str,
    adviser_id: int,
    token: str,
    stats: Stats,
    started: dict[int, float],
) -> None:
    ws_url = base.replace("http", "ws") + f"/ws/staff?token={token}"
    async with (
        Http(base, {"Authorization": f"Bearer {token}"}) as api,
        websockets.connect(ws_url, max_size=2**20, compression=None) as ws,
    ):
        replies: dict[int, int] = {}
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                await _adviser_hears(api, ws, json.loads(raw), adviser_id, replies, stats, started)


async def _adviser_hears(
    api: Http,
    ws: Any,
    push: dict[str, Any],
    adviser_id: int,
    replies: dict[int, int],
    stats: Stats,
    started: dict[int, float],
) -> None:
    """As the desk does: accept and close over REST, write over the socket."""
    if (
        push.get("kind") == "event"
        and push["type"] == "contact.offered"
        and push["payload"].get("adviser_id") == adviser_id
    ):
        contact_id = push["subject_id"]
        if contact_id in started:
            stats.offer_latency.append(time.monotonic() - started[contact_id])
        status, answer = await api.post(f"/api/v1/contacts/{contact_id}/accept")
        if status != 200:
            stats.errors.append(f"accept {status} {str(answer)[:80]}")
            return
        stats.chats_answered += 1
    elif push.get("kind") == "error":
        stats.errors.append(f"adviser message: {push['message'][:80]}")
    elif push.get("kind") == "message" and push["author"] == "customer":
        tag = push["body"]
        if tag in stats.sent:
            stats.message_latency.append(time.monotonic() - stats.sent[tag])
            stats.received.add(tag)
        contact_id = push["contact_id"]
        replies[contact_id] = replies.get(contact_id, 0) + 1
        reply = f"r-{uuid.uuid4().hex[:12]}"
        stats.sent[reply] = time.monotonic()
        await ws.send(json.dumps({"kind": "message", "contact_id": contact_id, "body": reply}))
        if replies[contact_id] >= MESSAGES_EACH_WAY:
            await asyncio.sleep(0.2)
            await api.post(f"/api/v1/contacts/{contact_id}/close", {"resolved": True})


async def customer(
    base: str, key: str, queue_id: int, stats: Stats, started: dict[int, float]
) -> None:
    async with Http(base) as api:
        t0 = time.monotonic()
        status, chat = await api.post(
            f"/public/v1/widget/{key}/chats", {"name": "Client bench", "queue_id": queue_id}
        )
        if status != 201:
            stats.errors.append(f"start {status}")
            return
        started[chat["contact_id"]] = t0
        stats.chats_started += 1
    ws_url = base.replace("http", "ws") + f"/public/v1/chat/ws?token={chat['token']}"
    async with websockets.connect(ws_url, compression=None) as ws:
        await asyncio.wait_for(_converse(ws, stats), timeout=30)


async def _converse(ws: Any, stats: Stats) -> None:
    # As the widget does: the socket opens with the chat's state (the adviser may already
    # have answered), then follows the pushes; the customer writes over it.
    sent = 0
    async for raw in ws:
        push = json.loads(raw)
        kind = push.get("kind")
        if kind in ("state", "status") and push["status"] == "in_progress" and sent == 0:
            sent = await _say(ws, stats, sent)
        elif kind == "message" and push["author"] == "adviser":
            tag = push["body"]
            if tag in stats.sent:
                stats.message_latency.append(time.monotonic() - stats.sent[tag])
                stats.received.add(tag)
            if sent < MESSAGES_EACH_WAY:
                sent = await _say(ws, stats, sent)
        elif kind == "error":
            stats.errors.append(f"customer message: {push['message'][:80]}")
        elif kind == "status" and push["status"] == "closed":
            return


async def _say(ws: Any, stats: Stats, sent: int) -> int:
    tag = f"c-{uuid.uuid4().hex[:12]}"
    stats.sent[tag] = time.monotonic()
    await ws.send(json.dumps({"kind": "message", "body": tag}))
    return sent + 1


async def wall_watcher(base: str, token: str, stats: Stats) -> None:
    """A supervisor's wall: follows the tenant's pushes and re-reads the snapshot as wall.js
    does (once per 200 ms of pushes)."""
    ws_url = base.replace("http", "ws") + f"/ws/staff?token={token}"
    async with (
        Http(base, {"Authorization": f"Bearer {token}"}) as api,
        websockets.connect(ws_url, max_size=2**22, compression=None) as ws,
    ):
        last_event = 0

        def heard(raw: str | bytes) -> None:
            nonlocal last_event
            last_event = max(last_event, json.loads(raw).get("id") or 0)

        while True:
            heard(await ws.recv())
            await asyncio.sleep(WALL_DEBOUNCE)
            with contextlib.suppress(TimeoutError):
                while True:  # the pushes that came meanwhile are covered by this read
                    heard(await asyncio.wait_for(ws.recv(), timeout=0))
            started = time.monotonic()
            # As wall.js: naming the last event pushed lets walls share one reading.
            status, _ = await api.request("GET", f"/api/v1/wall?since={last_event}")
            if status != 200:
                stats.errors.append(f"wall {status}")
            stats.wall_reads.append(time.monotonic() - started)


async def watch_client_lag(stats: Stats, stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.01)
        stats.client_lag.append(time.monotonic() - before - 0.01)


async def drive(
    base: str,
    key: str,
    queue_id: int,
    team: list[tuple[int, str]],
    rate: float,
    seconds: float,
    walls: tuple[str, ...] = (),
) -> Stats:
    stats, stop = Stats(), asyncio.Event()
    started: dict[int, float] = {}
    agents = [asyncio.create_task(adviser_loop(base, a, tok, stats, started)) for a, tok in team]
    agents += [asyncio.create_task(wall_watcher(base, token, stats)) for token in walls]
    await asyncio.sleep(2)  # every adviser socket open
    lag = asyncio.create_task(watch_client_lag(stats, stop))
    customers = []
    for _ in range(int(rate * seconds)):
        customers.append(asyncio.create_task(customer(base, key, queue_id, stats, started)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*customers, return_exceptions=True)
    await asyncio.sleep(1)
    stop.set()
    for agent in agents:
        agent.cancel()
    for outcome in await asyncio.gather(lag, *agents, *customers, return_exceptions=True):
        if isinstance(outcome, Exception) and not isinstance(outcome, asyncio.CancelledError):
            stats.errors.append(f"{type(outcome).__name__}: {outcome}"[:120])
    return stats


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run_one(name: str, url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    console.print(f"[bold]{name}[/]: seeding {args.advisers} advisers…")
    key, team, queue_id, watcher = seed(url, args.advisers)
    port = free_port()
    server = start_server(url, port, folder / f"{name}.log", args.insights_inside)
    insights_log = folder / f"{name}-insights.log"
    beside = not (args.insights_inside or args.no_insights)
    insights = start_insights(url, insights_log) if beside else None
    profiler = None
    try:
        if args.profile:
            # py-spy is installed next to this interpreter (`pip install py-spy`).
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            output = folder / f"{name}.pyspy"
            command = [spy, "record", "--gil", "-f", "raw", "-p", str(server.pid)]
            profiler = subprocess.Popen(
                [*command, "-d", str(int(args.seconds + 4)), "-o", str(output)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cpu_before, bench_before = cpu_seconds(server.pid), time.process_time()
        insights_before = 0.0 if insights is None else cpu_seconds(insights.pid)
        walls = (watcher,) * args.walls
        stats = asyncio.run(
            drive(f"http://127.0.0.1:{port}", key, queue_id, team, args.rate, args.seconds, walls)
        )
        cpu = cpu_seconds(server.pid) - cpu_before
        bench_cpu = time.process_time() - bench_before
        memory = peak_memory_mb(server.pid)
        insights_cpu = math.nan if insights is None else cpu_seconds(insights.pid) - insights_before
        insights_memory = math.nan if insights is None else peak_memory_mb(insights.pid)
        if profiler is not None:
            profiler.wait()
    finally:
        stop(server)
        if insights is not None:
            stop(insights)
    lost = len(set(stats.sent) - stats.received)
    if stats.errors:
        kinds = Counter(stats.errors).most_common(5)
        console.print(f"{name}: errors " + ", ".join(f"{k} × {n}" for k, n in kinds))
    return {
        "name": name,
        "chats": stats.chats_started,
        "answered": stats.chats_answered,
        "offer_p50": percentile(stats.offer_latency, 0.5),
        "offer_p99": percentile(stats.offer_latency, 0.99),
        "msg_p50": percentile(stats.message_latency, 0.5),
        "msg_p99": percentile(stats.message_latency, 0.99),
        "messages": len(stats.sent),
        "lost": lost,
        "memory": memory,
        "cpu_per_chat": 1000 * cpu / max(1, stats.chats_started),
        "insights_memory": insights_memory,
        "insights_cpu_per_chat": 1000 * insights_cpu / max(1, stats.chats_started),
        "client_lag_p99": percentile(stats.client_lag, 0.99),
        "bench_cpu_per_chat": 1000 * bench_cpu / max(1, stats.chats_started),
        "errors": len(stats.errors),
        "wall_reads": len(stats.wall_reads),
        "wall_p99": percentile(stats.wall_reads, 0.99),
    }


def postgres_url() -> str | None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"allo_bench_{uuid.uuid4().hex[:8]}"
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        return None
    finally:
        engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    engine.dispose()


def insights_cells(row: dict[str, Any], args: argparse.Namespace) -> tuple[str, str]:
    if math.isnan(row["insights_memory"]):
        where = "none" if args.no_insights else "in server"
        return where, where
    return f"{row['insights_memory']:.0f}", f"{row['insights_cpu_per_chat']:.1f}"


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    table = Table(
        title=f"Live: {args.advisers} advisers, {args.rate} new chats/s for {args.seconds} s, "
        f"{args.walls} wall(s) watching"
    )
    for column in (
        "database",
        "chats",
        "answered",
        "offer p50 ms",
        "offer p99 ms",
        "msg p50 ms",
        "msg p99 ms",
        "messages",
        "lost",
        "server peak MB",
        "server CPU ms / chat",
        "insights peak MB",
        "insights CPU ms / chat",
        "bench CPU ms / chat",
        "bench loop lag p99 ms",
        "errors",
    ):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r["name"],
            str(r["chats"]),
            str(r["answered"]),
            f"{r['offer_p50']:.0f}",
            f"{r['offer_p99']:.0f}",
            f"{r['msg_p50']:.0f}",
            f"{r['msg_p99']:.0f}",
            str(r["messages"]),
            str(r["lost"]),
            f"{r['memory']:.0f}",
            f"{r['cpu_per_chat']:.1f}",
            *insights_cells(r, args),
            f"{r['bench_cpu_per_chat']:.1f}",
            f"{r['client_lag_p99']:.0f}",
            str(r["errors"]),
        )
    table.add_row(
        "goal", "", "", "", "< 100", "", "< 100", "", "0", "< 500", "", "", "0", style="dim"
    )
    console.print(table)
    for r in rows:
        if r["wall_reads"]:
            console.print(
                f"{r['name']}: {args.walls} wall(s) re-read the snapshot {r['wall_reads']} times, "
                f"p99 {r['wall_p99']:.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--advisers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--walls", type=int, default=1, help="supervisor walls watching live (default 1)"
    )
    parser.add_argument("--quick", action="store_true", help="50 advisers, 5 s")
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--logs", type=Path, help="keep the server logs in this folder")
    parser.add_argument(
        "--insights-inside",
        action="store_true",
        help="read conversations inside the API process (as `allo demo` does) instead of "
        "in `allo insights` beside it (as deployed)",
    )
    parser.add_argument(
        "--no-insights",
        action="store_true",
        help="no conversation reading at all: the live path alone (to tell their costs apart)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy profile of the server (GIL holders)"
    )
    args = parser.parse_args()
    host = hostspeed.describe()  # before the servers start
    if args.quick:
        args.advisers, args.seconds = 50, 5.0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        logs = args.logs or Path(folder)
        logs.mkdir(parents=True, exist_ok=True)
        if args.db in ("both", "sqlite"):
            rows.append(run_one("SQLite", f"sqlite:///{folder}/live.sqlite", args, logs))
        pg = postgres_url() if args.db in ("both", "postgres") else None
        if pg is None and args.db != "sqlite":
            console.print("PostgreSQL not reachable: skipped")
        elif pg is not None:
            try:
                rows.append(run_one("PostgreSQL", pg, args, logs))
            finally:
                drop_postgres(pg)
    report(rows, args)
    console.print(host)


if __name__ == "__main__":
    main()
