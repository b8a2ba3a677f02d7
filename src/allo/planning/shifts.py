"""Least-cost shifts across sites over a week: a MIP solved by HiGHS (highspy).

Decision: how many advisers of each site work each shift instance (template × start day ×
break placement). Constraints, on the plan's common timeline (UTC instants):

- coverage: for each site and interval, the productive advisers on shift
  (1 - site shrinkage, zero during breaks and Friday prayer) are split across the queues
  the site serves (the split-time multi-skill approximation, see ``staffing``);
- demand: for each queue and interval, the split shares add up to the net requirement;
- language policies: at least X % of a queue's required workload comes from sites in the
  given countries (over the week);
- legal limits per site: no shift longer than the daily maximum; with a headcount H per
  site, at most H shifts a day, at most ``max_days_per_week`` × H shifts and at most
  ``max_week_hours`` × H paid hours in the week (necessary conditions for a roster);
- site closures: no shift works an interval when its site is closed (holidays, outside
  the reduced Ramadan hours).

A shift template starts and ends at a local wall-clock time of its site: a night shift
crosses midnight and, across a DST change, lasts an hour less or more. The week is cyclic
by default (Sunday night's shift covers Monday morning of the same plan), as a repeating
week pattern is what gets rostered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import highspy
import numpy as np
import numpy.typing as npt

from allo.domain.errors import InvalidValue
from allo.planning.calendars import SiteCalendar, Timeline, site_availability
from allo.planning.staffing import check_shrinkage

FloatArray = npt.NDArray[np.float64]
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``minutes`` starting ``earliest`` to ``latest`` minutes into the shift."""

    minutes: int
    earliest: int
    latest: int
    paid: bool = True

    def __post_init__(self) -> None:
        if self.minutes <= 0 or not 0 <= self.earliest <= self.latest:
            raise InvalidValue("breaks", "need minutes > 0 and 0 ≤ earliest ≤ latest")


@dataclass(frozen=True, slots=True)
class ShiftTemplate:
    """A shift pattern in the site's local time; ``end <= start`` means it ends the next day."""

    name: str
    start: time
    end: time
    breaks: tuple[BreakRule, ...] = ()
    weekdays: frozenset[int] = ALL_DAYS
    sites: frozenset[str] | None = None  # None: every site

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValue("shift.name", "must not be empty")
        if not self.weekdays or not self.weekdays <= ALL_DAYS:
            raise InvalidValue(f"shift {self.name}.weekdays", "must be a non-empty set of 0–6")


@dataclass(frozen=True, slots=True)
class PlanSite:
    """A site as the scheduler sees it."""

    name: str
    calendar: SiteCalendar
    hourly_cost: float
    shrinkage: float
    queues: frozenset[str]
    max_headcount: int | None = None

    def __post_init__(self) -> None:
        check_shrinkage(f"site {self.name}.shrinkage", self.shrinkage)
        if self.hourly_cost < 0:
            raise InvalidValue(f"site {self.name}.hourly_cost", "must not be negative")


@dataclass(frozen=True, slots=True)
class LanguagePolicy:
    """At least ``min_share`` of ``queue``'s required workload is handled from ``countries``."""

    queue: str
    countries: frozenset[str]
    min_share: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_share <= 1:
            raise InvalidValue("policy.min_share", "must be a share in [0, 1]")


@dataclass(frozen=True, slots=True)
class BreakPlacement:
    """One way to place a shift's breaks: minutes into the shift, and the intervals it takes."""

    offsets: tuple[int, ...]  # minutes from the shift start, one per break rule
    off: npt.NDArray[np.int64]  # timeline indexes, within ``working``, spent on break


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """A shift on one day at one site; its advisers' breaks are spread over ``placements``."""

    site: str
    template: str
    day: date
    start: datetime  # aware, site local
    paid_hours: float
    working: npt.NDArray[np.int64]  # timeline indexes on shift and not paused (breaks included)
    cost: float
    placements: tuple[BreakPlacement, ...] = ()


@dataclass(frozen=True, slots=True)
class SchedulingProblem:
    timeline: Timeline
    requirements: Mapping[str, FloatArray]  # queue → net advisers per interval
    sites: Sequence[PlanSite]
    templates: Sequence[ShiftTemplate]
    policies: Sequence[LanguagePolicy] = ()
    cyclic: bool = True


@dataclass(frozen=True, slots=True)
class ScheduledShift:
    site: str
    template: str
    day: date
    start: datetime
    advisers: int
    paid_hours: float
    cost: float
    # (minutes into the shift of each break, advisers taking their breaks there)
    breaks: tuple[tuple[tuple[int, ...], int], ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """The chosen shifts and how far from optimal they may be.

    ``lp_bound`` is the plain LP relaxation; ``bound`` the LP relaxation strengthened with
    valid rounding cuts (never above the integer optimum, never below ``lp_bound``).
    ``gap`` = (cost - bound) / cost and ``lp_gap`` = (cost - lp_bound) / cost are upper
    bounds on the true optimality gap.
    """

    status: str
    cost: float
    lp_bound: float
    mip_bound: float
    gap: float
    solve_seconds: float
    shifts: list[ScheduledShift]
    coverage: dict[str, FloatArray]  # site → productive advisers per interval
    cost_by_site: dict[str, float]
    headcount: dict[str, int]
    policy_shares: dict[str, float] = field(default_factory=dict)
    bound: float = 0.0
    lp_gap: float = 0.0


def _validate(problem: SchedulingProblem) -> None:
    names = [site.name for site in problem.sites]
    if len(set(names)) != len(names):
        raise InvalidValue("sites", "site names must be unique")
    for queue, need in problem.requirements.items():
        if need.shape != (problem.timeline.count,):
            raise InvalidValue(f"requirements.{queue}", f"needs {problem.timeline.count} intervals")
        bad = np.flatnonzero(~np.isfinite(need) | (need < 0))
        if bad.size:
            raise InvalidValue(f"requirements.{queue}[{int(bad[0])}]", "must be a number ≥ 0")
        if need.any() and not any(queue in site.queues for site in problem.sites):
            raise InvalidValue(f"requirements.{queue}", "no site serves this queue")
    for policy in problem.policies:
        if policy.queue not in problem.requirements:
            raise InvalidValue("policy.queue", f"{policy.queue!r} is not a planned queue")


def _break_offsets(template: ShiftTemplate, step: int) -> list[tuple[int, ...]]:
    """Break placements, minutes into the shift: every break slides together by ``step``."""
    if not template.breaks:
        return [()]
    slack = min(rule.latest - rule.earliest for rule in template.breaks)
    return [
        tuple(rule.earliest + shift for rule in template.breaks)
        for shift in range(0, slack + 1, step)
    ]


def _local(day: date, moment: time, site: SiteCalendar) -> datetime:
    return datetime.combine(day, moment, tzinfo=site.zone)


def _instance(
    site: PlanSite, template: ShiftTemplate, day: date, problem: SchedulingProblem
) -> ShiftInstance | None:
    """The shift on this day at this site with its break placements, or None if unworkable."""
    timeline = problem.timeline
    start = _local(day, template.start, site.calendar)
    end_day = day + timedelta(days=1) if template.end <= template.start else day
    end = _local(end_day, template.end, site.calendar)
    first, last = timeline.index_of(start), timeline.index_of(end)
    if first != int(first) or last != int(last):
        raise InvalidValue(
            f"shift {template.name}.start", f"is not on a {timeline.minutes}-minute boundary"
        )
    elapsed_min = (last - first) * timeline.minutes
    if elapsed_min / 60 > site.calendar.legal_limits.max_day_hours:
        return None
    indexes = np.arange(int(first), int(last), dtype=np.int64)
    if problem.cyclic:
        indexes = indexes % timeline.count
    keep = (indexes >= 0) & (indexes < timeline.count)
    placements = []
    for offsets in _break_offsets(template, timeline.minutes):
        off = np.zeros(indexes.size, dtype=bool)
        for offset, rule in zip(offsets, template.breaks, strict=True):
            off[offset // timeline.minutes : (offset + rule.minutes) // timeline.minutes] = True
        if all(o + r.minutes <= elapsed_min for o, r in zip(offsets, template.breaks, strict=True)):
            placements.append(BreakPlacement(offsets, indexes[off & keep]))
    if not placements:
        return None
    unpaid = sum(rule.minutes for rule in template.breaks if not rule.paid)
    paid_hours = (elapsed_min - unpaid) / 60
    return ShiftInstance(
        site=site.name,
        template=template.name,
        day=day,
        start=start,
        paid_hours=paid_hours,
        working=indexes[keep],
        cost=paid_hours * site.hourly_cost,
        placements=tuple(placements) if template.breaks else (),
    )


def _plan_days(timeline: Timeline, site: PlanSite) -> list[date]:
    first = timeline.instant(0).astimezone(site.calendar.zone).date()
    last = timeline.instant(timeline.count - 1).astimezone(site.calendar.zone).date()
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def shift_instances(problem: SchedulingProblem) -> list[ShiftInstance]:
    """Every shift a site may work in the plan, with its working intervals on the timeline."""
    found: list[ShiftInstance] = []
    for site in problem.sites:
        open_, paused = site_availability(site.calendar, problem.timeline)
        for template in problem.templates:
            if template.sites is not None and site.name not in template.sites:
                continue
            for day in _plan_days(problem.timeline, site):
                if day.weekday() not in template.weekdays:
                    continue
                shift = _instance(site, template, day, problem)
                if shift is None or not shift.working.size or not open_[shift.working].all():
                    continue
                found.append(_drop_paused(shift, paused))
    return found


def _drop_paused(shift: ShiftInstance, paused: npt.NDArray[np.bool_]) -> ShiftInstance:
    placements = tuple(BreakPlacement(p.offsets, p.off[~paused[p.off]]) for p in shift.placements)
    return replace(shift, working=shift.working[~paused[shift.working]], placements=placements)


class _Rows:
    """Sparse constraint rows gathered as CSR arrays for one ``addRows`` call."""

    def __init__(self) -> None:
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []
        self.row: list[npt.NDArray[np.int64]] = []
        self.col: list[npt.NDArray[np.int64]] = []
        self.value: list[FloatArray] = []
        self.count = 0

    def add(self, cols: npt.ArrayLike, vals: npt.ArrayLike, lower: float, upper: float) -> None:
        c = np.asarray(cols, dtype=np.int64)
        self.block(np.zeros(c.size, dtype=np.int64), c, vals, [lower], [upper])

    def block(
        self,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        vals: npt.ArrayLike,
        lower: npt.ArrayLike,
        upper: npt.ArrayLike,
    ) -> None:
        """Many rows at once from (row, column, value) triplets, rows numbered from 0."""
        lo = np.asarray(lower, dtype=np.float64).ravel()
        c = np.asarray(cols, dtype=np.int64)
        self.row.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.col.append(c)
        self.value.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), c.shape).copy())
        self.lower.append(lo)
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), lo.shape).copy())
        self.count += lo.size

    def push(self, model: highspy.Highs) -> None:
        if not self.count:
            return
        row, col = np.concatenate(self.row), np.concatenate(self.col)
        order = np.lexsort((col, row))
        starts = np.searchsorted(row[order], np.arange(self.count))
        model.addRows(
            self.count,
            np.concatenate(self.lower),
            np.concatenate(self.upper),
            order.size,
            starts.astype(np.int32),
            col[order].astype(np.int32),
            np.concatenate(self.value)[order],
        )


@dataclass(slots=True)
class _Layout:
    """Columns: shift counts, break-placement counts, split variables, then headcounts.

    Breaks are aggregated: a shift has one count column and one column per break placement
    (advisers of that shift taking their breaks there) instead of one shift column per
    placement; the counts of the placements add up to the shift's count.
    """

    shifts: list[ShiftInstance]
    owner: npt.NDArray[np.int64]  # break-placement column k - len(shifts) → its shift
    placements: list[BreakPlacement]
    split: dict[tuple[str, str], npt.NDArray[np.int64]]  # (site, queue) → column per interval
    headcount: dict[str, int]
    columns: int

    @property
    def integers(self) -> npt.NDArray[np.int64]:
        counts = np.arange(len(self.shifts) + len(self.placements), dtype=np.int64)
        return np.concatenate([counts, np.array(list(self.headcount.values()), dtype=np.int64)])


def _layout(problem: SchedulingProblem, shifts: list[ShiftInstance]) -> _Layout:
    owner = [j for j, shift in enumerate(shifts) for _ in shift.placements]
    placements = [p for shift in shifts for p in shift.placements]
    col = len(shifts) + len(placements)
    split: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
    for site in problem.sites:
        for queue in sorted(site.queues & set(problem.requirements)):
            split[(site.name, queue)] = np.arange(col, col + problem.timeline.count)
            col += problem.timeline.count
    headcount = {}
    for site in problem.sites:
        headcount[site.name] = col
        col += 1
    return _Layout(shifts, np.array(owner, dtype=np.int64), placements, split, headcount, col)


def _on_phones(
    layout: _Layout, sites: frozenset[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """(interval, column, ±1) triplets: advisers of these sites on the phones per interval."""
    t: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    c: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    v: list[FloatArray] = [np.zeros(0)]
    for j, shift in enumerate(layout.shifts):
        if shift.site in sites:
            t.append(shift.working)
            c.append(np.full(shift.working.size, j, dtype=np.int64))
            v.append(np.ones(shift.working.size))
    base = len(layout.shifts)
    for k, placement in enumerate(layout.placements):
        if layout.shifts[int(layout.owner[k])].site in sites:
            t.append(placement.off)
            c.append(np.full(placement.off.size, base + k, dtype=np.int64))
            v.append(-np.ones(placement.off.size))
    return np.concatenate(t), np.concatenate(c), np.concatenate(v)


def _link_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    """Σ placements of a shift = the shift's count."""
    if not layout.placements:
        return
    k = np.arange(len(layout.placements), dtype=np.int64)
    owners = np.unique(layout.owner)
    row_of = np.searchsorted(owners, layout.owner)
    rows.block(
        np.concatenate([row_of, np.arange(owners.size)]),
        np.concatenate([len(layout.shifts) + k, owners]),
        np.concatenate([np.ones(k.size), -np.ones(owners.size)]),
        np.zeros(owners.size),
        np.zeros(owners.size),
    )


def _coverage_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    """Σ_queues split(site, q, t) ≤ (1 - shrinkage) × advisers on the phones at t."""
    count = problem.timeline.count
    for site in problem.sites:
        t, c, v = _on_phones(layout, frozenset({site.name}))
        splits = [cols for (name, _), cols in layout.split.items() if name == site.name]
        interval = np.arange(count, dtype=np.int64)
        rows.block(
            np.concatenate([t, *[interval] * len(splits)]),
            np.concatenate([c, *splits]),
            np.concatenate([-(1 - site.shrinkage) * v, np.ones(count * len(splits))]),
            np.full(count, -highspy.kHighsInf),
            np.zeros(count),
        )


def _rounding_cuts(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    """Valid cuts: heads on the phones at t, over the sites serving q, ≥ ⌈need / max share⌉.

    Those sites give need_q(t) ≤ Σ (1 - shrinkage_s) n_s(t) ≤ m Σ n_s(t) with m the largest
    productive share and n_s(t) integer, hence Σ n_s(t) ≥ ⌈need_q(t) / m⌉ (a Chvátal–Gomory
    rounding). They lift the LP bound and guide the rounding.
    """
    for queue, need in problem.requirements.items():
        serving = [s for s in problem.sites if queue in s.queues]
        share = max((1 - s.shrinkage for s in serving), default=1.0)
        heads = np.ceil(need / share - 1e-6)
        needed = np.flatnonzero(heads > 0)
        if not serving or not needed.size:
            continue
        t, c, v = _on_phones(layout, frozenset(s.name for s in serving))
        row_of = np.full(problem.timeline.count, -1, dtype=np.int64)
        row_of[needed] = np.arange(needed.size)
        keep = row_of[t] >= 0
        rows.block(row_of[t[keep]], c[keep], v[keep], heads[needed], highspy.kHighsInf)


def _demand_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    for queue, need in problem.requirements.items():
        servers = [cols for (_, q), cols in layout.split.items() if q == queue]
        for t in np.flatnonzero(need > 0):
            # Equality, so that a language policy cannot be met by counting idle time.
            rows.add([int(cols[t]) for cols in servers], 1.0, float(need[t]), float(need[t]))


def _policy_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    by_name = {site.name: site for site in problem.sites}
    for policy in problem.policies:
        workload = float(problem.requirements[policy.queue].sum())
        cols = [
            cols
            for (site, q), cols in layout.split.items()
            if q == policy.queue and by_name[site].calendar.country in policy.countries
        ]
        if workload > 0 and not cols and policy.min_share > 0:
            raise InvalidValue("policy.countries", f"no site there serves {policy.queue!r}")
        if cols:
            rows.add(np.concatenate(cols), 1.0, policy.min_share * workload, highspy.kHighsInf)


def _legal_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    """Per site headcount H: shifts a day ≤ H, shifts a week ≤ days × H, hours ≤ hours × H."""
    for site in problem.sites:
        limits = site.calendar.legal_limits
        mine = [(c, s) for c, s in enumerate(layout.shifts) if s.site == site.name]
        if not mine:
            continue
        head = layout.headcount[site.name]
        for day in sorted({s.day for _, s in mine}):
            cols = [c for c, s in mine if s.day == day]
            rows.add([*cols, head], [1.0] * len(cols) + [-1.0], -highspy.kHighsInf, 0.0)
        cols = [c for c, _ in mine]
        rows.add(
            [*cols, head],
            [1.0] * len(cols) + [-float(limits.max_days_per_week)],
            -highspy.kHighsInf,
            0.0,
        )
        hours = [s.paid_hours for _, s in mine]
        rows.add([*cols, head], [*hours, -limits.max_week_hours], -highspy.kHighsInf, 0.0)


def _columns(problem: SchedulingProblem, layout: _Layout, model: highspy.Highs) -> None:
    costs = np.zeros(layout.columns)
    costs[: len(layout.shifts)] = [s.cost for s in layout.shifts]
    upper = np.full(layout.columns, highspy.kHighsInf)
    for site in problem.sites:
        if site.max_headcount is not None:
            upper[layout.headcount[site.name]] = site.max_headcount
    for (_, queue), cols in layout.split.items():
        upper[cols[problem.requirements[queue] <= 0]] = 0.0  # nothing to serve there
    model.addVars(layout.columns, np.zeros(layout.columns), upper)
    model.changeColsCost(layout.columns, np.arange(layout.columns, dtype=np.int32), costs)


def _integrality(layout: _Layout, model: highspy.Highs) -> None:
    integer = layout.integers
    kinds = np.array([highspy.HighsVarType.kInteger] * integer.size)
    model.changeColsIntegrality(integer.size, integer.astype(np.int32), kinds)


def _build(problem: SchedulingProblem, layout: _Layout) -> tuple[highspy.Highs, _Rows]:
    """The LP relaxation without the rounding cuts, and the cut rows to add."""
    model = highspy.Highs()  # type: ignore[no-untyped-call]
    model.setOptionValue("output_flag", False)
    _columns(problem, layout, model)
    rows = _Rows()
    for add in (_link_rows, _coverage_rows, _demand_rows, _policy_rows, _legal_rows):
        add(problem, layout, rows)
    rows.push(model)
    cuts = _Rows()
    _rounding_cuts(problem, layout, cuts)
    return model, cuts


def _solve(model: highspy.Highs, time_limit: float, gap: float, threads: int) -> str:
    model.setOptionValue("time_limit", max(0.1, float(time_limit)))
    model.setOptionValue("mip_rel_gap", float(gap))
    model.setOptionValue("threads", threads)
    model.run()
    return str(model.modelStatusToString(model.getModelStatus()))


def _relaxation_bounds(
    model: highspy.Highs, cuts: _Rows, time_limit: float, threads: int
) -> tuple[float, float]:
    """The plain LP bound, then the bound with the rounding cuts (warm re-solve)."""
    status = _solve(model, time_limit, 0.0, threads)
    if status != "Optimal":
        raise InvalidValue("targets", f"cannot be met by the shifts and sites given ({status})")
    plain = float(model.getInfo().objective_function_value)
    cuts.push(model)
    status = _solve(model, time_limit, 0.0, threads)
    if status != "Optimal":
        raise InvalidValue("targets", f"cannot be met by the shifts and sites given ({status})")
    return plain, max(plain, float(model.getInfo().objective_function_value))


def schedule(
    problem: SchedulingProblem,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 0.005,
    threads: int = 1,
    stopwatch: Callable[[], float] | None = None,
) -> Schedule:
    """Least-cost shift counts per site over the plan; raises InvalidValue if infeasible.

    With a ``stopwatch`` (seconds, e.g. ``time.perf_counter``: this package reads no clock
    itself) ``time_limit`` covers everything: building the model, both LP bounds, the dive
    and the MIP; without one, only HiGHS's own solve time counts. The MIP stops early once
    within ``mip_gap`` of its dual bound.
    """
    started = stopwatch() if stopwatch else 0.0
    _validate(problem)
    layout = _layout(problem, shift_instances(problem))
    model, cuts = _build(problem, layout)
    lp_bound, bound = _relaxation_bounds(model, cuts, time_limit, threads)
    start = _dive(model, layout)
    if start is not None:
        start = _drop_surplus(problem, layout, start)
    _restore_bounds(model, layout)
    _integrality(layout, model)
    if start is not None:
        _set_start(model, layout, start)
    # HiGHS overruns its limit a little and the result takes a moment: keep a second back.
    remaining = time_limit - _spent(model, stopwatch, started) - 1.0
    status = _solve(model, remaining, mip_gap, threads) if remaining > 0.5 else "Time limit reached"
    values = _best(model, start)
    if values is None:
        raise InvalidValue("targets", f"no integer schedule found in {time_limit:.0f} s ({status})")
    seconds = _spent(model, stopwatch, started)
    return _result(problem, layout, values, status, (lp_bound, bound, _mip_bound(model)), seconds)


def _spent(model: highspy.Highs, stopwatch: Callable[[], float] | None, started: float) -> float:
    return stopwatch() - started if stopwatch else float(model.getRunTime())


def _best(model: highspy.Highs, start: FloatArray | None) -> FloatArray | None:
    """HiGHS's incumbent, or our start if HiGHS had no time to improve on it."""
    if model.getInfo().primal_solution_status == 2:  # 2: a feasible solution exists
        found = np.asarray(model.getSolution().col_value, dtype=np.float64)
        costs = np.asarray(model.getLp().col_cost_, dtype=np.float64)
        if start is None or found @ costs <= start @ costs + 1e-6:
            return found
    return start


def _mip_bound(model: highspy.Highs) -> float:
    return float(model.getInfo().mip_dual_bound)


def _dive(model: highspy.Highs, layout: _Layout, rounds: int = 200) -> FloatArray | None:
    """An integer schedule from the LP by "round up the most fractional, re-solve" diving.

    Raising lower bounds keeps the LP feasible (coverage only grows) and each re-solve is
    warm-started. Shift counts are rounded first, then the break placements within them.
    """
    n = len(layout.shifts)
    integer = np.arange(n + len(layout.placements), dtype=np.int32)
    lower = np.zeros(integer.size)
    for _ in range(rounds):
        values = np.asarray(model.getSolution().col_value, dtype=np.float64)
        x = values[: integer.size]
        frac = x - np.floor(x + 1e-6)
        fractional = np.flatnonzero(frac > 1e-6)
        if fractional.size == 0:
            values[: integer.size] = np.rint(x)
            heads = list(layout.headcount.values())
            values[heads] = np.ceil(values[heads] - 1e-6)
            return values
        if (fractional < n).any():
            fractional = fractional[fractional < n]
        lower = np.maximum(lower, np.floor(x + 1e-6))
        pick = fractional[np.argsort(-frac[fractional])[: max(1, fractional.size // 10)]]
        lower[pick] = np.ceil(x[pick])
        model.changeColsBounds(integer.size, integer, lower, np.full(integer.size, np.inf))
        model.run()
        if model.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
    return None


def _restore_bounds(model: highspy.Highs, layout: _Layout) -> None:
    size = len(layout.shifts) + len(layout.placements)
    cols = np.arange(size, dtype=np.int32)
    model.changeColsBounds(size, cols, np.zeros(size), np.full(size, np.inf))


def _drop_surplus(problem: SchedulingProblem, layout: _Layout, start: FloatArray) -> FloatArray:
    """Greedy repair: remove whole shifts, dearest first, while every constraint still holds.

    Checked exactly for one queue per site (then a site's productive time serves that queue
    only and the split follows); other layouts keep the dive's schedule as it is.
    """
    if any(len(site.queues & set(problem.requirements)) > 1 for site in problem.sites):
        return start
    return _Surplus(problem, layout, start).drop()


class _Surplus:
    """Coverage bookkeeping for the greedy removal of shifts from a feasible schedule."""

    def __init__(self, problem: SchedulingProblem, layout: _Layout, start: FloatArray) -> None:
        self.problem, self.layout, self.values = problem, layout, start.copy()
        self.share = {s.name: 1 - s.shrinkage for s in problem.sites}
        self.queue = {
            s.name: next(iter(s.queues & set(problem.requirements)), None) for s in problem.sites
        }
        count = problem.timeline.count
        self.phones = {s.name: np.zeros(count) for s in problem.sites}
        n = len(layout.shifts)
        for j, shift in enumerate(layout.shifts):
            np.add.at(self.phones[shift.site], shift.working, start[j])
        for k, placement in enumerate(layout.placements):
            site = layout.shifts[int(layout.owner[k])].site
            np.add.at(self.phones[site], placement.off, -start[n + k])

    def _feasible(self) -> bool:
        supply: dict[str, FloatArray] = {}
        for site, phones in self.phones.items():
            queue = self.queue[site]
            if queue is not None:
                supply[queue] = supply.get(queue, 0) + self.share[site] * phones
        for queue, need in self.problem.requirements.items():
            if np.any(supply.get(queue, np.zeros_like(need)) < need - 1e-6):
                return False
        by_name = {s.name: s for s in self.problem.sites}
        for policy in self.problem.policies:
            need = self.problem.requirements[policy.queue]
            inside = sum(
                np.minimum(self.share[site] * phones, need).sum()
                for site, phones in self.phones.items()
                if self.queue[site] == policy.queue
                and by_name[site].calendar.country in policy.countries
            )
            if inside < policy.min_share * need.sum() - 1e-6:
                return False
        return True

    def _move(self, j: int, k: int | None, sign: float) -> None:
        """Add (sign 1) or remove (sign -1) one adviser of shift j, breaking at placement k."""
        shift = self.layout.shifts[j]
        self.phones[shift.site][shift.working] += sign
        self.values[j] += sign
        if k is not None:
            n = len(self.layout.shifts)
            self.phones[shift.site][self.layout.placements[k].off] -= sign
            self.values[n + k] += sign

    def drop(self) -> FloatArray:
        n = len(self.layout.shifts)
        for j in sorted(range(n), key=lambda j: -self.layout.shifts[j].cost):
            where: list[int | None] = [int(k) for k in np.flatnonzero(self.layout.owner == j)]
            for k in where or [None]:
                column = j if k is None else n + k
                while self.values[column] > 0.5:
                    self._move(j, k, -1.0)
                    if not self._feasible():
                        self._move(j, k, 1.0)
                        break
        return self.values


def _set_start(model: highspy.Highs, layout: _Layout, start: FloatArray) -> None:
    """Give HiGHS the integer columns only: it solves the LP of the split variables itself."""
    integer = layout.integers
    model.setSolution(integer.size, integer.astype(np.int32), start[integer])


def _result(
    problem: SchedulingProblem,
    layout: _Layout,
    values: FloatArray,
    status: str,
    bounds: tuple[float, float, float],
    seconds: float,
) -> Schedule:
    n = len(layout.shifts)
    counts = np.rint(values[:n]).astype(np.int64)
    spread = np.rint(values[n : n + len(layout.placements)]).astype(np.int64)
    lp_bound, bound, mip_bound = bounds
    cost = float(np.dot(counts, [s.cost for s in layout.shifts]))
    chosen = []
    for j, (s, count) in enumerate(zip(layout.shifts, counts, strict=True)):
        if count <= 0:
            continue
        ks = np.flatnonzero(layout.owner == j) if layout.placements else np.zeros(0, np.int64)
        breaks = tuple(
            (layout.placements[int(k)].offsets, int(spread[k])) for k in ks if spread[k] > 0
        )
        chosen.append(
            ScheduledShift(
                s.site,
                s.template,
                s.day,
                s.start,
                int(count),
                s.paid_hours,
                s.cost * int(count),
                breaks,
            )
        )
    return Schedule(
        status=status,
        cost=cost,
        lp_bound=lp_bound,
        mip_bound=mip_bound,
        gap=(cost - bound) / cost if cost > 0 else 0.0,
        solve_seconds=seconds,
        shifts=chosen,
        coverage=_coverage(problem, layout, counts, spread),
        cost_by_site={
            site.name: sum(s.cost for s in chosen if s.site == site.name) for site in problem.sites
        },
        headcount=_headcount(problem, layout, counts),
        policy_shares=_policy_shares(problem, layout, values),
        bound=bound,
        lp_gap=(cost - lp_bound) / cost if cost > 0 else 0.0,
    )


def _coverage(
    problem: SchedulingProblem,
    layout: _Layout,
    counts: npt.NDArray[np.int64],
    spread: npt.NDArray[np.int64],
) -> dict[str, FloatArray]:
    coverage = {site.name: np.zeros(problem.timeline.count) for site in problem.sites}
    shrink = {site.name: site.shrinkage for site in problem.sites}
    for shift, n in zip(layout.shifts, counts, strict=True):
        if n:
            np.add.at(coverage[shift.site], shift.working, n * (1 - shrink[shift.site]))
    for k, n in enumerate(spread):
        if n:
            site = layout.shifts[int(layout.owner[k])].site
            np.add.at(coverage[site], layout.placements[k].off, -n * (1 - shrink[site]))
    return coverage


def _headcount(
    problem: SchedulingProblem, layout: _Layout, counts: npt.NDArray[np.int64]
) -> dict[str, int]:
    """Smallest headcount per site satisfying the legal rows for the chosen shifts."""
    result = {}
    for site in problem.sites:
        limits = site.calendar.legal_limits
        mine = [
            (s, int(n))
            for s, n in zip(layout.shifts, counts, strict=True)
            if n and s.site == site.name
        ]
        per_day: dict[date, int] = {}
        for shift, n in mine:
            per_day[shift.day] = per_day.get(shift.day, 0) + n
        total = sum(n for _, n in mine)
        hours = sum(s.paid_hours * n for s, n in mine)
        result[site.name] = int(
            max(
                max(per_day.values(), default=0),
                np.ceil(total / limits.max_days_per_week - 1e-9),
                np.ceil(hours / limits.max_week_hours - 1e-9),
            )
        )
    return result


def _policy_shares(
    problem: SchedulingProblem, layout: _Layout, values: FloatArray
) -> dict[str, float]:
    by_name = {site.name: site for site in problem.sites}
    shares = {}
    for policy in problem.policies:
        workload = float(problem.requirements[policy.queue].sum())
        inside = sum(
            float(values[cols].sum())
            for (site, q), cols in layout.split.items()
            if q == policy.queue and by_name[site].calendar.country in policy.countries
        )
        shares[policy.queue] = inside / workload if workload > 0 else 1.0
    return shares
