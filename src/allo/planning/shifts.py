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

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
class ShiftInstance:
    site: str
    template: str
    day: date
    start: datetime  # aware, site local
    paid_hours: float
    working: npt.NDArray[np.int64]  # timeline indexes where the adviser is on the phones
    cost: float


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


@dataclass(frozen=True, slots=True)
class Schedule:
    status: str
    cost: float
    lp_bound: float
    mip_bound: float
    gap: float  # (cost - LP bound) / cost: an upper bound on the true optimality gap
    solve_seconds: float
    shifts: list[ScheduledShift]
    coverage: dict[str, FloatArray]  # site → productive advisers per interval
    cost_by_site: dict[str, float]
    headcount: dict[str, int]
    policy_shares: dict[str, float] = field(default_factory=dict)


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


def _break_variants(template: ShiftTemplate, step: int) -> list[tuple[tuple[int, int, bool], ...]]:
    """Break placements (offset, minutes, paid): every break slides together by ``step``."""
    if not template.breaks:
        return [()]
    slack = min(rule.latest - rule.earliest for rule in template.breaks)
    return [
        tuple((rule.earliest + shift, rule.minutes, rule.paid) for rule in template.breaks)
        for shift in range(0, slack + 1, step)
    ]


def _local(day: date, moment: time, site: SiteCalendar) -> datetime:
    return datetime.combine(day, moment, tzinfo=site.zone)


def _instance(
    site: PlanSite,
    template: ShiftTemplate,
    day: date,
    breaks: tuple[tuple[int, int, bool], ...],
    problem: SchedulingProblem,
) -> ShiftInstance | None:
    """The shift on this day at this site with these breaks, or None if it cannot be worked."""
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
    on = np.ones(int(last - first), dtype=bool)
    unpaid = 0
    for offset, minutes, paid in breaks:
        if offset + minutes > elapsed_min:
            return None
        on[offset // timeline.minutes : (offset + minutes) // timeline.minutes] = False
        unpaid += 0 if paid else minutes
    indexes = np.arange(int(first), int(last), dtype=np.int64)
    if problem.cyclic:
        indexes = indexes % timeline.count
    keep = (indexes >= 0) & (indexes < timeline.count)
    paid_hours = (elapsed_min - unpaid) / 60
    return ShiftInstance(
        site=site.name,
        template=template.name,
        day=day,
        start=start,
        paid_hours=paid_hours,
        working=indexes[on & keep],
        cost=paid_hours * site.hourly_cost,
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
            variants = _break_variants(template, problem.timeline.minutes)
            for day, breaks in itertools.product(_plan_days(problem.timeline, site), variants):
                if day.weekday() not in template.weekdays:
                    continue
                shift = _instance(site, template, day, breaks, problem)
                if shift is None or not shift.working.size or not open_[shift.working].all():
                    continue
                found.append(_drop_paused(shift, paused))
    return found


def _drop_paused(shift: ShiftInstance, paused: npt.NDArray[np.bool_]) -> ShiftInstance:
    working = shift.working[~paused[shift.working]]
    return ShiftInstance(
        shift.site, shift.template, shift.day, shift.start, shift.paid_hours, working, shift.cost
    )


class _Rows:
    """Sparse constraint rows gathered as CSR arrays for one ``addRows`` call."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.starts: list[int] = []
        self.index: list[npt.NDArray[np.int64]] = []
        self.value: list[FloatArray] = []
        self.nnz = 0

    def add(self, cols: npt.ArrayLike, vals: npt.ArrayLike, lower: float, upper: float) -> None:
        c = np.asarray(cols, dtype=np.int64)
        self.starts.append(self.nnz)
        self.index.append(c)
        self.value.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), c.shape).copy())
        self.lower.append(lower)
        self.upper.append(upper)
        self.nnz += int(c.size)

    def push(self, model: highspy.Highs) -> None:
        if not self.lower:
            return
        model.addRows(
            len(self.lower),
            np.array(self.lower),
            np.array(self.upper),
            self.nnz,
            np.array(self.starts, dtype=np.int32),
            np.concatenate(self.index).astype(np.int32),
            np.concatenate(self.value),
        )


@dataclass(slots=True)
class _Layout:
    """Column numbering: shift counts, then split variables, then headcounts."""

    shifts: list[ShiftInstance]
    split: dict[tuple[str, str], npt.NDArray[np.int64]]  # (site, queue) → column per interval
    headcount: dict[str, int]
    columns: int


def _layout(problem: SchedulingProblem, shifts: list[ShiftInstance]) -> _Layout:
    col = len(shifts)
    split: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
    for site in problem.sites:
        for queue in sorted(site.queues & set(problem.requirements)):
            split[(site.name, queue)] = np.arange(col, col + problem.timeline.count)
            col += problem.timeline.count
    headcount = {}
    for site in problem.sites:
        headcount[site.name] = col
        col += 1
    return _Layout(shifts, split, headcount, col)


def _coverage_rows(problem: SchedulingProblem, layout: _Layout, rows: _Rows) -> None:
    """Σ_queues split(site, q, t) ≤ (1 - shrinkage) × advisers on the phones at t."""
    for site in problem.sites:
        members: list[list[int]] = [[] for _ in range(problem.timeline.count)]
        for column, shift in enumerate(layout.shifts):
            if shift.site == site.name:
                for t in shift.working:
                    members[int(t)].append(column)
        splits = [cols for (name, _), cols in layout.split.items() if name == site.name]
        for t in range(problem.timeline.count):
            split_cols = [int(cols[t]) for cols in splits]
            cols = split_cols + members[t]
            vals = [1.0] * len(split_cols) + [-(1 - site.shrinkage)] * len(members[t])
            rows.add(cols, vals, -highspy.kHighsInf, 0.0)


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
    integer = [*range(len(layout.shifts)), *layout.headcount.values()]
    kinds = np.array([highspy.HighsVarType.kInteger] * len(integer))
    model.changeColsIntegrality(len(integer), np.array(integer, dtype=np.int32), kinds)


def _build(problem: SchedulingProblem, layout: _Layout, *, integer: bool) -> highspy.Highs:
    model = highspy.Highs()  # type: ignore[no-untyped-call]
    model.setOptionValue("output_flag", False)
    _columns(problem, layout, model)
    rows = _Rows()
    for add in (_coverage_rows, _demand_rows, _policy_rows, _legal_rows):
        add(problem, layout, rows)
    rows.push(model)
    if integer:
        _integrality(layout, model)
    return model


def _solve(model: highspy.Highs, time_limit: float, gap: float, threads: int) -> str:
    model.setOptionValue("time_limit", float(time_limit))
    model.setOptionValue("mip_rel_gap", float(gap))
    model.setOptionValue("threads", threads)
    model.run()
    return str(model.modelStatusToString(model.getModelStatus()))


def schedule(
    problem: SchedulingProblem,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 0.005,
    threads: int = 1,
) -> Schedule:
    """Least-cost shift counts per site over the plan; raises InvalidValue if infeasible."""
    _validate(problem)
    shifts = shift_instances(problem)
    layout = _layout(problem, shifts)
    relaxed = _build(problem, layout, integer=False)
    status = _solve(relaxed, time_limit, mip_gap, threads)
    if status != "Optimal":
        raise InvalidValue("targets", f"cannot be met by the shifts and sites given ({status})")
    lp_bound = float(relaxed.getInfo().objective_function_value)
    model = _build(problem, layout, integer=True)
    _start_from_dive(relaxed, layout, model)
    # One time budget for the whole solve: LP and dive time come out of the MIP's share.
    remaining = max(1.0, time_limit - float(relaxed.getRunTime()))
    status = _solve(model, remaining, mip_gap, threads)
    info = model.getInfo()
    if info.primal_solution_status != 2:  # 2: a feasible solution exists
        raise InvalidValue("targets", f"no integer schedule found in {time_limit:.0f} s ({status})")
    return _result(problem, layout, model, status, lp_bound)


def _dive(relaxed: highspy.Highs, layout: _Layout, rounds: int = 200) -> FloatArray | None:
    """An integer schedule from the LP by "round up the most fractional, re-solve" diving.

    HiGHS's own primal heuristics find poor incumbents on this covering model; raising lower
    bounds keeps the LP feasible (coverage only grows) and each re-solve is warm-started.
    """
    n = len(layout.shifts)
    lower = np.zeros(n)
    columns = np.arange(n, dtype=np.int32)
    for _ in range(rounds):
        values = np.asarray(relaxed.getSolution().col_value, dtype=np.float64)
        x = values[:n]
        frac = x - np.floor(x + 1e-6)
        fractional = np.flatnonzero(frac > 1e-6)
        if fractional.size == 0:
            values[:n] = np.rint(x)
            return values
        # Keep what is already whole, round up the tenth most fractional of the rest.
        lower = np.maximum(lower, np.floor(x + 1e-6))
        pick = fractional[np.argsort(-frac[fractional])[: max(1, fractional.size // 10)]]
        lower[pick] = np.ceil(x[pick])
        relaxed.changeColsBounds(n, columns, lower, np.full(n, highspy.kHighsInf))
        relaxed.run()
        if relaxed.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
    return None


def _start_from_dive(relaxed: highspy.Highs, layout: _Layout, model: highspy.Highs) -> None:
    start = _dive(relaxed, layout)
    if start is None:
        return
    heads = list(layout.headcount.values())
    start[heads] = np.ceil(start[heads] - 1e-6)
    solution = highspy.HighsSolution()
    solution.col_value = list(start)
    solution.value_valid = True
    model.setSolution(solution)


def _result(
    problem: SchedulingProblem, layout: _Layout, model: highspy.Highs, status: str, lp_bound: float
) -> Schedule:
    values = np.asarray(model.getSolution().col_value, dtype=np.float64)
    counts = np.rint(values[: len(layout.shifts)]).astype(np.int64)
    info = model.getInfo()
    cost = float(np.dot(counts, [s.cost for s in layout.shifts]))
    # The LP relaxation is the bound we report: with a user start, HiGHS 1.16 was seen to
    # report an objective and dual bound below the LP optimum, so we do not trust them.
    bound = lp_bound
    chosen = [
        ScheduledShift(s.site, s.template, s.day, s.start, int(n), s.paid_hours, s.cost * int(n))
        for s, n in zip(layout.shifts, counts, strict=True)
        if n > 0
    ]
    return Schedule(
        status=status,
        cost=cost,
        lp_bound=lp_bound,
        mip_bound=float(info.mip_dual_bound),
        gap=(cost - bound) / cost if cost > 0 else 0.0,
        solve_seconds=float(model.getRunTime()),
        shifts=chosen,
        coverage=_coverage(problem, layout, counts),
        cost_by_site={
            site.name: sum(s.cost for s in chosen if s.site == site.name) for site in problem.sites
        },
        headcount=_headcount(problem, layout, counts),
        policy_shares=_policy_shares(problem, layout, values),
    )


def _coverage(
    problem: SchedulingProblem, layout: _Layout, counts: npt.NDArray[np.int64]
) -> dict[str, FloatArray]:
    coverage = {site.name: np.zeros(problem.timeline.count) for site in problem.sites}
    shrink = {site.name: site.shrinkage for site in problem.sites}
    for shift, n in zip(layout.shifts, counts, strict=True):
        if n:
            np.add.at(coverage[shift.site], shift.working, n * (1 - shrink[shift.site]))
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
