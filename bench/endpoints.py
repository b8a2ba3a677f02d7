"""Server CPU per request, endpoint by endpoint, on the live chat path.

A real `allo serve` (in-process router, no insights) on SQLite or PostgreSQL; requests are
sent one at a time, in phases of `--count` each, and the server's CPU time over each phase
is divided by its count. `GET /healthz` is the peer: what the web framework costs for a
request that touches no database. Offers are made by the router while the accepts wait for
them, so the accept line carries the router's work for that contact.

    python bench/endpoints.py [--quick] [--db sqlite|postgres] [--count 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import websockets
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
import hostspeed
import live

console = Console(width=150)


async def answer_to(
    socket: Any, ref: int, on_push: Callable[[dict[str, Any]], None] = lambda _: None
) -> None:
    """Wait for the server's `sent` for this ref; pushes that come first go to `on_push`."""
    while True:
        frame = json.loads(await socket.recv())
        if frame.get("ref") == ref and frame.get("kind") in ("sent", "error"):
            assert frame["kind"] == "sent", frame
            return
        on_push(frame)


async def phase(pid: int, count: int, work: Callable[[int], Awaitable[Any]]) -> tuple[float, float]:
    """Server CPU ms per call and wall ms per call of `work(i)` for i < count, in sequence."""
    cpu, started = live.cpu_seconds(pid), time.perf_counter()
    for i in range(count):
        await work(i)
    wall = time.perf_counter() - started
    return 1000 * (live.cpu_seconds(pid) - cpu) / count, 1000 * wall / count


async def measure(
    base: str, pid: int, key: str, queue_id: int, team: Any, n: int, wall_token: str
) -> list[Any]:
    rows: list[Any] = []
    async with live.Http(base) as public:
        rows.append(
            ("GET /healthz", *await phase(pid, n, lambda _: public.request("GET", "/healthz")))
        )
        chats: list[dict[str, Any]] = []

        async def start(_: int) -> None:
            status, chat = await public.post(
                f"/public/v1/widget/{key}/chats", {"name": "Client bench", "queue_id": queue_id}
            )
            assert status == 201, chat
            chats.append(chat)

        rows.append(("POST /public/v1/widget/{key}/chats", *await phase(pid, n, start)))

        def token(i: int) -> dict[str, str]:
            return {"X-Chat-Token": chats[i]["token"]}

        rows.append(
            (
                "GET /public/v1/chat",
                *await phase(
                    pid, n, lambda i: public.request("GET", "/public/v1/chat", headers=token(i))
                ),
            )
        )

        async def connect(i: int) -> None:
            url = base.replace("http", "ws") + f"/public/v1/chat/ws?token={chats[i]['token']}"
            async with websockets.connect(url, compression=None):
                pass

        rows.append(("customer socket: open + close", *await phase(pid, n, connect)))

        async def say(i: int) -> None:
            status, answer = await public.post(
                "/public/v1/chat/messages", {"body": f"m{i}"}, token(i)
            )
            assert status == 201, answer

        rows.append(("POST /public/v1/chat/messages", *await phase(pid, n, say)))
        url = base.replace("http", "ws") + f"/public/v1/chat/ws?token={chats[0]['token']}"
        async with websockets.connect(url, compression=None) as socket:

            async def say_over_socket(i: int) -> None:
                await socket.send(json.dumps({"kind": "message", "body": f"s{i}", "ref": i}))
                await answer_to(socket, i)

            rows.append(("customer line over the socket", *await phase(pid, n, say_over_socket)))
        rows.extend(await adviser_phases(base, pid, team, chats))
    supervisor = {"Authorization": f"Bearer {wall_token}"}
    async with live.Http(base, supervisor) as wall:
        rows.append(
            (
                "GET /api/v1/wall (supervisor)",
                *await phase(pid, n, lambda _: wall.request("GET", "/api/v1/wall")),
            )
        )
    return rows


async def adviser_phases(base: str, pid: int, team: Any, chats: list[dict[str, Any]]) -> list[Any]:
    """Advisers become ready one by one; each accepts what it is offered, writes, closes."""
    n = len(chats)
    adviser_id, api_token = team[0]
    headers = {"Authorization": f"Bearer {api_token}"}
    url = base.replace("http", "ws") + f"/ws/staff?token={api_token}"
    async with live.Http(base, headers) as api, websockets.connect(url, compression=None) as ws:
        status, _ = await api.request(
            "PUT", f"/api/v1/advisers/{adviser_id}/state", {"state": "ready"}
        )
        assert status == 200
        rows, accepted = [], []
        # The adviser takes up to its capacity at once: offers pushed while it waits for
        # something else are kept for the next accept.
        offered: list[int] = []

        def keep_offer(push: dict[str, Any]) -> None:
            if push.get("type") == "contact.offered":
                offered.append(push["subject_id"])

        async def accept(_: int) -> None:
            while not offered:
                keep_offer(json.loads(await ws.recv()))
            contact_id = offered.pop(0)
            status, answer = await api.post(f"/api/v1/contacts/{contact_id}/accept")
            assert status == 200, answer
            accepted.append(contact_id)

        async def write(i: int) -> None:
            status, answer = await api.post(
                f"/api/v1/contacts/{accepted[i]}/messages", {"body": f"r{i}"}
            )
            assert status == 201, answer

        async def write_over_socket(i: int) -> None:
            line = {"kind": "message", "contact_id": accepted[i], "body": f"w{i}", "ref": i}
            await ws.send(json.dumps(line))
            await answer_to(ws, i, keep_offer)

        async def close(i: int) -> None:
            status, answer = await api.post(
                f"/api/v1/contacts/{accepted[i]}/close", {"resolved": True}
            )
            assert status == 200, answer

        # One contact at a time: offer, accept, answer, close (the adviser's capacity frees).
        cpu = {
            "accept (router's offer included)": 0.0,
            "POST /api/v1/contacts/{id}/messages": 0.0,
            "adviser line over the socket": 0.0,
            "POST /api/v1/contacts/{id}/close": 0.0,
        }
        walls = dict.fromkeys(cpu, 0.0)
        for i in range(n):
            for name, work in zip(cpu, (accept, write, write_over_socket, close), strict=True):
                c, w = await phase(pid, 1, lambda _, work=work, i=i: work(i))
                cpu[name] += c / n
                walls[name] += w / n
        rows.extend((name, cpu[name], walls[name]) for name in cpu)
        return rows


def run(name: str, url: str, count: int, folder: Path, profile: Path | None) -> list[Any]:
    key, team, queue_id, watcher = live.seed(url, 1, ready=False)
    port = live.free_port()
    server = live.start_server(url, port, folder / f"{name}.log", insights_inside=False)
    spy = None
    if profile is not None:
        # py-spy is installed next to this interpreter (`pip install py-spy`).
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--gil", "-r", "250"]
        output = str(profile / f"{name}.pyspy")
        spy = subprocess.Popen(
            [*command, "-f", "raw", "-p", str(server.pid), "-o", output],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        time.sleep(1)
        return asyncio.run(
            measure(
                f"http://127.0.0.1:{port}",
                server.pid,
                key,
                queue_id,
                team,
                count,
                watcher,
            )
        )
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait()
        live.stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="50 requests per line")
    parser.add_argument("--profile", type=Path, help="py-spy profiles of the servers, here")
    args = parser.parse_args()
    if args.quick:
        args.count = 50
    host = hostspeed.describe()
    results: dict[str, list[Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        if args.db in ("both", "sqlite"):
            results["SQLite"] = run(
                "SQLite", f"sqlite:///{folder}/e.sqlite", args.count, Path(folder), args.profile
            )
        pg = live.postgres_url() if args.db in ("both", "postgres") else None
        if pg is not None:
            try:
                results["PostgreSQL"] = run(
                    "PostgreSQL", pg, args.count, Path(folder), args.profile
                )
            finally:
                live.drop_postgres(pg)
    table = Table(title=f"Server CPU per request, {args.count} requests in sequence per line")
    table.add_column("request")
    for name in results:
        table.add_column(f"{name} CPU ms", justify="right")
        table.add_column(f"{name} × healthz", justify="right")
        table.add_column(f"{name} wall ms", justify="right")
    first = next(iter(results.values()))
    for i, (label, *_rest) in enumerate(first):
        cells = []
        for rows in results.values():
            _, cpu, wall = rows[i]
            cells += [f"{cpu:.2f}", f"{cpu / rows[0][1]:.1f}", f"{wall:.2f}"]
        table.add_row(label, *cells)
    console.print(table)
    console.print(host)


if __name__ == "__main__":
    main()
