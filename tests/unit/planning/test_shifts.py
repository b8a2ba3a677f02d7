"""The weekly shift MIP on small instances."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from allo.domain.errors import InvalidValue
from allo.planning.calendars import SiteCalendar, Timeline
from allo.planning.erlang import StaffingTarget
from allo.planning.shifts import (
    BreakRule,
    LanguagePolicy,
    PlanSite,
    SchedulingProblem,
    ShiftTemplate,
    schedule,
)
from allo.planning.staffing import QueueTarget, gross_requirement, net_requirement, pooling_gain

PARIS = ZoneInfo("Europe/Paris")
TIMELINE = Timeline(datetime(2026, 4, 13, tzinfo=PARIS), 2 * 48, 30)  # two days, 30 min
HOURS = np.arange(TIMELINE.count) % 48 / 2
NEED = np.where((HOURS >= 8) & (HOURS < 20), 6.0, 0.0)
TEMPLATES = [
    ShiftTemplate(f"{h}h", time(h), time(h + 6), (BreakRule(30, 150, 210, paid=False),))
    for h in range(6, 16)
]


def _site(name: str, country: str, tz: str, cost: float, **kw: object) -> PlanSite:
    return PlanSite(name, SiteCalendar(country, tz), cost, 0.25, frozenset({"fr"}), **kw)  # type: ignore[arg-type]


def _sites() -> list[PlanSite]:
    return [
        _site("paris", "FR", "Europe/Paris", 28),
        _site("rabat", "MA", "Africa/Casablanca", 14.5),
    ]


def test_cheapest_site_takes_the_work_unless_a_policy_says_otherwise() -> None:
    free = schedule(SchedulingProblem(TIMELINE, {"fr": NEED}, _sites(), TEMPLATES), time_limit=20)
    assert free.cost_by_site["paris"] == 0 and free.cost_by_site["rabat"] > 0
    total = sum(free.coverage.values())
    assert np.all(total >= NEED - 1e-6)
    assert 0 <= free.gap <= 0.05 and free.lp_bound <= free.cost
    policy = LanguagePolicy("fr", frozenset({"FR"}), 0.5)
    mixed = schedule(
        SchedulingProblem(TIMELINE, {"fr": NEED}, _sites(), TEMPLATES, [policy]),
        time_limit=4,
        mip_gap=0.02,
    )
    assert mixed.policy_shares["fr"] >= 0.5 - 1e-6
    assert mixed.cost > free.cost and mixed.cost_by_site["paris"] > 0
    assert mixed.headcount["paris"] >= 1


def test_rabat_works_in_its_own_clock() -> None:
    result = schedule(
        SchedulingProblem(TIMELINE, {"fr": NEED}, _sites()[1:], TEMPLATES), time_limit=20
    )
    first = min(result.shifts, key=lambda s: s.start)
    # 08:00 in Paris is 07:00 in Rabat in April (UTC+1 vs UTC+2).
    assert first.start.hour == 7 and first.start.tzinfo == ZoneInfo("Africa/Casablanca")


def test_impossible_problems_are_reported() -> None:
    capped = [_site("rabat", "MA", "Africa/Casablanca", 14.5, max_headcount=2)]
    with pytest.raises(InvalidValue, match="targets"):
        schedule(SchedulingProblem(TIMELINE, {"fr": NEED}, capped, TEMPLATES), time_limit=10)
    with pytest.raises(InvalidValue, match="no site serves"):
        schedule(SchedulingProblem(TIMELINE, {"en": NEED}, _sites(), TEMPLATES))
    with pytest.raises(InvalidValue, match=r"requirements.fr\[0\]"):
        schedule(SchedulingProblem(TIMELINE, {"fr": NEED - 1}, _sites(), TEMPLATES))
    with pytest.raises(InvalidValue, match="shrinkage"):
        PlanSite("x", SiteCalendar("FR", "Europe/Paris"), 1, 1.2, frozenset())


def test_staffing_per_site_and_multiskill() -> None:
    queue = QueueTarget(StaffingTarget(0.8, 20))
    net = net_requirement([[100.0, 0.0]], 180.0, 30, queue)
    assert net.tolist() == [[14.0, 0.0]]
    assert gross_requirement(net, 0.3)[0, 0] == pytest.approx(20.0)
    gain = pooling_gain([[100.0], [100.0]], [[180.0], [180.0]], 30, queue)
    assert 0 < gain[0] < 14  # pooling two queues saves advisers; split-time ignores it


def test_breaks_are_spread_within_each_shift_and_the_bounds_are_ordered() -> None:
    result = schedule(SchedulingProblem(TIMELINE, {"fr": NEED}, _sites(), TEMPLATES), time_limit=20)
    # The LP with rounding cuts is a valid bound between the plain LP and the cost.
    assert result.lp_bound <= result.bound <= result.cost + 1e-6
    assert result.gap <= result.lp_gap
    for shift in result.shifts:
        assert sum(n for _, n in shift.breaks) == shift.advisers
        assert all(150 <= offsets[0] <= 210 for offsets, _ in shift.breaks)
    total = sum(result.coverage.values())
    assert np.all(total >= NEED - 1e-6)


def test_shifts_without_breaks_are_scheduled_too() -> None:
    plain = [ShiftTemplate(f"{h}h", time(h), time(h + 6)) for h in range(6, 16)]
    result = schedule(SchedulingProblem(TIMELINE, {"fr": NEED}, _sites(), plain), time_limit=20)
    assert all(s.breaks == () for s in result.shifts)
    assert np.all(sum(result.coverage.values()) >= NEED - 1e-6)
