"""One call from history to forecast, staffing and shifts: what `allo plan` and the API use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import numpy.typing as npt

from allo.domain.errors import InvalidValue
from allo.planning.calendars import Timeline, zone
from allo.planning.forecast import Forecast, forecast
from allo.planning.history import SlotHistory
from allo.planning.shifts import (
    LanguagePolicy,
    PlanSite,
    Schedule,
    SchedulingProblem,
    ShiftTemplate,
    schedule,
)
from allo.planning.staffing import QueueTarget, net_requirement

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class QueuePlan:
    """A queue to plan: its history, clock, sizing rule and holidays."""

    name: str
    history: SlotHistory
    timezone: str
    target: QueueTarget = field(default_factory=QueueTarget)
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class PlanResult:
    timeline: Timeline
    forecasts: dict[str, Forecast]
    requirements: dict[str, FloatArray]  # queue → net advisers per timeline interval
    volumes: dict[str, FloatArray]  # queue → forecast contacts per timeline interval
    schedule: Schedule | None


def _on_timeline(
    values: FloatArray, first_day: date, slot_minutes: int, timeline: Timeline, tz: str
) -> FloatArray:
    """Map a day × slot grid in a queue's local time onto the plan's UTC timeline."""
    where = zone(tz)
    out = np.zeros(timeline.count)
    for i in range(timeline.count):
        local = timeline.instant(i).astimezone(where)
        day = (local.date() - first_day).days
        if 0 <= day < values.shape[0]:
            out[i] = values[day, (local.hour * 60 + local.minute) // slot_minutes]
    return out


def plan_timeline(first_day: date, days: int, slot_minutes: int, tz: str) -> Timeline:
    start = datetime.combine(first_day, time(0), tzinfo=zone(tz))
    end = datetime.combine(date.fromordinal(first_day.toordinal() + days), time(0), tzinfo=zone(tz))
    count = int(Timeline(start, 1, slot_minutes).index_of(end))
    return Timeline(start, count, slot_minutes)


def plan(
    queues: Sequence[QueuePlan],
    days: int = 7,
    *,
    sites: Sequence[PlanSite] = (),
    templates: Sequence[ShiftTemplate] = (),
    policies: Sequence[LanguagePolicy] = (),
    time_limit: float = 60.0,
    stopwatch: Callable[[], float] | None = None,
) -> PlanResult:
    """Forecast ``days`` after each history, size every interval, then schedule if sites given.

    The plan's timeline starts at local midnight, in the first queue's zone, of the day after
    the first queue's history; every queue must share the slot length.
    """
    if not queues:
        raise InvalidValue("queues", "give at least one queue")
    slot = queues[0].history.slot_minutes
    for q in queues:
        if q.history.slot_minutes != slot:
            raise InvalidValue(
                f"queues.{q.name}.slot_minutes", "all queues must use the same slots"
            )
    forecasts = {q.name: forecast(q.history, q.holidays, days) for q in queues}
    first = forecasts[queues[0].name].first_day
    timeline = plan_timeline(first, days, slot, queues[0].timezone)
    volumes: dict[str, FloatArray] = {}
    requirements: dict[str, FloatArray] = {}
    for q in queues:
        f = forecasts[q.name]
        need = net_requirement(f.volume, f.aht, slot, q.target)
        volumes[q.name] = _on_timeline(f.volume, f.first_day, slot, timeline, q.timezone)
        requirements[q.name] = _on_timeline(need, f.first_day, slot, timeline, q.timezone)
    result = None
    if sites:
        if not templates:
            raise InvalidValue("templates", "give at least one shift template to schedule")
        problem = SchedulingProblem(timeline, requirements, sites, templates, policies)
        result = schedule(problem, time_limit=time_limit, stopwatch=stopwatch)
    return PlanResult(timeline, forecasts, requirements, volumes, result)


def requirement_by_site(result: PlanResult, sites: Mapping[str, float]) -> dict[str, FloatArray]:
    """Gross advisers per interval if each site alone served every queue (for display)."""
    total = sum(result.requirements.values(), start=np.zeros(result.timeline.count))
    return {name: total / (1 - shrinkage) for name, shrinkage in sites.items()}
