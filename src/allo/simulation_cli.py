"""`allo simulate`: run scenarios on the contact-center twin, compare them, replay a day.

    allo simulate scenario.yaml --replications 20 --seed 1
    allo simulate compare a.yaml b.yaml -o report.html
    allo simulate replay --database-url URL --tenant acme --day 2026-03-02 --overflow-after 30

Mount with `app.add_typer(simulation_cli.app, name="simulate")`. Replications run in
parallel processes (spawned, one scenario text each); replication k uses seed + k.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from allo.domain.errors import DomainError
from allo.simulation.results import Estimate, summarise
from allo.simulation.scenario import load_scenario

P = ParamSpec("P")
R = TypeVar("R")


class DefaultToRun(TyperGroup):
    """`allo simulate FILE …` means `allo simulate run FILE …`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToRun,
    help="Simulate scenarios on the contact-center twin (the real routing engine).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except (DomainError, ValueError, OSError) as error:
            err_console.print(f"Error: {error}", style="red", markup=False)
            raise typer.Exit(code=2) from None

    return wrapper


def replicate(source: str, seed: int) -> dict[str, float]:
    """One replication of a scenario given as YAML text (module level: runs in workers)."""
    from allo.simulation.twin import run_replication

    scenario = load_scenario(source)
    result = run_replication(scenario, seed)
    return result.metrics([model.site.name for model in scenario.sites])


def run_replications(
    sources: Sequence[tuple[str, str]], replications: int, seed: int, workers: int
) -> dict[str, list[dict[str, float]]]:
    """Every replication of every (label, text) scenario, in `workers` processes."""
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _ in sources}
    total = len(sources) * replications
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("replications", total=total)
        if workers <= 1:
            for label, text in sources:
                for k in range(replications):
                    runs[label].append(replicate(text, seed + k))
                    progress.advance(task)
            return runs
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {
                pool.submit(replicate, text, seed + k): (label, k)
                for label, text in sources
                for k in range(replications)
            }
            ordered: dict[tuple[str, int], dict[str, float]] = {}
            for future in as_completed(futures):
                ordered[futures[future]] = future.result()
                progress.advance(task)
    for (label, _), metrics in sorted(ordered.items(), key=lambda kv: kv[0][1]):
        runs[label].append(metrics)
    return runs


def _fmt(estimate: Estimate, key: str) -> str:
    if math.isnan(estimate.mean):
        return "—"
    percent = key in {"service_level", "abandon_rate", "repeat_rate", "fcr", "callback_rate"}
    percent = percent or key.startswith("occupancy[") or key == "overflow_rate"
    fmt = "{:.1%}" if percent else "{:,.2f}"
    if math.isinf(estimate.half_width):
        return fmt.format(estimate.mean)
    return f"{fmt.format(estimate.mean)} ± {fmt.format(estimate.half_width)}"


LABELS = {
    "contacts": "contacts (incl. repeats)",
    "service_level": "service level",
    "asa": "ASA (s)",
    "abandon_rate": "abandon rate",
    "cost_per_contact": "cost per contact (€)",
    "cost_per_resolved": "cost per resolved contact (€)",
    "satisfaction": "expected satisfaction (1–5)",
    "repeat_rate": "repeat-contact rate",
    "fcr": "first-contact resolution",
    "callback_rate": "callbacks taken",
    "overflow_rate": "overflows per contact",
    "cost": "cost of the day (€)",
}


def _table(title: str, summaries: dict[str, dict[str, Estimate]]) -> Table:
    table = Table(title=title)
    table.add_column("measure (mean ± 95 % CI)")
    for label in summaries:
        table.add_column(label, justify="right")
    keys = list(LABELS)
    for summary in summaries.values():
        keys += [k for k in summary if k.startswith("occupancy[") and k not in keys]
    for key in keys:
        name = LABELS.get(key, key.replace("occupancy[", "occupancy ").rstrip("]"))
        cells = [_fmt(s[key], key) if key in s else "—" for s in summaries.values()]
        table.add_row(name, *cells)
    return table


def _workers(requested: int | None, jobs: int) -> int:
    return max(1, min(jobs, requested if requested is not None else (os.cpu_count() or 1)))


Replications = Annotated[int, typer.Option("--replications", "-r", min=1, max=1000)]
Seed = Annotated[int, typer.Option("--seed", help="Replication k uses seed + k.")]
Workers = Annotated[
    int | None, typer.Option("--workers", min=1, help="Processes (default: CPU count).")
]


@app.command("run")
@friendly
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Replications = 20,
    seed: Seed = 1,
    workers: Workers = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON.")] = None,
) -> None:
    """Simulate one scenario and print its measures with 95 % confidence intervals."""
    text = scenario.read_text(encoding="utf-8")
    name = load_scenario(text).name  # bad input fails here, before any process starts
    runs = run_replications([(name, text)], replications, seed, _workers(workers, replications))
    summary = summarise(runs[name])
    console.print(_table(f"{name} — {replications} replications, seed {seed}", {name: summary}))
    if json_out is not None:
        json_out.write_text(json.dumps(_as_json(summary), indent=2), encoding="utf-8")


def _as_json(summary: dict[str, Estimate]) -> dict[str, Any]:
    return {
        key: {"mean": e.mean, "ci95": [e.low, e.high] if math.isfinite(e.half_width) else None}
        for key, e in summary.items()
    }


@app.command("compare")
@friendly
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Two or more scenario files.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML report.")] = Path(
        "report.html"
    ),
    replications: Replications = 20,
    seed: Seed = 1,
    workers: Workers = None,
) -> None:
    """Simulate several scenarios with the same seeds and write an HTML report with charts."""
    from allo.reports.simulation_report import render

    if len(scenarios) < 2:
        raise typer.BadParameter("give at least two scenario files", param_hint="SCENARIOS")
    sources: list[tuple[str, str]] = []
    for path in scenarios:
        text = path.read_text(encoding="utf-8")
        try:
            name = load_scenario(text).name
        except DomainError as error:
            raise DomainError(f"{path}: {error}") from None
        label = name if name not in dict(sources) else f"{name} ({path.name})"
        sources.append((label, text))
    jobs = len(sources) * replications
    runs = run_replications(sources, replications, seed, _workers(workers, jobs))
    summaries = {label: summarise(runs[label]) for label, _ in sources}
    console.print(_table(f"{replications} replications, seed {seed}", summaries))
    html = render(list(summaries), list(summaries.values()), replications, seed)
    output.write_text(html, encoding="utf-8")
    console.print(f"Report written to {output}")


@app.command("replay")
@friendly
def replay(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant slug.")],
    day: Annotated[str, typer.Option("--day", help="YYYY-MM-DD")],
    overflow_after: Annotated[
        float, typer.Option("--overflow-after", help="Seconds before every site may answer.")
    ],
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
    timezone: Annotated[str, typer.Option("--timezone")] = "Europe/Paris",
    seed: Seed = 1,
) -> None:
    """Replay a recorded day through another overflow timer and compare with what happened."""
    from allo.services.bus import EventBus
    from allo.services.replay import replay as replay_service
    from allo.settings import get_settings
    from allo.store.database import make_engine
    from allo.store.uow import Store

    try:
        the_day = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"{day!r} is not a date YYYY-MM-DD", param_hint="--day") from None
    url = database_url or get_settings().database_url
    engine = make_engine(url)
    try:
        report = replay_service(
            Store(engine, EventBus(), _utc_now), tenant, the_day, overflow_after, timezone, seed
        )
    finally:
        engine.dispose()
    table = Table(title=f"{tenant}, {the_day}: overflow to every site after {overflow_after:g} s")
    table.add_column("measure")
    for name in ("recorded", "replay, current policy", "replay, new policy"):
        table.add_column(name, justify="right")
    columns = (report.recorded, report.replayed_current, report.replayed_new)
    table.add_row("contacts", *(str(m.contacts) for m in columns))
    table.add_row("answered", *(str(m.answered) for m in columns))
    table.add_row("abandoned", *(str(m.abandoned) for m in columns))
    table.add_row("service level", *(f"{m.service_level:.1%}" for m in columns))
    table.add_row("ASA (s)", *(f"{m.asa:.1f}" for m in columns))
    table.add_row("abandon rate", *(f"{m.abandon_rate:.1%}" for m in columns))
    console.print(table)


def _utc_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
