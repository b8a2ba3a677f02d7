"""Benchmark of the routing engine alone: throughput, latency, scaling, memory, EWT accuracy.

    python bench/routing.py           # full run (about two to three minutes on two cores)
    python bench/routing.py --quick   # smoke run, too short for steady state

A small discrete-event driver plays the live router: Poisson arrivals on 200 queues
(40 skills, voice/chat/email), advisers who answer offers after a ring, handle for a
log-normal time, sometimes let an offer ring out, and callers who hang up when their
patience runs out. Only the time spent inside `RoutingEngine.handle` is measured, after a
warm-up of simulated time (the login storm and the fill-up of an empty centre are not steady
state), and twice:

- per event, interleaved with the driver: CPU time of the thread (`time.thread_time_ns`, so
  that time the process spends descheduled on a loaded machine is not counted) for the
  latency percentiles, wall time (`perf_counter_ns`) shown next to it;
- replayed: the very stream of events the driver produced is fed again to a fresh engine in
  a tight loop, and decisions (every decision returned) and events per second of engine CPU
  time are counted over the measured part. This is the engine's throughput; the interleaved
  sum is also shown, and is lower since the driver evicts the engine's data from the caches.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from allo.domain.advisers import Adviser
from allo.domain.channels import Channel
from allo.domain.queues import WEEKDAYS, OpeningHours, Queue
from allo.domain.sites import Site, TransferBasis
from allo.routing import (
    AdviserMissed,
    AdviserReady,
    AdviserSelection,
    AnnounceWait,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    Decision,
    OfferAccepted,
    OfferContact,
    RoutingEngine,
    RoutingEvent,
    RoutingPolicy,
    SiteOption,
    StartCallback,
    Tick,
)

SKILLS = [f"skill{n:02d}" for n in range(40)]
FRANCE = SiteOption("france")
FRANCE_ONLY = SiteOption("france", only=True)
OPTIONS = ((SiteOption(), 0.5), (FRANCE, 0.3), (FRANCE_ONLY, 0.2))
# name, country, zone, share of advisers, transfer basis, groups
SITE_SPECS = (
    ("Paris", "FR", "Europe/Paris", 0.25, TransferBasis.EEA, ("france",)),
    ("Lille", "FR", "Europe/Paris", 0.15, TransferBasis.EEA, ("france",)),
    ("Rabat", "MA", "Africa/Casablanca", 0.2, TransferBasis.SCC, ("offshore",)),
    ("Tunis", "TN", "Africa/Tunis", 0.15, TransferBasis.SCC, ("offshore",)),
    ("Dakar", "SN", "Africa/Dakar", 0.15, TransferBasis.SCC, ("offshore",)),
    ("Antananarivo", "MG", "Indian/Antananarivo", 0.1, TransferBasis.SCC, ("offshore",)),
)
# channel, share of queues, mean handling time (s), adviser share while handling
CHANNEL_MIX = ((Channel.VOICE, 0.55, 240.0, 1.0), (Channel.CHAT, 0.3, 420.0, 1 / 3))
CHANNEL_MIX += ((Channel.EMAIL, 0.15, 300.0, 0.2),)
ALWAYS = OpeningHours(weekly={day: [["00:00", "24:00"]] for day in WEEKDAYS})


# ---------------------------------------------------------------- the centre


@dataclass
class Centre:
    sites: list[Site]
    queues: list[tuple[Queue, RoutingPolicy]]
    channel_of: dict[int, Channel]
    advisers: list[Adviser]

    def engine(self) -> RoutingEngine:
        return RoutingEngine(sites=self.sites, queues=self.queues, advisers=self.advisers)


def make_sites() -> list[Site]:
    return [
        Site(
            id=n,
            tenant_id=1,
            name=name,
            country=country,
            timezone=zone,
            languages=("fr",),
            hourly_cost=28.0 if country == "FR" else 14.5,
            transfer_basis=basis,
            groups=groups,
        )
        for n, (name, country, zone, _, basis, groups) in enumerate(SITE_SPECS, start=1)
    ]


def make_queues(
    rng: random.Random, count: int
) -> tuple[list[tuple[Queue, RoutingPolicy]], dict[int, Channel]]:
    selections = list(AdviserSelection)
    queues, channel_of = [], {}
    for queue_id in range(1, count + 1):
        wanted = rng.sample(SKILLS, 1 if rng.random() < 0.7 else 2)
        channel = rng.choices([c[0] for c in CHANNEL_MIX], [c[1] for c in CHANNEL_MIX])[0]
        channels = {channel, Channel.CALLBACK} if channel is Channel.VOICE else {channel}
        queue = Queue(
            id=queue_id,
            tenant_id=1,
            name=f"queue {queue_id}",
            required_skills={skill: rng.randint(1, 3) for skill in wanted},
            language="fr",
            min_language_level=3,
            opening_hours=ALWAYS,
            priority=rng.choice((0, 0, 0, 5)),
        )
        policy = RoutingPolicy(
            selection=rng.choice(selections),
            channels=frozenset(channels),
            default_aht=dict((c[0], c[2]) for c in CHANNEL_MIX)[channel],
            announce_options=(FRANCE_ONLY, SiteOption()),
        )
        queues.append((queue, policy))
        channel_of[queue_id] = channel
    return queues, channel_of


def make_advisers(rng: random.Random, count: int, sites: list[Site]) -> list[Adviser]:
    shares = [spec[3] for spec in SITE_SPECS]
    advisers = []
    for adviser_id in range(1, count + 1):
        site = rng.choices(sites, shares)[0]
        skills = {s: rng.choice((1, 2, 3, 3, 4, 5)) for s in rng.sample(SKILLS, rng.randint(6, 10))}
        languages = {"fr": rng.choice((3, 4, 5, 5))}
        if rng.random() < 0.2:
            languages["en"] = rng.randint(2, 5)
        advisers.append(
            Adviser(
                id=adviser_id,
                tenant_id=1,
                site_id=site.id,
                name=f"adviser {adviser_id}",
                skills=skills,
                languages=languages,
            )
        )
    return advisers


def make_centre(seed: int, advisers: int, queues: int = 200) -> Centre:
    rng = random.Random(seed)
    sites = make_sites()
    queue_list, channel_of = make_queues(rng, queues)
    return Centre(sites, queue_list, channel_of, make_advisers(rng, advisers, sites))


def staffing_weights(centre: Centre) -> list[float]:
    weights = dict.fromkeys((q.id for q, _ in centre.queues), 0.0)
    for adviser in centre.advisers:
        eligible = [
            q.id
            for q, _ in centre.queues
            if adviser.has_skills(q.required_skills) and adviser.speaks(q.language, 3)
        ]
        for queue_id in eligible:
            weights[queue_id] += 1 / len(eligible)
    return [weights[q.id] for q, _ in centre.queues]


# ---------------------------------------------------------------- the driver


@dataclass
class Traffic:
    occupancy: float = 0.9
    ring: tuple[float, float] = (1.0, 4.0)
    no_answer: float = 0.02  # offers left to ring out
    patience: float | None = 400.0  # mean, voice only; None: nobody hangs up
    aht_sigma: float = 0.6


@dataclass
class Run:
    latencies_ns: list[int] = field(default_factory=list)
    wall_ns: list[int] = field(default_factory=list)
    decisions: int = 0
    events: int = 0
    # Every event fed, with its time, and the index of the first one measured.
    stream: list[tuple[RoutingEvent, float]] = field(default_factory=list)
    measured_from: int = -1
    predicted: dict[int, float] = field(default_factory=dict)
    waited: dict[int, float] = field(default_factory=dict)
    busy_time: float = 0.0
    sim_time: float = 0.0


class Driver:
    """Feeds the engine the way the live router would, with a virtual clock."""

    def __init__(self, centre: Centre, traffic: Traffic, seed: int, measure_after: float) -> None:
        self.centre, self.traffic = centre, traffic
        self.rng = random.Random(seed)
        self.engine = centre.engine()
        self.heap: list[tuple[float, int, Callable[[], RoutingEvent | None]]] = []
        self.seq = 0
        self.now = 0.0
        self.arrived: dict[int, tuple[float, int]] = {}
        self.state: dict[int, str] = {}
        self.next_contact = 1
        self.tick_at = math.inf
        self.measure_after = measure_after
        self.run = Run()
        self.rate = self._arrival_rate()
        self.queue_ids = [q.id for q, _ in centre.queues]
        # Demand follows staffing: a queue gets traffic in proportion to who can answer it
        # (spread over every queue the adviser could serve), so no queue is overloaded alone.
        self.queue_weights = staffing_weights(centre)

    def _arrival_rate(self) -> float:
        work = sum(share * aht * weight for _, share, aht, weight in CHANNEL_MIX)
        return self.traffic.occupancy * len(self.centre.advisers) / work

    def at(self, when: float, make: Callable[[], RoutingEvent | None]) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, make))

    def play(self, events: int) -> Run:
        """Run until `events` events have been measured (after the warm-up)."""
        for adviser in self.centre.advisers:
            self.at(0.0, lambda a=adviser.id: AdviserReady(a))
        self.at(0.0, self.arrival)
        now = 0.0
        while len(self.run.latencies_ns) < events and self.heap:
            now, _, make = heapq.heappop(self.heap)
            self.now = now
            event = make()
            if event is not None:
                self.send(event, now)
        self.run.sim_time = now
        return self.run

    def send(self, event: RoutingEvent, now: float) -> None:
        self.now = now
        wall = time.perf_counter_ns()
        started = time.thread_time_ns()
        decisions = self.engine.handle(event, now)
        elapsed = time.thread_time_ns() - started
        wall = time.perf_counter_ns() - wall
        run = self.run
        if now >= self.measure_after:
            if run.measured_from < 0:
                run.measured_from = len(run.stream)
            run.latencies_ns.append(elapsed)
            run.wall_ns.append(wall)
            run.decisions += len(decisions)
        run.stream.append((event, now))
        run.events += 1
        for decision in decisions:
            self.apply(decision, now)
        due = self.engine.next_timer_at()
        if due is not None and due < self.tick_at:
            self.tick_at = due
            self.at(due, self.tick)

    def tick(self) -> RoutingEvent | None:
        self.tick_at = math.inf
        return Tick()

    def arrival(self) -> RoutingEvent:
        rng = self.rng
        self.at(self.now + rng.expovariate(self.rate), self.arrival)
        contact_id, self.next_contact = self.next_contact, self.next_contact + 1
        queue_id = rng.choices(self.queue_ids, self.queue_weights)[0]
        channel = self.centre.channel_of[queue_id]
        option = rng.choices([o for o, _ in OPTIONS], [w for _, w in OPTIONS])[0]
        self.arrived[contact_id] = (self.now, queue_id)
        self.state[contact_id] = "waiting"
        if channel is Channel.VOICE and self.traffic.patience is not None:
            patience = rng.expovariate(1 / self.traffic.patience)
            self.at(self.now + patience, lambda: self.hang_up(contact_id))
        return ContactArrived(contact_id, queue_id, channel, option=option)

    def hang_up(self, contact_id: int) -> RoutingEvent | None:
        if self.state.get(contact_id) != "waiting":
            return None
        self.state[contact_id] = "gone"
        self.run.predicted.pop(contact_id, None)
        return ContactAbandoned(contact_id)

    def apply(self, decision: Decision, now: float) -> None:
        if isinstance(decision, AnnounceWait):
            seconds = decision.estimates[0].seconds
            self.run.predicted[decision.contact_id] = math.inf if seconds is None else seconds
        elif isinstance(decision, OfferContact | StartCallback):
            self.offered(decision.contact_id, decision.adviser_id, now)
        elif isinstance(decision, AdviserMissed):
            self.at(now + 30.0, lambda a=decision.adviser_id: AdviserReady(a))

    def offered(self, contact_id: int, adviser_id: int, now: float) -> None:
        self.state[contact_id] = "offered"
        # The wait EWT estimates: until the engine routes the contact (ringing comes after).
        arrived, _ = self.arrived[contact_id]
        self.run.waited.setdefault(contact_id, now - arrived)
        self.run.predicted.setdefault(contact_id, 0.0)
        if self.rng.random() < self.traffic.no_answer:
            return  # rings out: the engine's timer will fire
        ring = self.rng.uniform(*self.traffic.ring)
        self.at(now + ring, lambda: self.accept(contact_id, adviser_id))

    def accept(self, contact_id: int, adviser_id: int) -> RoutingEvent | None:
        if self.engine.contact_adviser(contact_id) != adviser_id:
            return None  # the offer ended meanwhile
        _, queue_id = self.arrived[contact_id]
        self.state[contact_id] = "answered"
        channel = self.centre.channel_of[queue_id]
        mean = dict((c[0], c[2]) for c in CHANNEL_MIX)[channel]
        sigma = self.traffic.aht_sigma
        handling = self.rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
        weight = dict((c[0], c[3]) for c in CHANNEL_MIX)[channel]
        self.run.busy_time += handling * weight
        self.at(self.now + handling, lambda: self.finish(contact_id))
        return OfferAccepted(contact_id, adviser_id)

    def finish(self, contact_id: int) -> RoutingEvent:
        self.state.pop(contact_id, None)
        resolved = self.rng.random() < 0.7
        return ContactFinished(contact_id, resolved, self.rng.randint(2, 5))


# ---------------------------------------------------------------- measures


@dataclass
class Throughput:
    advisers: int
    events_per_s: float  # replayed
    decisions_per_s: float  # replayed
    interleaved_events_per_s: float
    interleaved_decisions_per_s: float
    p50_us: float  # CPU time per event, interleaved
    p99_us: float
    wall_p99_us: float
    mean_us: float  # CPU time per event, replayed


def replay(centre: Centre, run: Run) -> tuple[int, int, float]:
    """Feed the recorded stream to a fresh engine; (events, decisions, CPU s) measured."""
    engine = centre.engine()
    handle = engine.handle
    for event, now in run.stream[: run.measured_from]:
        handle(event, now)
    measured = run.stream[run.measured_from :]
    decisions = 0
    started = time.thread_time_ns()
    for event, now in measured:
        decisions += len(handle(event, now))
    return len(measured), decisions, (time.thread_time_ns() - started) / 1e9


def throughput(advisers: int, events: int, seed: int, warm_up: float) -> Throughput:
    centre = make_centre(seed, advisers)
    # Only events after `warm_up` seconds of simulated time are measured.
    driver = Driver(centre, Traffic(), seed + 1, measure_after=warm_up)
    run = driver.play(events)
    cpu = run.latencies_ns
    interleaved_s = sum(cpu) / 1e9
    quantiles = statistics.quantiles(cpu, n=100)
    wall_p99 = statistics.quantiles(run.wall_ns, n=100)[98]
    replayed, decisions, replay_s = replay(centre, run)
    return Throughput(
        advisers,
        replayed / replay_s,
        decisions / replay_s,
        len(cpu) / interleaved_s,
        run.decisions / interleaved_s,
        quantiles[49] / 1e3,
        quantiles[98] / 1e3,
        wall_p99 / 1e3,
        replay_s / replayed * 1e6,
    )


def peak_memory(advisers: int, waiting: int, seed: int) -> float:
    """MB allocated by the engine holding `advisers` busy advisers and `waiting` contacts."""
    centre = make_centre(seed, advisers)
    rng = random.Random(seed)
    tracemalloc.start()
    engine = centre.engine()
    for adviser in centre.advisers:
        engine.handle(AdviserReady(adviser.id), 0.0)
    contact_id = 0
    while engine.waiting_count() < waiting:
        contact_id += 1
        queue_id = rng.randint(1, len(centre.queues))
        option = rng.choices([o for o, _ in OPTIONS], [w for _, w in OPTIONS])[0]
        channel = centre.channel_of[queue_id]
        engine.handle(ContactArrived(contact_id, queue_id, channel, option=option), 1.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del engine
    return peak / 2**20


@dataclass
class EwtAccuracy:
    contacts: int
    mean_wait: float
    mae: float
    occupancy: float


def ewt_accuracy(events: int, seed: int) -> EwtAccuracy:
    """Announced wait vs wait experienced, on traffic at ~85 % occupancy (no hang-ups)."""
    centre = make_centre(seed, advisers=400, queues=40)
    traffic = Traffic(occupancy=0.85, no_answer=0.0, patience=None)
    driver = Driver(centre, traffic, seed + 1, measure_after=0.0)
    run = driver.play(events)
    # Skip the first hour (empty centre filling up) and contacts still waiting at the end.
    done = [c for c, (t, _) in driver.arrived.items() if t > 3600 and c in run.waited]
    waits = [run.waited[c] for c in done]
    errors = [abs(run.predicted.get(c, 0.0) - run.waited[c]) for c in done]
    occupancy = run.busy_time / (len(centre.advisers) * run.sim_time)
    return EwtAccuracy(len(done), statistics.fmean(waits), statistics.fmean(errors), occupancy)


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "[green]pass[/green]" if ok else "[red]fail[/red]"


def report(small: Throughput, large: Throughput, memory: float, ewt: EwtAccuracy) -> Table:
    table = Table(title="Routing engine benchmark (engine alone, 200 queues, 40 skills)")
    for name in ("measure", "500 advisers", "5,000 advisers", "goal", "result"):
        table.add_column(name, justify="right" if name != "measure" else "left")
    worst_rate = min(small.decisions_per_s, large.decisions_per_s)
    worst_p99 = max(small.p99_us, large.p99_us)
    ratio = large.mean_us / small.mean_us
    rows = [
        (
            "events handled / s (replayed stream, engine CPU time)",
            f"{small.events_per_s:,.0f}",
            f"{large.events_per_s:,.0f}",
            "",
            "",
        ),
        (
            "decisions / s (replayed stream, engine CPU time)",
            f"{small.decisions_per_s:,.0f}",
            f"{large.decisions_per_s:,.0f}",
            "≥ 20,000",
            verdict(worst_rate >= 20_000),
        ),
        (
            "events / s, decisions / s (interleaved with the driver)",
            f"{small.interleaved_events_per_s:,.0f} / {small.interleaved_decisions_per_s:,.0f}",
            f"{large.interleaved_events_per_s:,.0f} / {large.interleaved_decisions_per_s:,.0f}",
            "",
            "",
        ),
        ("p50 latency per event (µs CPU)", f"{small.p50_us:.1f}", f"{large.p50_us:.1f}", "", ""),
        (
            "p99 latency per event (µs CPU)",
            f"{small.p99_us:.1f}",
            f"{large.p99_us:.1f}",
            "< 1,000",
            verdict(worst_p99 < 1000),
        ),
        (
            "p99 latency per event (µs wall)",
            f"{small.wall_p99_us:.1f}",
            f"{large.wall_p99_us:.1f}",
            "",
            "",
        ),
        (
            "cost ratio 5,000 / 500 (mean µs CPU per event, replayed)",
            "",
            f"{ratio:.2f}×",
            "≤ 2×",
            verdict(ratio <= 2),
        ),
        (
            "peak memory, 10,000 waiting (MB)",
            "",
            f"{memory:.1f}",
            "< 200",
            verdict(memory < 200),
        ),
        (
            f"EWT MAE / mean wait (own run: 400 advisers, 40 queues, "
            f"{ewt.contacts:,} contacts, occ. {ewt.occupancy:.0%})",
            f"{ewt.mae:.1f} s / {ewt.mean_wait:.1f} s",
            "",
            "< 20 %",
            f"{ewt.mae / ewt.mean_wait:.0%} " + verdict(ewt.mae < 0.2 * ewt.mean_wait),
        ),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    events = 30_000 if args.quick else 150_000
    warm_up = 600.0  # simulated seconds: past the login storm and the fill-up
    console = Console()
    with console.status("routing 500 advisers…"):
        small = throughput(500, events, args.seed, warm_up)
    with console.status("routing 5,000 advisers…"):
        large = throughput(5000, events, args.seed, warm_up)
    with console.status("memory with 10,000 waiting…"):
        memory = peak_memory(5000, 10_000, args.seed)
    with console.status("EWT accuracy…"):
        ewt = ewt_accuracy(40_000 if args.quick else 200_000, args.seed)
    console.print(report(small, large, memory, ewt))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"{os.cpu_count()} cores, load average {load:.1f} at the end of the run")


if __name__ == "__main__":
    main()
