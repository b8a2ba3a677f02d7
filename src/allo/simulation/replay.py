"""Replay a recorded day through another routing policy, and compare with what happened.

The recorded contacts keep their arrival time, queue, site choice and handling time; a
customer who hung up keeps their patience (the wait they gave up after); one who was
answered is assumed to have waited as long as needed (their patience is censored, so the
replay is optimistic about waits longer than recorded). Advisers are present from their
first answer to their last end of the day, a proxy when state changes are not replayed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allo.domain.advisers import Adviser
from allo.domain.queues import Queue
from allo.domain.sites import Site
from allo.routing.policy import RoutingPolicy, SiteOption, SiteTier
from allo.simulation.model import (
    Demand,
    Distribution,
    Law,
    QualityModel,
    QueueModel,
    Scenario,
    Shift,
    SiteModel,
    Team,
    TracedContact,
)
from allo.simulation.results import ReplicationResult
from allo.simulation.twin import run_replication


@dataclass(frozen=True, slots=True)
class RecordedContact:
    queue_id: int
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    adviser_id: int | None
    option: SiteOption


@dataclass(frozen=True, slots=True)
class Measures:
    contacts: int
    answered: int
    abandoned: int
    service_level: float
    asa: float
    abandon_rate: float


@dataclass(frozen=True, slots=True)
class ReplayReport:
    day: date
    recorded: Measures
    replayed_current: Measures
    replayed_new: Measures
    overflow_after: float


def with_overflow(policy: RoutingPolicy, after: float) -> RoutingPolicy:
    """The policy with its first tier kept and every site allowed after `after` seconds."""
    if after <= 0:
        return replace(policy, tiers=(SiteTier(0.0),))
    return replace(policy, tiers=(policy.tiers[0], SiteTier(after)))


def recorded_measures(
    contacts: Sequence[RecordedContact], targets: Mapping[int, float]
) -> Measures:
    answered = [c for c in contacts if c.answered_at is not None]
    abandoned = len(contacts) - len(answered)
    waits = [(c.answered_at - c.created_at).total_seconds() for c in answered if c.answered_at]
    within = sum(w <= targets.get(c.queue_id, 20.0) for w, c in zip(waits, answered, strict=True))
    ended = len(contacts)
    return Measures(
        contacts=len(contacts),
        answered=len(answered),
        abandoned=abandoned,
        service_level=within / ended if ended else 1.0,
        asa=sum(waits) / len(waits) if waits else 0.0,
        abandon_rate=abandoned / ended if ended else 0.0,
    )


def simulated_measures(result: ReplicationResult) -> Measures:
    metrics = result.metrics(["_"] * len(result.sites))
    return Measures(
        contacts=result.arrivals,
        answered=result.answered,
        abandoned=result.abandoned,
        service_level=metrics["service_level"],
        asa=metrics["asa"],
        abandon_rate=metrics["abandon_rate"],
    )


def _seconds(moment: datetime, origin: datetime) -> float:
    return (moment - origin).total_seconds()


def build_replay(
    day: date,
    timezone: str,
    sites: Sequence[Site],
    queues: Sequence[tuple[Queue, RoutingPolicy]],
    advisers: Sequence[Adviser],
    contacts: Sequence[RecordedContact],
) -> Scenario:
    origin = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    queue_index = {queue.id: i for i, (queue, _) in enumerate(queues)}
    trace = sorted(
        (_traced(c, origin, queue_index[c.queue_id]) for c in contacts),
        key=lambda t: t.at,
    )
    no_repeat = QualityModel(repeat_probability=0.0)
    site_models = [
        SiteModel(site, tuple(_teams(site, advisers, contacts, origin)), quality=no_repeat)
        for site in sites
    ]
    placeholder = Distribution(Law.FIXED, 180.0)
    queue_models = tuple(
        QueueModel(queue, policy, Demand(()), placeholder) for queue, policy in queues
    )
    return Scenario(
        name=f"replay {day}", day=day, timezone=timezone, sites=tuple(site_models),
        queues=queue_models, trace=tuple(trace), drain=6 * 3600.0,
    )  # fmt: skip


def _traced(contact: RecordedContact, origin: datetime, queue: int) -> TracedContact:
    at = _seconds(contact.created_at, origin)
    if contact.answered_at is not None:
        end = contact.ended_at or contact.answered_at
        handling = max(1.0, (end - contact.answered_at).total_seconds())
        return TracedContact(at, queue, contact.option, handling, math.inf)
    gave_up = contact.ended_at or contact.created_at
    patience = max(0.0, (gave_up - contact.created_at).total_seconds())
    return TracedContact(at, queue, contact.option, 180.0, patience)


def _teams(
    site: Site,
    advisers: Sequence[Adviser],
    contacts: Sequence[RecordedContact],
    origin: datetime,
) -> list[Team]:
    teams = []
    for adviser in advisers:
        if adviser.site_id != site.id:
            continue
        mine = [c for c in contacts if c.adviser_id == adviser.id and c.answered_at]
        if not mine:
            continue
        start = min(_seconds(c.answered_at, origin) for c in mine if c.answered_at)
        end = max(_seconds(c.ended_at or c.answered_at, origin) for c in mine if c.answered_at)
        shift = Shift(start, max(end, start + 1.0), 1)
        teams.append(Team(dict(adviser.skills), dict(adviser.languages), (shift,)))
    return teams


def replay_day(
    day: date,
    timezone: str,
    sites: Sequence[Site],
    queues: Sequence[tuple[Queue, RoutingPolicy]],
    advisers: Sequence[Adviser],
    contacts: Sequence[RecordedContact],
    overflow_after: float,
    seed: int = 1,
) -> ReplayReport:
    """What happened, the replay under the queues' own policies, and under the new one."""
    targets = {queue.id: float(queue.sl_target.seconds) for queue, _ in queues}
    current = build_replay(day, timezone, sites, queues, advisers, contacts)
    changed = [(queue, with_overflow(policy, overflow_after)) for queue, policy in queues]
    new = build_replay(day, timezone, sites, changed, advisers, contacts)
    return ReplayReport(
        day=day,
        recorded=recorded_measures(contacts, targets),
        replayed_current=simulated_measures(run_replication(current, seed)),
        replayed_new=simulated_measures(run_replication(new, seed)),
        overflow_after=overflow_after,
    )


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
