"""N concurrent relayed calls through Allo's media service, between headless aiortc peers.

The relay (MediaService and its Call switchboards, exactly as `allo serve` runs them) is in a
child process of its own so that its CPU time is its own; the caller and adviser peers run
here, on loopback. For each N the bench prints the relay's CPU per call, the bitrate of each
direction (RTP bytes from aiortc's stats), and the one-way latency of marker bursts from
caller to adviser, compared with a direct aiortc pair (no relay) measured in the same run:
the difference is what the relay adds. Goals (issue #7): ≥ 25 calls per core, ≤ 40 kbit/s
per direction, < 50 ms added latency.

    .venv/bin/python bench/voice.py            # N = 10, 25, 50
    .venv/bin/python bench/voice.py --calls 5 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from allo.channels.voice.audio import CHUNK, RATE, Samples, silence
from allo.channels.voice.media import MediaService, limit_opus_bitrate
from allo.channels.voice.peer import Softphone

MARKER_EVERY = 25  # chunks: one burst every 500 ms
MARKER_LEVEL = 8000
THRESHOLD = 1000.0  # RMS: a marker has arrived
GOALS = {"calls_per_core": 25.0, "kbps": 40.0, "added_ms": 50.0}


def marker_source() -> Samples:
    """100 ms of a 1 kHz tone, then silence, repeated: each burst's start is a marker."""
    t = np.arange(CHUNK * 5) / RATE
    burst = (np.sin(2 * np.pi * 1000 * t) * MARKER_LEVEL).astype(np.int16)
    return np.concatenate([burst, silence(CHUNK * (MARKER_EVERY - 5))])


def voice_like() -> Samples:
    """A steady two-tone 'voice' for the adviser's side (continuous audio to encode)."""
    t = np.arange(RATE) / RATE
    return ((np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t)) * 2000).astype(np.int16)


# -- the relay process


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def relay_main(conn: Connection) -> None:
    asyncio.run(_relay(conn))


async def _relay(conn: Connection) -> None:
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
        elif command == "bytes":
            conn.send(await _bytes_sent(media))
        elif command == "stop":
            await media.close()
            conn.send(None)
            return


async def _bytes_sent(media: MediaService) -> dict[str, int]:
    """RTP bytes the relay sent to callers and to advisers, over all calls."""
    totals = {"to_caller": 0, "to_adviser": 0}
    for call in media.calls.values():
        for key, party in (("to_caller", call.customer), ("to_adviser", call.adviser)):
            if party is not None:
                totals[key] += _sent(await party.pc.getStats())
    return totals


def _sent(report: Any) -> int:
    kind = "RTCOutboundRtpStreamStats"
    return sum(s.bytesSent for s in report.values() if type(s).__name__ == kind)


# -- the peers


class Relay:
    def __init__(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=relay_main, args=(child,), daemon=True
        )
        self.process.start()

    async def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)


async def connect_relayed(relay: Relay, contact_id: int) -> tuple[Softphone, Softphone]:
    caller, adviser = Softphone(marker_source()), Softphone(voice_like())
    await caller.accept(await relay.ask("call", contact_id, await caller.offer()))
    await adviser.accept(await relay.ask("adviser", contact_id, await adviser.offer()))
    return caller, adviser


async def connect_direct() -> tuple[Softphone, Softphone]:
    """The peer baseline: the same two softphones, straight to each other."""
    from aiortc import RTCSessionDescription

    caller, adviser = Softphone(marker_source()), Softphone(voice_like())
    await adviser.pc.setRemoteDescription(RTCSessionDescription(await caller.offer(), "offer"))
    await adviser.pc.setLocalDescription(await adviser.pc.createAnswer())
    await caller.accept(adviser.pc.localDescription.sdp)
    return caller, adviser


def marker_latencies(caller: Softphone, adviser: Softphone, since: float) -> list[float]:
    """For each burst sent after `since`: when the adviser first heard energy after it."""
    sent = caller.track.sent_at
    starts = [sent[i] for i in range(0, len(sent), MARKER_EVERY) if sent[i] >= since]
    heard = [(at, rms) for at, rms in adviser.heard if at >= since]
    latencies = []
    for start in starts:
        window = start + MARKER_EVERY * CHUNK / RATE / 2
        arrival = next((at for at, rms in heard if start <= at < window and rms > THRESHOLD), None)
        if arrival is not None:
            latencies.append(arrival - start)
    return latencies


async def _sent_bytes(phone: Softphone) -> int:
    return _sent(await phone.pc.getStats())


async def wait_connected(phones: list[Softphone], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while any(p.pc.connectionState != "connected" for p in phones):
        if time.monotonic() > deadline:
            raise RuntimeError("peers did not connect")
        await asyncio.sleep(0.1)


async def run(calls: int, seconds: float) -> dict[str, float]:
    relay = Relay()
    pairs = [await connect_relayed(relay, i + 1) for i in range(calls)]
    direct = await connect_direct()
    phones = [p for pair in [*pairs, direct] for p in pair]
    await wait_connected(phones)
    await asyncio.sleep(2.0)  # warm-up: jitter buffers fill, first markers ignored
    start, cpu_start = time.monotonic(), cpu_seconds(relay.process.pid or 0)
    here_start = time.process_time()
    up_start = sum([await _sent_bytes(c) for c, _ in pairs])
    down_start = (await relay.ask("bytes"))["to_caller"]
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - start
    relay_cpu = cpu_seconds(relay.process.pid or 0) - cpu_start
    peers_cpu = time.process_time() - here_start
    up = sum([await _sent_bytes(c) for c, _ in pairs]) - up_start
    down = (await relay.ask("bytes"))["to_caller"] - down_start
    relayed = [ms for c, a in pairs for ms in marker_latencies(c, a, start)]
    baseline = marker_latencies(*direct, start)
    await relay.ask("stop")
    for phone in phones:
        await phone.close()
    relay.process.join(10)
    per_call = relay_cpu / elapsed / calls
    relayed_ms = statistics.median(relayed) * 1000 if relayed else float("nan")
    direct_ms = statistics.median(baseline) * 1000 if baseline else float("nan")
    return {
        "calls": calls,
        "cpu_per_call": per_call,
        "calls_per_core": 1 / per_call if per_call else float("inf"),
        "peers_cpu": peers_cpu / elapsed,
        "up_kbps": up * 8 / elapsed / calls / 1000,
        "down_kbps": down * 8 / elapsed / calls / 1000,
        "relayed_ms": relayed_ms,
        "direct_ms": direct_ms,
        "added_ms": relayed_ms - direct_ms,
        "markers": len(relayed),
    }


def verdict(ok: bool) -> str:
    return "[green]pass[/]" if ok else "[red]fail[/]"


def report(rows: list[dict[str, float]]) -> None:
    table = Table(title="Relayed calls through Allo's media service (loopback, aiortc peers)")
    for column in (
        "calls",
        "relay CPU s/s per call",
        "calls per core",
        "caller→relay kbit/s",
        "relay→caller kbit/s",
        "one-way ms relayed",
        "one-way ms direct",
        "added ms",
        "peers' CPU (cores)",
        "goals",
    ):
        table.add_column(column, justify="right")
    for r in rows:
        ok = (
            r["calls_per_core"] >= GOALS["calls_per_core"],
            max(r["up_kbps"], r["down_kbps"]) <= GOALS["kbps"],
            r["added_ms"] < GOALS["added_ms"],
        )
        table.add_row(
            f"{r['calls']:.0f}",
            f"{r['cpu_per_call']:.4f}",
            f"{r['calls_per_core']:.1f}",
            f"{r['up_kbps']:.1f}",
            f"{r['down_kbps']:.1f}",
            f"{r['relayed_ms']:.1f}",
            f"{r['direct_ms']:.1f}",
            f"{r['added_ms']:.1f}",
            f"{r['peers_cpu']:.2f}",
            " ".join(verdict(o) for o in ok),
        )
    console = Console()
    console.print(table)
    console.print(
        "goals: ≥ 25 calls per core · ≤ 40 kbit/s per direction · < 50 ms added one-way latency "
        "(the three pass/fail marks, in that order). Bitrates are RTP bytes (no SRTP/UDP/IP)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="*", default=[10, 25, 50])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    limit_opus_bitrate()  # the peers send speech at ~32 kbit/s, as browsers do
    rows = [asyncio.run(run(n, args.seconds)) for n in args.calls]
    report(rows)


if __name__ == "__main__":
    main()
