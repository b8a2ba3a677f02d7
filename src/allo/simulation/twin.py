"""The contact-center twin: a scenario played on the event kernel, routed by `RoutingEngine`.

Every routing decision (which adviser, when a tier opens, callbacks keeping their place)
is the engine's, with each queue's real `RoutingPolicy`; the twin only plays the world
around it: customers arrive, wait, hang up or take a callback, advisers log in, break and
log out by their roster, handle for a random time, resolve or not, and sites go dark.

Abandonment is a deadline on the waiting contact: an entry is pushed only for a contact
that has to wait (most are answered at once at a sensible staffing), and it is dropped as
stale if the contact was answered first. The engine owns the line, so it must hear of the
hang-up at its time (it changes waits announced and tier timers of the others).
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable, Sequence

import numpy as np

from allo.domain.channels import Channel
from allo.gc_policy import collecting_rarely
from allo.routing import (
    AdviserLoggedOut,
    AdviserMissed,
    AdviserNotReady,
    AdviserReady,
    AnnounceWait,
    CallbackRequested,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    Decision,
    OfferAccepted,
    OfferContact,
    OfferWithdrawn,
    Overflowed,
    RoutingEngine,
    StartCallback,
    Tick,
)
from allo.routing.policy import SiteOption
from allo.simulation.kernel import EventHeap
from allo.simulation.model import OutagePolicy, QueueModel, Sampler, Scenario
from allo.simulation.results import ReplicationResult, SiteTotals
from allo.simulation.roster import RosterEntry, build_roster, overlap

# Kinds of kernel entries.
ARRIVAL, ARRIVE, ACCEPT, FINISH, ABANDON, ADVISER, OUTAGE_ON, OUTAGE_OFF, TICK = range(9)
# Adviser actions from the roster.
READY, BREAK, LOGOUT = range(3)
# Contact states.
WAITING, CALLBACK, OFFERED, SERVING, DONE, ABANDONED, DROPPED = range(7)


def arrivals(scenario: Scenario, generator: np.random.Generator) -> tuple[list[float], list[int]]:
    """First contacts of the day: NHPP per queue and interval, merged in time order (or the
    recorded ones of a replay, in their order)."""
    if scenario.trace:
        return [c.at for c in scenario.trace], [c.queue for c in scenario.trace]
    times: list[np.ndarray] = []
    queues: list[np.ndarray] = []
    for index, model in enumerate(scenario.queues):
        demand = model.demand
        counts = generator.poisson(np.asarray(demand.volumes, dtype=np.float64))
        starts = demand.start + demand.interval * np.repeat(np.arange(counts.size), counts)
        times.append(starts + demand.interval * generator.random(int(counts.sum())))
        queues.append(np.full(int(counts.sum()), index, dtype=np.int64))
    if not times:
        return [], []
    all_times, all_queues = np.concatenate(times), np.concatenate(queues)
    order = np.argsort(all_times, kind="stable")
    return all_times[order].tolist(), all_queues[order].tolist()


def _choose_option(model: QueueModel, draw: float) -> SiteOption:
    cumulative = 0.0
    for option, share in model.options:
        cumulative += share
        if draw < cumulative:
            return option
    return model.options[-1][0]


class Twin:
    """One replication. `run()` returns its books and measures."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.rng_patience = random.Random(f"{seed}:patience")
        self.rng_handling = random.Random(f"{seed}:handling")
        self.rng_quality = random.Random(f"{seed}:quality")
        self.rng_choice = random.Random(f"{seed}:choice")
        self.generator = np.random.default_rng([seed, 7])
        self.roster = build_roster(scenario)
        self.heap = EventHeap()
        self.engine = RoutingEngine(
            sites=[model.site for model in scenario.sites],
            queues=[(model.queue, model.policy) for model in scenario.queues],
            advisers=[entry.adviser for entry in self.roster],
        )
        self.adviser_site = {entry.adviser.id: entry.site_index for entry in self.roster}
        self.adviser_languages = {
            entry.adviser.id: entry.adviser.languages for entry in self.roster
        }
        self.site_advisers: list[list[int]] = [[] for _ in scenario.sites]
        for entry in self.roster:
            self.site_advisers[entry.site_index].append(entry.adviser.id)
        self.on_shift: dict[int, bool] = dict.fromkeys(self.adviser_site, False)
        self.dark = [False] * len(scenario.sites)
        self.serving: list[dict[int, None]] = [{} for _ in scenario.sites]
        self._handling: dict[tuple[int, int], Sampler] = {}
        self._patience = [
            None if q.patience is None else q.patience.sampler(self.rng_patience)
            for q in scenario.queues
        ]
        self.sites = [SiteTotals() for _ in scenario.sites]
        self._ratings = [
            list(itertools.accumulate(m.quality.satisfaction))[:-1] for m in scenario.sites
        ]
        self.queue_sl = [q.queue.sl_target.seconds for q in scenario.queues]
        # Per contact (index = contact id).
        self.c_queue: list[int] = []
        self.c_option: list[SiteOption] = []
        self.c_arrived: list[float] = []
        self.c_deadline: list[float] = []
        self.c_answered: list[float] = []
        self.c_start: list[float] = []
        self.c_site: list[int] = []
        self.c_state: list[int] = []
        self.c_token: list[int] = []
        self.c_callback: list[bool] = []
        self.c_repeat: list[bool] = []
        self.c_handling: list[float] = []  # recorded handling time (replays), else -1
        self.resolved = 0
        self.satisfaction_sum = 0
        self.rated = 0
        self.repeats = 0
        self.overflows = 0
        self.requeued = 0
        self.missed = 0
        self.tick_at = math.inf
        self.end = scenario.arrivals_end + scenario.drain

    # ------------------------------------------------------------------ set-up

    def _new_contact(self, queue: int, at: float, option: SiteOption, repeat: bool) -> int:
        cid = len(self.c_queue)
        self.c_queue.append(queue)
        self.c_option.append(option)
        self.c_arrived.append(at)
        patience = self._patience[queue]
        self.c_deadline.append(at + patience() if patience is not None else math.inf)
        self.c_answered.append(-1.0)
        self.c_start.append(0.0)
        self.c_site.append(-1)
        self.c_state.append(WAITING)
        self.c_token.append(0)
        self.c_callback.append(False)
        self.c_repeat.append(repeat)
        self.c_handling.append(-1.0)
        return cid

    def _schedule_roster(self) -> None:
        push = self.heap.push
        for entry in self.roster:
            ident = entry.adviser.id
            for number, (begin, end) in enumerate(entry.periods):
                last = number == len(entry.periods) - 1
                push(begin, ADVISER, ident, READY)
                push(end, ADVISER, ident, LOGOUT if last else BREAK)
        for number, outage in enumerate(self.scenario.outages):
            push(outage.start, OUTAGE_ON, number)
            push(outage.end, OUTAGE_OFF, number)

    def handling_sampler(self, queue: int, adviser_id: int) -> Sampler:
        site = self.adviser_site[adviser_id]
        key = (queue, adviser_id)
        sampler = self._handling.get(key)
        if sampler is None:
            qmodel, smodel = self.scenario.queues[queue], self.scenario.sites[site]
            law = qmodel.handling_by_site.get(smodel.site.name, qmodel.handling)
            level = self.adviser_languages[adviser_id].get(qmodel.queue.language, 5)
            scale = smodel.aht_factor * smodel.quality.language_aht.get(level, 1.0)
            sampler = self._handling[key] = law.sampler(self.rng_handling, scale)
        return sampler

    # ------------------------------------------------------------------ the run

    def run(self) -> ReplicationResult:
        times, queues = arrivals(self.scenario, self.generator)
        self._first = (times, queues)
        self._schedule_roster()
        if times:
            self.heap.push(times[0], ARRIVAL, 0)
        handlers: Sequence[Callable[[float, int, int], None]] = (
            self._on_arrival_stream, self._on_arrive, self._on_accept, self._on_finish,
            self._on_abandon, self._on_adviser, self._on_outage_on, self._on_outage_off,
            self._on_tick,
        )  # fmt: skip
        entries, end, pop = self.heap.entries, self.end, self.heap.pop
        engine = self.engine
        while entries and entries[0][0] <= end:
            now, _, kind, a, b = pop()
            handlers[kind](now, a, b)
            due = engine.next_timer_at()
            if due is not None and due < self.tick_at:
                self.tick_at = due
                self.heap.push(due, TICK)
        return self._result()

    def _on_arrival_stream(self, now: float, index: int, _: int) -> None:
        times, queues = self._first
        if index + 1 < len(times):
            self.heap.push(times[index + 1], ARRIVAL, index + 1)
        queue = queues[index]
        if self.scenario.trace:
            traced = self.scenario.trace[index]
            cid = self._new_contact(queue, now, traced.option, False)
            self.c_deadline[cid] = now + traced.patience
            self.c_handling[cid] = traced.handling
        else:
            option = _choose_option(self.scenario.queues[queue], self.rng_choice.random())
            cid = self._new_contact(queue, now, option, False)
        self._arrive(cid, now)

    def _on_arrive(self, now: float, cid: int, _: int) -> None:
        self._arrive(cid, now)

    def _arrive(self, cid: int, now: float, arrived_at: float | None = None) -> None:
        model = self.scenario.queues[self.c_queue[cid]]
        event = ContactArrived(
            cid, model.queue.id, Channel.VOICE, option=self.c_option[cid], arrived_at=arrived_at
        )
        self._apply(self.engine.handle(event, now), now)

    def _on_tick(self, now: float, _: int, __: int) -> None:
        if now != self.tick_at:
            return
        self.tick_at = math.inf
        self._apply(self.engine.handle(Tick(), now), now)

    def _apply(self, decisions: list[Decision], now: float) -> None:
        for decision in decisions:
            kind = type(decision)
            if kind is OfferContact or kind is StartCallback:
                self._offered(decision.contact_id, decision.adviser_id, now)  # type: ignore[union-attr]
            elif kind is AnnounceWait:
                self._waits(decision.contact_id, decision, now)  # type: ignore[union-attr, arg-type]
            elif kind is Overflowed:
                self.overflows += 1
            elif kind is OfferWithdrawn:
                self._withdrawn(decision, now)  # type: ignore[arg-type]
            elif kind is AdviserMissed:
                self.missed += 1

    # ------------------------------------------------------------------ customers

    def _waits(self, cid: int, decision: AnnounceWait, now: float) -> None:
        model = self.scenario.queues[self.c_queue[cid]]
        offer = model.callback
        if offer is not None:
            wait = decision.estimates[0].seconds if decision.estimates else None
            if (wait is None or wait >= offer.after) and self.rng_choice.random() < offer.accept:
                self.c_state[cid] = CALLBACK
                self.c_callback[cid] = True
                self._apply(self.engine.handle(CallbackRequested(cid), now), now)
                return
        self.c_state[cid] = WAITING
        deadline = self.c_deadline[cid]
        if deadline < math.inf:
            self.heap.push(max(deadline, now), ABANDON, cid, self.c_token[cid])

    def _withdrawn(self, decision: OfferWithdrawn, now: float) -> None:
        cid = decision.contact_id
        if decision.reason == "abandoned" or self.c_state[cid] != OFFERED:
            return
        # Back in line (the adviser logged out while it rang): patience runs again.
        self.c_state[cid] = CALLBACK if self.c_callback[cid] else WAITING
        if not self.c_callback[cid] and self.c_deadline[cid] < math.inf:
            self.heap.push(max(self.c_deadline[cid], now), ABANDON, cid, self.c_token[cid])

    def _on_abandon(self, now: float, cid: int, token: int) -> None:
        state = self.c_state[cid]
        if token != self.c_token[cid] or (state != WAITING and state != OFFERED):
            return
        self.c_state[cid] = ABANDONED
        self._apply(self.engine.handle(ContactAbandoned(cid), now), now)

    # ------------------------------------------------------------------ service

    def _offered(self, cid: int, adviser_id: int, now: float) -> None:
        self.c_state[cid] = OFFERED
        delay = self.scenario.answer_delay
        if delay > 0:
            self.heap.push(now + delay, ACCEPT, cid, adviser_id)
        else:
            self._accept(cid, adviser_id, now)

    def _on_accept(self, now: float, cid: int, adviser_id: int) -> None:
        if self.c_state[cid] == OFFERED and self.engine.contact_adviser(cid) == adviser_id:
            self._accept(cid, adviser_id, now)

    def _accept(self, cid: int, adviser_id: int, now: float) -> None:
        self.c_state[cid] = SERVING
        if self.c_answered[cid] < 0:
            self.c_answered[cid] = now
        site = self.adviser_site[adviser_id]
        self.c_site[cid] = site
        self.c_start[cid] = now
        self.serving[site][cid] = None
        self._apply(self.engine.handle(OfferAccepted(cid, adviser_id), now), now)
        duration = self.c_handling[cid]
        if duration < 0:
            duration = self.handling_sampler(self.c_queue[cid], adviser_id)()
        self.heap.push(now + duration, FINISH, cid, self.c_token[cid])

    def _end_service(self, cid: int, now: float) -> int:
        site = self.c_site[cid]
        del self.serving[site][cid]
        self.sites[site].busy += now - self.c_start[cid]
        return site

    def _on_finish(self, now: float, cid: int, token: int) -> None:
        if token != self.c_token[cid] or self.c_state[cid] != SERVING:
            return
        site = self._end_service(cid, now)
        quality = self.scenario.sites[site].quality
        rng = self.rng_quality
        resolved = rng.random() < quality.fcr
        rating = 1 + bisect.bisect_right(self._ratings[site], rng.random())
        if self.c_answered[cid] - self.c_arrived[cid] > quality.long_wait:
            rating = max(1, rating - quality.long_wait_penalty)
        totals = self.sites[site]
        totals.handled += 1
        totals.resolved += resolved
        totals.satisfaction += rating
        self.c_state[cid] = DONE
        self._apply(self.engine.handle(ContactFinished(cid, resolved, rating), now), now)
        if not resolved and rng.random() < quality.repeat_probability:
            self._repeat(cid, now + rng.expovariate(1.0 / quality.repeat_delay))

    def _repeat(self, cid: int, at: float) -> None:
        self.repeats += 1
        if at < self.scenario.arrivals_end:
            queue = self.c_queue[cid]
            self.heap.push(at, ARRIVE, self._new_contact(queue, at, self.c_option[cid], True))

    # ------------------------------------------------------------------ advisers and sites

    def _on_adviser(self, now: float, ident: int, action: int) -> None:
        self.on_shift[ident] = action == READY
        if self.dark[self.adviser_site[ident]]:
            return
        if action == READY:
            event: AdviserReady | AdviserNotReady | AdviserLoggedOut = AdviserReady(ident)
        elif action == BREAK:
            event = AdviserNotReady(ident, "break")
        else:
            event = AdviserLoggedOut(ident)
        self._apply(self.engine.handle(event, now), now)

    def _on_outage_on(self, now: float, number: int, _: int) -> None:
        outage = self.scenario.outages[number]
        site = self.scenario.site_index(outage.site)
        self.dark[site] = True
        for ident in self.site_advisers[site]:
            self._apply(self.engine.handle(AdviserLoggedOut(ident), now), now)
        for cid in list(self.serving[site]):
            self._end_service(cid, now)
            self.c_token[cid] += 1
            self._apply(self.engine.handle(ContactAbandoned(cid), now), now)
            if outage.in_progress is OutagePolicy.DROP:
                self.c_state[cid] = DROPPED
                continue
            self.requeued += 1
            self.c_state[cid] = WAITING
            patience = self._patience[self.c_queue[cid]]
            self.c_deadline[cid] = now + patience() if patience is not None else math.inf
            self._arrive(cid, now, arrived_at=self.c_arrived[cid])

    def _on_outage_off(self, now: float, number: int, _: int) -> None:
        site = self.scenario.site_index(self.scenario.outages[number].site)
        self.dark[site] = False
        for ident in self.site_advisers[site]:
            if self.on_shift[ident]:
                self._apply(self.engine.handle(AdviserReady(ident), now), now)

    # ------------------------------------------------------------------ results

    def _result(self) -> ReplicationResult:
        scenario = self.scenario
        for entry in self.roster:
            self._add_staff(entry)
        result = ReplicationResult(
            sites=self.sites, overflows=self.overflows, requeued=self.requeued,
            repeats=self.repeats, missed=self.missed,
        )  # fmt: skip
        for cid, state in enumerate(self.c_state):
            queue = self.c_queue[cid]
            answered = self.c_answered[cid]
            result.count(
                state_name(state), self.c_callback[cid], self.c_repeat[cid],
                answered - self.c_arrived[cid] if answered >= 0 else None,
                self._abandon_wait(cid, state), self.queue_sl[queue],
            )  # fmt: skip
        for index, model in enumerate(scenario.sites):
            self.sites[index].hourly_cost = model.site.hourly_cost
        return result

    def _abandon_wait(self, cid: int, state: int) -> float:
        if state == ABANDONED:
            return self.c_deadline[cid] - self.c_arrived[cid]
        if state in (WAITING, OFFERED):
            return self.end - self.c_arrived[cid]
        return 0.0

    def _add_staff(self, entry: RosterEntry) -> None:
        totals = self.sites[entry.site_index]
        name = self.scenario.sites[entry.site_index].site.name
        dark = [(o.start, o.end) for o in self.scenario.outages if o.site == name]
        for begin, end in entry.periods:
            end = min(end, self.end)
            if end > begin:
                totals.available += (end - begin) - sum(
                    overlap([(begin, end)], b, e) for b, e in dark
                )
        totals.paid += entry.paid_seconds


STATE_NAMES = ("waiting", "callback", "offered", "serving", "done", "abandoned", "dropped")


def state_name(state: int) -> str:
    return STATE_NAMES[state]


def run_replication(scenario: Scenario, seed: int) -> ReplicationResult:
    # The cyclic collector's passes were about 5 % of a replication (allo.gc_policy).
    with collecting_rarely():
        return Twin(scenario, seed).run()
