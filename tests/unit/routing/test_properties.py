"""Invariants over random event sequences (hypothesis).

A small driver plays the role of the live router: it applies the engine's decisions to its
own model of the world, and checks after every event that the engine never offered a
contact to an adviser lacking a skill or the language or sitting at a site not allowed at
that moment, never went beyond an adviser's capacity, never offered one contact to two
advisers at once, and lost no contact. Running the same sequence twice gives the same
decisions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allo.domain.advisers import Adviser
from allo.domain.channels import Channel
from allo.domain.queues import Queue
from allo.routing import (
    AdviserLoggedOut,
    AdviserMissed,
    AdviserNotReady,
    AdviserReady,
    AdviserSelection,
    CallbackRequested,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    ContactPhase,
    Decision,
    Ignored,
    OfferAccepted,
    OfferContact,
    OfferDeclined,
    OfferTimedOut,
    OfferWithdrawn,
    RoutingEngine,
    RoutingEvent,
    RoutingPolicy,
    SiteOption,
    SiteTier,
    StartCallback,
    Tick,
    pool,
)
from allo.routing.policy import CAPACITY_BUDGET, DEFAULT_WEIGHTS

from .factory import FRANCE, FRANCE_ONLY, LILLE, PARIS, SITES, adviser, queue

START = 1_772_442_000.0  # Monday 2 March 2026, 09:00 UTC
FRANCE_SITES = {PARIS, LILLE}
OPTIONS = (SiteOption(), FRANCE, FRANCE_ONLY)
LANGUAGES = ("fr", "en")
QUEUES: list[tuple[Queue, RoutingPolicy]] = [
    (queue(1, {"billing": 2}), RoutingPolicy()),
    (
        queue(2, {"fibre": 1}),
        RoutingPolicy(
            selection=AdviserSelection.MOST_SKILLED,
            tiers=(SiteTier(0, chosen=True), SiteTier(30, groups=frozenset({"maghreb"}))),
        ),
    ),
    (
        queue(3, {"billing": 1}, level=2),
        RoutingPolicy(
            selection=AdviserSelection.LEAST_OCCUPIED,
            channels=frozenset({Channel.CHAT, Channel.EMAIL}),
        ),
    ),
    (queue(4, {"billing": 3, "fibre": 2}), RoutingPolicy(selection=AdviserSelection.BEST_QUALITY)),
]
CHANNELS_OF = {q.id: sorted(p.channels - {Channel.CALLBACK}) for q, p in QUEUES}

adviser_specs = st.lists(
    st.tuples(
        st.integers(1, 4),  # site
        st.integers(1, 5),  # billing
        st.integers(0, 5),  # fibre
        st.integers(1, 5),  # fr
        st.integers(0, 5),  # en
    ),
    min_size=1,
    max_size=6,
)
steps = st.lists(
    st.tuples(st.floats(0, 40, allow_nan=False), st.integers(0, 11), st.integers(0, 10_000)),
    max_size=60,
)


def make_advisers(specs: list[tuple[int, int, int, int, int]]) -> list[Adviser]:
    made = []
    for number, (site_id, billing, fibre, fr, en) in enumerate(specs, start=1):
        skills = {"billing": billing} | ({"fibre": fibre} if fibre else {})
        languages = {"fr": fr} | ({"en": en} if en else {})
        made.append(adviser(number, site_id, skills, languages))
    return made


@dataclass
class Model:
    """What the driver knows: contacts alive, offers pending, work in hand."""

    advisers: dict[int, Adviser]
    site_of: dict[int, int]
    now: float = START
    next_id: int = 1
    contacts: dict[int, tuple[int, str, SiteOption, Channel]] = field(default_factory=dict)
    tier_base: dict[int, float] = field(default_factory=dict)
    offered: dict[int, int] = field(default_factory=dict)
    in_progress: dict[int, int] = field(default_factory=dict)
    booked: dict[int, float] = field(default_factory=dict)


def pick(items: list[int], seed: int) -> int | None:
    return items[seed % len(items)] if items else None


def event_for(model: Model, kind: int, seed: int) -> RoutingEvent:
    adviser_ids = sorted(model.advisers)
    if kind <= 2:
        queue_id = 1 + seed % len(QUEUES)
        channels = CHANNELS_OF[queue_id]
        contact_id, model.next_id = model.next_id, model.next_id + 1
        return ContactArrived(
            contact_id,
            queue_id,
            channels[seed // 7 % len(channels)],
            LANGUAGES[seed // 3 % 2],
            priority=seed // 11 % 3,
            option=OPTIONS[seed // 5 % 3],
        )
    busy = set(model.offered) | set(model.in_progress) | set(model.booked)
    waiting = sorted(set(model.contacts) - busy)
    offered, in_progress = sorted(model.offered), sorted(model.in_progress)
    choices: dict[int, RoutingEvent | None] = {
        3: _maybe(pick(adviser_ids, seed), AdviserReady),
        4: _maybe(pick(adviser_ids, seed), AdviserNotReady),
        5: _maybe(pick(adviser_ids, seed), AdviserLoggedOut),
        6: _offer_event(model, pick(offered, seed), OfferAccepted),
        7: _offer_event(model, pick(offered, seed), OfferDeclined),
        8: _offer_event(model, pick(offered, seed), OfferTimedOut),
        9: _maybe(
            pick(in_progress, seed), lambda c: ContactFinished(c, seed % 2 == 0, seed % 5 + 1)
        ),
        10: _maybe(pick(sorted(model.contacts), seed), ContactAbandoned),
        11: _callback(model, pick(waiting, seed), seed),
    }
    return choices.get(kind) or Tick()


def _maybe(ident: int | None, make: object) -> RoutingEvent | None:
    return None if ident is None else make(ident)  # type: ignore[operator, no-any-return]


def _offer_event(model: Model, contact_id: int | None, make: type) -> RoutingEvent | None:
    if contact_id is None:
        return None
    return make(contact_id, model.offered[contact_id])  # type: ignore[no-any-return]


def _callback(model: Model, contact_id: int | None, seed: int) -> RoutingEvent | None:
    if contact_id is None or model.contacts[contact_id][0] == 3:
        return None
    at = None if seed % 2 else model.now + 10 + seed % 300
    return CallbackRequested(contact_id, at)


def allowed(model: Model, contact_id: int, site_id: int) -> bool:
    queue_id, _, option, _ = model.contacts[contact_id]
    waited = model.now - model.tier_base[contact_id]
    if option.only or (option.group and waited < (30 if queue_id == 2 else 90)):
        return site_id in FRANCE_SITES
    if option.group and queue_id == 2:
        return site_id != 0  # france + maghreb: every site of the test
    return True


def check_offer(model: Model, decision: OfferContact | StartCallback) -> None:
    contact_id, adviser_id = decision.contact_id, decision.adviser_id
    queue_id, language, _, _ = model.contacts[contact_id]
    q = QUEUES[queue_id - 1][0]
    who = model.advisers[adviser_id]
    assert who.has_skills(q.required_skills), "offered to an adviser lacking a skill"
    assert who.speaks(language, q.min_language_level), "offered to an adviser lacking the language"
    assert allowed(model, contact_id, who.site_id), "offered at a site not allowed yet"
    assert contact_id not in model.offered, "one contact offered to two advisers"
    assert contact_id not in model.in_progress
    model.offered[contact_id] = adviser_id


def apply(model: Model, event: RoutingEvent, decisions: list[Decision]) -> None:
    """The event's own effect first, then the engine's decisions, in order."""
    if isinstance(event, ContactArrived):
        language = event.language or "fr"
        model.contacts[event.contact_id] = (event.queue_id, language, event.option, event.channel)
        model.tier_base[event.contact_id] = model.now
    elif isinstance(event, OfferAccepted):
        model.in_progress[event.contact_id] = model.offered.pop(event.contact_id)
    elif isinstance(event, OfferDeclined | OfferTimedOut):
        model.offered.pop(event.contact_id, None)
    elif isinstance(event, ContactFinished | ContactAbandoned):
        for table in (model.contacts, model.offered, model.in_progress, model.booked):
            table.pop(event.contact_id, None)  # type: ignore[attr-defined]
    elif isinstance(event, CallbackRequested):
        queue_id, language, option, _ = model.contacts[event.contact_id]
        model.contacts[event.contact_id] = (queue_id, language, option, Channel.CALLBACK)
        if event.at is not None:
            model.booked[event.contact_id] = event.at
    for decision in decisions:
        assert not isinstance(decision, Ignored), decision
        if isinstance(decision, OfferContact | StartCallback):
            check_offer(model, decision)
        elif isinstance(decision, OfferWithdrawn | AdviserMissed):
            model.offered.pop(decision.contact_id, None)


def due_bookings(model: Model) -> None:
    """Booked callbacks count their tiers from their slot (before the engine fires them)."""
    for contact_id, at in list(model.booked.items()):
        if at <= model.now:
            model.tier_base[contact_id] = at
            del model.booked[contact_id]


def check_state(engine: RoutingEngine, model: Model) -> None:
    for contact_id in model.contacts:
        phase = engine.contact_phase(contact_id)
        assert phase is not None, f"contact {contact_id} lost"
        if contact_id in model.offered:
            assert phase is ContactPhase.OFFERED
            assert engine.contact_adviser(contact_id) == model.offered[contact_id]
        elif contact_id in model.in_progress:
            assert phase is ContactPhase.IN_PROGRESS
        else:
            assert phase in {ContactPhase.WAITING, ContactPhase.BOOKED}
    for adviser_id, who in model.advisers.items():
        work = engine.adviser_work(adviser_id)
        held = [
            model.contacts[c][3]
            for c, a in (model.offered | model.in_progress).items()
            if a == adviser_id
        ]
        live = 0
        for channel in Channel:
            assert work[channel] <= who.capacity.get(channel, 0), "capacity exceeded"
            if channel is not Channel.EMAIL:
                live += work[channel] * DEFAULT_WEIGHTS[channel]
        assert live <= CAPACITY_BUDGET, "load beyond the budget"
        assert sum(work.values()) == len(held)


def run(
    specs: list[tuple[int, int, int, int, int]], plan: list[tuple[float, int, int]]
) -> list[Decision]:
    advisers = make_advisers(specs)
    engine = RoutingEngine(sites=SITES, queues=QUEUES, advisers=advisers, now=START)
    model = Model({a.id: a for a in advisers}, {a.id: a.site_id for a in advisers})
    everything: list[Decision] = []
    for dt, kind, seed in plan:
        model.now += dt
        due_bookings(model)
        # Timers first, so that the event below meets no expired offer (no race to model).
        ticked = engine.handle(Tick(), model.now)
        apply(model, Tick(), ticked)
        event = event_for(model, kind, seed)
        decisions = engine.handle(event, model.now)
        apply(model, event, decisions)
        check_state(engine, model)
        everything.extend(ticked + decisions)
    return everything


@settings(max_examples=150, deadline=None)
@given(adviser_specs, steps)
def test_invariants_hold_over_random_event_sequences(
    specs: list[tuple[int, int, int, int, int]], plan: list[tuple[float, int, int]]
) -> None:
    run(specs, plan)


@settings(max_examples=50, deadline=None)
@given(adviser_specs, steps)
def test_same_input_same_decisions(
    specs: list[tuple[int, int, int, int, int]], plan: list[tuple[float, int, int]]
) -> None:
    assert run(specs, plan) == run(specs, plan)


@contextmanager
def free_heaps(cold_after: int, slack: int) -> Iterator[None]:
    """Run with other thresholds for compacting free heaps and letting them go cold."""
    saved = pool.COLD_AFTER, pool.COMPACT_SLACK
    pool.COLD_AFTER, pool.COMPACT_SLACK = cold_after, slack
    try:
        yield
    finally:
        pool.COLD_AFTER, pool.COMPACT_SLACK = saved


@settings(max_examples=100, deadline=None)
@given(adviser_specs, steps)
def test_cold_heaps_change_no_decision(
    specs: list[tuple[int, int, int, int, int]], plan: list[tuple[float, int, int]]
) -> None:
    # Heaps that go cold at their first compaction (and compact as soon as they can), against
    # heaps that never do: rebuilding a cold heap must give exactly what eager filing gave.
    with free_heaps(cold_after=1, slack=0):
        lazy = run(specs, plan)
    with free_heaps(cold_after=10**9, slack=0):
        eager = run(specs, plan)
    assert lazy == eager


def busy_day(seed: int) -> list[Decision]:
    """A long random run on a small centre: contacts arrive, are accepted and finished, some
    ask for a callback, advisers take breaks. Offers are always answered in time."""
    rng = random.Random(seed)
    specs = [
        (rng.randint(1, 4), rng.randint(1, 5), rng.randint(0, 5), rng.randint(3, 5), 0)
        for _ in range(10)
    ]
    advisers = make_advisers(specs)
    engine = RoutingEngine(sites=SITES, queues=QUEUES, advisers=advisers, now=START)
    now, everything = START, []
    offered: dict[int, int] = {}
    serving: list[int] = []
    waiting: set[int] = set()
    for adviser_id in range(1, 11):
        everything += engine.handle(AdviserReady(adviser_id), now)
    for contact_id in range(1, 1500):
        now += rng.uniform(0, 8)
        queue_id = rng.randint(1, 4)
        channel = rng.choice(CHANNELS_OF[queue_id])
        option = rng.choice(OPTIONS)
        events: list[RoutingEvent] = [ContactArrived(contact_id, queue_id, channel, option=option)]
        waiting.add(contact_id)
        if offered and rng.random() < 0.9:
            taken = rng.choice(sorted(offered))
            events.append(OfferAccepted(taken, offered.pop(taken)))
            serving.append(taken)
        if serving and rng.random() < 0.8:
            events.append(ContactFinished(serving.pop(rng.randrange(len(serving))), True, 4))
        if waiting and rng.random() < 0.1:
            events.append(CallbackRequested(rng.choice(sorted(waiting))))
        if rng.random() < 0.05:
            events.append(rng.choice((AdviserNotReady, AdviserReady))(rng.randint(1, 10)))
        for event in events:
            decisions = engine.handle(event, now)
            for decision in decisions:
                if isinstance(decision, OfferContact | StartCallback):
                    offered[decision.contact_id] = decision.adviser_id
                    waiting.discard(decision.contact_id)
            everything += decisions
    return everything


@pytest.mark.parametrize("seed", range(3))
def test_cold_heaps_change_no_decision_over_long_runs(seed: int) -> None:
    # Hypothesis keeps runs short; here heaps go cold and warm again many times.
    with free_heaps(cold_after=1, slack=0):
        lazy = busy_day(seed)
    with free_heaps(cold_after=10**9, slack=0):
        eager = busy_day(seed)
    assert lazy == eager
