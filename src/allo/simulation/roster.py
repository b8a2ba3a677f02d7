"""Adviser rosters: who is on the phones when, from shifts or from the planning module.

Shifts lose their breaks (spread over each break window) and whatever the site calendar of
`allo.planning.calendars` closes or pauses: public holidays, hours outside the reduced
Ramadan hours, Friday prayer. "Let planning staff it" sizes each interval with Erlang A
(`allo.planning.staffing.net_requirement`) and splits the requirement across the sites by
their `auto_share`, moving the share of a closed site to the open ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np

from allo.domain.advisers import Adviser
from allo.planning.calendars import Timeline, site_availability
from allo.planning.staffing import QueueTarget, net_requirement
from allo.simulation.model import QueueModel, Scenario, Shift, SiteModel

SLOT = 900.0  # the calendar grid: 15 minutes
Period = tuple[float, float]


@dataclass(frozen=True, slots=True)
class RosterEntry:
    adviser: Adviser
    site_index: int
    # On the phones (ready) during these periods, in increasing order.
    periods: tuple[Period, ...]
    paid_seconds: float


def origin(scenario: Scenario) -> datetime:
    """The instant the simulation clock reads 0: midnight of the day in the scenario's zone."""
    return datetime.combine(scenario.day, time(0), tzinfo=ZoneInfo(scenario.timezone))


def blocked_periods(model: SiteModel, start: datetime, horizon: float) -> list[Period]:
    """Periods the site's calendar keeps advisers off the phones (closed or paused)."""
    if model.calendar is None:
        return []
    count = math.ceil(horizon / SLOT) + 1
    open_, paused = site_availability(model.calendar, Timeline(start, count, int(SLOT // 60)))
    blocked = ~open_ | paused
    periods: list[Period] = []
    for k in np.flatnonzero(blocked):
        begin = float(k) * SLOT
        if periods and periods[-1][1] == begin:
            periods[-1] = (periods[-1][0], begin + SLOT)
        else:
            periods.append((begin, begin + SLOT))
    return periods


def subtract(periods: Sequence[Period], holes: Sequence[Period]) -> list[Period]:
    """The parts of sorted, disjoint `periods` outside every hole."""
    result: list[Period] = []
    for begin, end in periods:
        cursor = begin
        for hole_begin, hole_end in holes:
            if hole_end <= cursor or hole_begin >= end:
                continue
            if hole_begin > cursor:
                result.append((cursor, hole_begin))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def overlap(periods: Sequence[Period], begin: float, end: float) -> float:
    return sum(max(0.0, min(e, end) - max(b, begin)) for b, e in periods)


def shift_periods(shift: Shift, rank: int) -> tuple[list[Period], float]:
    """Working periods and unpaid break seconds of the `rank`-th adviser of the shift."""
    holes: list[Period] = []
    unpaid = 0.0
    for rule in shift.breaks:
        spread = (rule.latest - rule.earliest) * (rank / shift.advisers if shift.advisers else 0)
        begin = rule.earliest + round(spread / 60) * 60
        holes.append((begin, begin + rule.minutes * 60))
        unpaid += 0.0 if rule.paid else rule.minutes * 60
    return subtract([(shift.start, shift.end)], sorted(holes)), unpaid


class _Ids:
    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        self.next += 1
        return self.next


def build_roster(scenario: Scenario) -> list[RosterEntry]:
    start = origin(scenario)
    horizon = scenario.arrivals_end + scenario.drain
    latest_shift = max(
        (s.end for m in scenario.sites for t in m.teams for s in t.shifts), default=0.0
    )
    horizon = max(horizon, latest_shift)
    blocked = [blocked_periods(model, start, horizon) for model in scenario.sites]
    ids = _Ids()
    roster: list[RosterEntry] = []
    for index, model in enumerate(scenario.sites):
        roster += _shift_roster(model, index, blocked[index], ids)
    roster += _auto_roster(scenario, blocked, ids)
    return roster


def _shift_roster(
    model: SiteModel, index: int, blocked: list[Period], ids: _Ids
) -> list[RosterEntry]:
    entries: list[RosterEntry] = []
    site = model.site
    for team in model.teams:
        for shift in team.shifts:
            for rank in range(shift.advisers):
                ident = ids.take()
                working, unpaid = shift_periods(shift, rank)
                periods = subtract(working, blocked)
                worked = (shift.end - shift.start) - overlap(blocked, shift.start, shift.end)
                paid = max(0.0, worked - unpaid) / (1 - model.shrinkage)
                adviser = Adviser(
                    ident, site.tenant_id, site.id, f"{site.name} {ident}",
                    dict(team.skills), dict(team.languages),
                )  # fmt: skip
                entries.append(RosterEntry(adviser, index, tuple(periods), paid))
    return entries


def requirement(queue: QueueModel, sites: Sequence[SiteModel] = ()) -> np.ndarray:
    """Advisers on the phones the planning module asks for, per demand interval.

    The handling time is the queue's, times the sites' own factors (site and language
    level) weighted by their shares: what a planner would forecast for that split.
    """
    assert queue.auto_staffing is not None
    shares = [(m.auto_share, m.aht_factor * m.quality.language_aht.get(m.language_level, 1.0))
              for m in sites if m.auto_share > 0]  # fmt: skip
    total = sum(share for share, _ in shares)
    factor = sum(share * f for share, f in shares) / total if total else 1.0
    minutes = int(queue.demand.interval // 60)
    patience = None if queue.patience is None else queue.patience.expected
    target = QueueTarget(queue.auto_staffing.target, patience)
    volumes = np.asarray(queue.demand.volumes, dtype=np.float64)
    aht = queue.handling.expected * factor
    return np.asarray(net_requirement(volumes, aht, minutes, target))


def _auto_roster(scenario: Scenario, blocked: list[list[Period]], ids: _Ids) -> list[RosterEntry]:
    entries: list[RosterEntry] = []
    for queue in scenario.queues:
        if queue.auto_staffing is None:
            continue
        need = requirement(queue, scenario.sites)
        demand = queue.demand
        counts = _split(scenario.sites, blocked, need, demand.start, demand.interval)
        for index, model in enumerate(scenario.sites):
            entries += _auto_site(model, index, queue, counts[index], ids)
    return entries


def _split(
    sites: Sequence[SiteModel],
    blocked: list[list[Period]],
    need: np.ndarray,
    start: float,
    interval: float,
) -> list[list[int]]:
    counts: list[list[int]] = [[] for _ in sites]
    for k, advisers in enumerate(need):
        begin = start + k * interval
        shares = [
            model.auto_share if overlap(blocked[i], begin, begin + interval) == 0 else 0.0
            for i, model in enumerate(sites)
        ]
        # A closed site's share goes to the open ones; shares may add up to more than 1.
        total, planned = sum(shares), sum(model.auto_share for model in sites)
        for i, share in enumerate(shares):
            scaled = advisers * share * planned / total if total > 0 else 0.0
            counts[i].append(math.ceil(scaled - 1e-9))
    return counts


def _auto_site(
    model: SiteModel, index: int, queue: QueueModel, counts: list[int], ids: _Ids
) -> list[RosterEntry]:
    entries: list[RosterEntry] = []
    demand, site = queue.demand, model.site
    languages = {queue.queue.language: model.language_level}
    for rank in range(max(counts, default=0)):
        periods: list[Period] = []
        for k, count in enumerate(counts):
            if rank >= count:
                continue
            begin = demand.start + k * demand.interval
            if periods and periods[-1][1] == begin:
                periods[-1] = (periods[-1][0], begin + demand.interval)
            else:
                periods.append((begin, begin + demand.interval))
        ident = ids.take()
        adviser = Adviser(
            ident, site.tenant_id, site.id, f"{site.name} {queue.queue.name} {ident}",
            dict(queue.queue.required_skills), languages,
        )  # fmt: skip
        worked = sum(end - begin for begin, end in periods)
        entries.append(RosterEntry(adviser, index, tuple(periods), worked / (1 - model.shrinkage)))
    return entries
