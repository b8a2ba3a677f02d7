"""N concurrent relayed calls through Allo's media service, between headless aiortc peers.

The relay (MediaService and its Call switchboards, exactly as `allo serve` runs them) runs in
a child process of its own; the caller and adviser peers are spread over worker processes,
and a direct aiortc pair (no relay) runs in a worker of its own as the latency baseline. On a
machine shared with other jobs, wall-clock shares lie, so CPU is CPU seconds from /proc
(relay) and from each worker, divided by call-seconds: calls per core = 1 / (relay CPU
seconds per call-second). For each N the bench prints that, the bitrate of each direction
(RTP bytes from aiortc's stats), the one-way latency of marker bursts from caller to adviser
(relayed minus direct = what the relay adds), whether the peers kept real time (p99 lateness
of the chunks they sent, and the share of the expected 20 ms frames the advisers received),
and how many calls the relay was forwarding untouched. Latency is only a result when the
peers kept real time; the table says so. Goals (issue #7): ≥ 25 calls per core,
≤ 40 kbit/s per direction, < 50 ms added latency.

    .venv/bin/python bench/voice.py --calls 2 5 10 --seconds 8
    .venv/bin/python bench/voice.py --calls 10 --workers 3 --hold   # the switchboard path
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from allo.channels.voice.audio import CHUNK, RATE, Samples, silence
from allo.channels.voice.media import (
    OPUS_BITRATE,
    MediaService,
    asked_opus_bitrate,
    limit_opus_bitrate,
)
from allo.channels.voice.peer import Softphone

MARKER_EVERY = 25  # chunks: one burst every 500 ms
MARKER_LEVEL = 8000
THRESHOLD = 1000.0  # RMS: a marker has arrived
GOALS = {"calls_per_core": 25.0, "kbps": 40.0, "added_ms": 50.0}
# Peers kept real time if 99 % of their chunks left within this of schedule and the advisers
# got nearly every frame: beyond, a late sender or a starved receiver skews latency.
LATE_MS = 20.0
HEARD_SHARE = 0.95
SPAWN = multiprocessing.get_context("spawn")


def marker_source() -> Samples:
    """100 ms of a 1 kHz tone, then silence, repeated: each burst's start is a marker."""
    t = np.arange(CHUNK * 5) / RATE
    burst = (np.sin(2 * np.pi * 1000 * t) * MARKER_LEVEL).astype(np.int16)
    return np.concatenate([burst, silence(CHUNK * (MARKER_EVERY - 5))])


def voice_like() -> Samples:
    """A steady two-tone 'voice' for the adviser's side (continuous audio to encode)."""
    t = np.arange(RATE) / RATE
    return ((np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t)) * 2000).astype(np.int16)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


def _sent(report: Any) -> int:
    kind = "RTCOutboundRtpStreamStats"
    return sum(s.bytesSent for s in report.values() if type(s).__name__ == kind)


class Child:
    """A spawned process driven by (command, *args) messages over a pipe."""

    def __init__(self, target: Any) -> None:
        self.conn, child = SPAWN.Pipe()
        self.process = SPAWN.Process(target=target, args=(child,), daemon=True)
        self.process.start()

    async def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid or 0)


# -- the relay process


def relay_main(conn: Connection) -> None:
    asyncio.run(_relay(conn))


async def _relay(conn: Connection) -> None:
    limit_opus_bitrate()
    media = MediaService()
    loop = asyncio.get_running_loop()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "call":
            contact_id, offer = args
            conn.send(await media.start_call(contact_id, 1, offer, [], [], None))
        elif command == "adviser":
            contact_id, offer = args
            conn.send(await media.join_adviser(contact_id, offer))
        elif command == "hold":
            for contact_id in media.calls:
                media.hold(contact_id, True)
            conn.send(None)
        elif command == "bytes":
            conn.send(await _relay_facts(media))
        elif command == "stop":
            await media.close()
            conn.send(None)
            return


async def _relay_facts(media: MediaService) -> dict[str, int]:
    """RTP bytes the relay sent to callers, and how many calls it forwards untouched."""
    facts = {"to_caller": 0, "forwarding": 0}
    for call in media.calls.values():
        facts["to_caller"] += _sent(await call.customer.pc.getStats())
        facts["forwarding"] += call.forwarding
    return facts


# -- the peers' processes


@dataclass
class Pair:
    caller: Softphone
    adviser: Softphone


def new_pair() -> Pair:
    return Pair(Softphone(marker_source()), Softphone(voice_like()))


def worker_main(conn: Connection) -> None:
    asyncio.run(_worker(conn))


async def _worker(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    pairs: list[Pair] = []
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "offers":
            pairs = [new_pair() for _ in range(args[0])]
            conn.send([(await p.caller.offer(), await p.adviser.offer()) for p in pairs])
        elif command == "answers":
            # As browsers do, the peers send Opus at the rate the relay's answer asks for.
            asked = {asked_opus_bitrate(sdp) for answers in args[0] for sdp in answers}
            limit_opus_bitrate(min((b for b in asked if b), default=OPUS_BITRATE))
            for pair, (to_caller, to_adviser) in zip(pairs, args[0], strict=True):
                await pair.caller.accept(to_caller)
                await pair.adviser.accept(to_adviser)
            await wait_connected(pairs)
            conn.send(None)
        elif command == "direct":
            pairs = [await connect_direct()]
            await wait_connected(pairs)
            conn.send(None)
        elif command == "measure":
            conn.send(await measure(pairs, *args))
        elif command == "stop":
            for pair in pairs:
                await pair.caller.close()
                await pair.adviser.close()
            conn.send(None)
            return


async def connect_direct() -> Pair:
    """The peer baseline: the same two softphones, straight to each other."""
    from aiortc import RTCSessionDescription

    pair = new_pair()
    offer = RTCSessionDescription(await pair.caller.offer(), "offer")
    await pair.adviser.pc.setRemoteDescription(offer)
    await pair.adviser.pc.setLocalDescription(await pair.adviser.pc.createAnswer())
    await pair.caller.accept(pair.adviser.pc.localDescription.sdp)
    return pair


async def wait_connected(pairs: list[Pair], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    phones = [p for pair in pairs for p in (pair.caller, pair.adviser)]
    while any(p.pc.connectionState != "connected" for p in phones):
        if time.monotonic() > deadline:
            raise RuntimeError("peers did not connect")
        await asyncio.sleep(0.1)


async def measure(pairs: list[Pair], start: float, end: float) -> dict[str, Any]:
    """This worker's facts over [start, end]: CPU, bytes sent, lateness, frames, latencies."""
    await sleep_until(start)
    cpu, up = time.process_time(), [await _bytes(p.caller) for p in pairs]
    await sleep_until(end)
    cpu = time.process_time() - cpu
    up_bytes = sum([await _bytes(p.caller) for p in pairs]) - sum(up)
    phones = [phone for p in pairs for phone in (p.caller, p.adviser)]
    late = [ms for phone in phones for ms in lateness(phone, start, end)]
    heard = [sum(start <= at < end for at, _ in p.adviser.heard) for p in pairs]
    return {
        "cpu": cpu,
        "up_bytes": up_bytes,
        "late_ms": late,
        "heard": heard,
        "latencies": [ms for p in pairs for ms in marker_latencies(p, start, end)],
    }


async def _bytes(phone: Softphone) -> int:
    return _sent(await phone.pc.getStats())


def lateness(phone: Softphone, start: float, end: float) -> list[float]:
    """How late (ms) each chunk the phone sent in [start, end] left, against its schedule."""
    track = phone.track
    origin = track._start or 0.0
    return [
        (at - origin - i * CHUNK / RATE) * 1000
        for i, at in enumerate(track.sent_at)
        if start <= at < end
    ]


def marker_latencies(pair: Pair, start: float, end: float) -> list[float]:
    """For each burst sent in [start, end]: when the adviser first heard energy after it."""
    sent = pair.caller.track.sent_at
    starts = [sent[i] for i in range(0, len(sent), MARKER_EVERY) if start <= sent[i] < end]
    heard = [(at, rms) for at, rms in pair.adviser.heard if at >= start]
    latencies = []
    for burst in starts:
        window = burst + MARKER_EVERY * CHUNK / RATE / 2
        arrival = next((at for at, rms in heard if burst <= at < window and rms > THRESHOLD), None)
        if arrival is not None:
            latencies.append((arrival - burst) * 1000)
    return latencies


# -- one run


async def connect(relay: Child, workers: list[Child], calls: int) -> None:
    shares = [calls // len(workers) + (i < calls % len(workers)) for i in range(len(workers))]
    contact_id = 0
    for worker, share in zip(workers, shares, strict=True):
        answers = []
        for to_caller, to_adviser in await worker.ask("offers", share):
            contact_id += 1
            answers.append(
                (
                    await relay.ask("call", contact_id, to_caller),
                    await relay.ask("adviser", contact_id, to_adviser),
                )
            )
        await worker.ask("answers", answers)


async def run(calls: int, seconds: float, workers: int, hold: bool) -> dict[str, Any]:
    relay = Child(relay_main)
    peers = [Child(worker_main) for _ in range(min(workers, calls))]
    baseline = Child(worker_main)
    await connect(relay, peers, calls)
    await baseline.ask("direct")
    if hold:
        await relay.ask("hold")
    start = time.monotonic() + 2.0  # warm-up: buffers fill, the first markers are ignored
    end = start + seconds
    measuring = [asyncio.ensure_future(w.ask("measure", start, end)) for w in [*peers, baseline]]
    await sleep_until(start)
    relay_cpu, down = relay.cpu(), (await relay.ask("bytes"))["to_caller"]
    await sleep_until(end)
    relay_cpu = relay.cpu() - relay_cpu
    facts = await relay.ask("bytes")
    results = [await m for m in measuring]
    for child in [relay, *peers, baseline]:
        await child.ask("stop")
        child.process.join(10)
    return summarise(calls, seconds, relay_cpu, facts, facts["to_caller"] - down, results)


def summarise(
    calls: int,
    seconds: float,
    relay_cpu: float,
    facts: dict[str, int],
    down: int,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    relayed, direct = results[:-1], results[-1]
    latencies = [ms for r in relayed for ms in r["latencies"]]
    late = [ms for r in results for ms in r["late_ms"]]
    heard = [n for r in results for n in r["heard"]]
    relayed_ms = statistics.median(latencies) if latencies else float("nan")
    direct_ms = statistics.median(direct["latencies"]) if direct["latencies"] else float("nan")
    per_call = relay_cpu / seconds / calls
    return {
        "calls": calls,
        "cpu_per_call": per_call,
        "calls_per_core": 1 / per_call if per_call else float("inf"),
        "peers_cpu_per_call": sum(r["cpu"] for r in relayed) / seconds / calls,
        "up_kbps": sum(r["up_bytes"] for r in relayed) * 8 / seconds / calls / 1000,
        "down_kbps": down * 8 / seconds / calls / 1000,
        "relayed_ms": relayed_ms,
        "direct_ms": direct_ms,
        "added_ms": relayed_ms - direct_ms,
        "late_p99": float(np.percentile(late, 99)) if late else float("nan"),
        "heard": min(heard) / (seconds * RATE / CHUNK) if heard else 0.0,
        "forwarding": facts["forwarding"],
    }


def real_time(r: dict[str, Any]) -> bool:
    return bool(r["late_p99"] <= LATE_MS and r["heard"] >= HEARD_SHARE)


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "[yellow]n/a[/]"
    return "[green]pass[/]" if ok else "[red]fail[/]"


COLUMNS = (
    "calls",
    "forwarded untouched",
    "relay CPU s per call-s",
    "calls per core",
    "peers' CPU s per call-s",
    "caller→relay kbit/s",
    "relay→caller kbit/s",
    "one-way ms relayed",
    "one-way ms direct",
    "added ms",
    "peers late p99 ms",
    "min frames heard",
    "real time",
    "goals",
)


def row(r: dict[str, Any]) -> list[str]:
    # No latency mark without real time, nor without markers (on hold nobody hears them: NaN).
    timely = real_time(r)
    marks = (
        r["calls_per_core"] >= GOALS["calls_per_core"],
        max(r["up_kbps"], r["down_kbps"]) <= GOALS["kbps"],
        r["added_ms"] < GOALS["added_ms"] if timely and r["added_ms"] == r["added_ms"] else None,
    )
    return [
        f"{r['calls']}",
        f"{r['forwarding']}/{r['calls']}",
        f"{r['cpu_per_call']:.4f}",
        f"{r['calls_per_core']:.1f}",
        f"{r['peers_cpu_per_call']:.3f}",
        f"{r['up_kbps']:.1f}",
        f"{r['down_kbps']:.1f}",
        f"{r['relayed_ms']:.1f}",
        f"{r['direct_ms']:.1f}",
        f"{r['added_ms']:.1f}" if timely else f"({r['added_ms']:.1f})",
        f"{r['late_p99']:.1f}",
        f"{r['heard']:.0%}",
        "yes" if timely else "[red]no[/]",
        " ".join(verdict(m) for m in marks),
    ]


def report(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(*row(r))
    console = Console(width=220)
    console.print(table)
    console.print(
        "goals: ≥ 25 calls per core · ≤ 40 kbit/s per direction · < 50 ms added one-way latency "
        "(the three marks, in that order; latency n/a and in brackets when the peers did not "
        f"keep real time: p99 lateness > {LATE_MS:.0f} ms or an adviser got < "
        f"{HEARD_SHARE:.0%} of its frames). CPU is CPU seconds per call-second from /proc, "
        "robust to other jobs on the machine. Bitrates are RTP bytes (no SRTP/UDP/IP)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="*", default=[2, 5, 10])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2, help="peer processes")
    parser.add_argument("--hold", action="store_true", help="every call on hold: switchboard path")
    args = parser.parse_args()
    rows = [asyncio.run(run(n, args.seconds, args.workers, args.hold)) for n in args.calls]
    path = "on hold (switchboard)" if args.hold else "two-party"
    report(rows, f"Relayed {path} calls through Allo's media service (loopback, aiortc peers)")


if __name__ == "__main__":
    main()
