"""`allo plan`: history CSV (+ optional JSON config) → forecast, staffing, shifts, report."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from time import perf_counter
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress

from allo.domain.errors import InvalidValue
from allo.planning.calendars import SiteCalendar, public_holidays
from allo.planning.erlang import StaffingTarget
from allo.planning.history import HistoryRow, SlotHistory, history_from_rows, rows_from_csv
from allo.planning.plan import QueuePlan, plan
from allo.planning.shifts import BreakRule, LanguagePolicy, PlanSite, ShiftTemplate
from allo.planning.staffing import QueueTarget

# Mount with `allo_app.add_typer(app)` (no name): its one command becomes `allo plan`.
app = typer.Typer(help="Workforce planning.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)
DbSource = tuple[str | None, str, list[str], int]  # database URL, tenant, queues, weeks


def read_history(path: Path) -> dict[str, list[HistoryRow]]:
    """Rows of queue,start,volume[,aht] per queue; row numbers count the header as row 1."""
    return rows_from_csv(path.read_text(encoding="utf-8"))


def _get(obj: dict[str, Any], key: str, where: str, default: Any = ...) -> Any:
    if key in obj:
        return obj[key]
    if default is ...:
        raise InvalidValue(f"{where}.{key}", "is required")
    return default


def _hhmm(text: str, where: str) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidValue(where, f"{text!r} is not a time HH:MM") from None


def _window(value: list[str] | None, where: str) -> tuple[time, time] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidValue(where, 'must be ["HH:MM", "HH:MM"]')
    return _hhmm(value[0], where), _hhmm(value[1], where)


def _site(index: int, raw: dict[str, Any]) -> PlanSite:
    where = f"sites[{index}]"
    calendar = SiteCalendar(
        country=_get(raw, "country", where),
        timezone=_get(raw, "timezone", where),
        subdiv=_get(raw, "subdiv", where, None),
        islamic_shift_days=int(_get(raw, "islamic_shift_days", where, 0)),
        ramadan_hours=_window(_get(raw, "ramadan_hours", where, None), f"{where}.ramadan_hours"),
        friday_prayer=_window(_get(raw, "friday_prayer", where, None), f"{where}.friday_prayer"),
    )
    return PlanSite(
        name=str(_get(raw, "name", where)),
        calendar=calendar,
        hourly_cost=float(_get(raw, "hourly_cost", where)),
        shrinkage=float(_get(raw, "shrinkage", where, 0.3)),
        queues=frozenset(_get(raw, "queues", where)),
        max_headcount=_get(raw, "max_headcount", where, None),
    )


def _template(index: int, raw: dict[str, Any]) -> ShiftTemplate:
    where = f"shifts[{index}]"
    breaks = tuple(
        BreakRule(
            int(b["minutes"]), int(b["earliest"]), int(b["latest"]), bool(b.get("paid", True))
        )
        for b in _get(raw, "breaks", where, [])
    )
    return ShiftTemplate(
        name=str(_get(raw, "name", where)),
        start=_hhmm(_get(raw, "start", where), f"{where}.start"),
        end=_hhmm(_get(raw, "end", where), f"{where}.end"),
        breaks=breaks,
        weekdays=frozenset(_get(raw, "weekdays", where, range(7))),
    )


def _queue_target(name: str, raw: dict[str, Any]) -> QueueTarget:
    where = f"queues.{name}"
    target = StaffingTarget(
        service_level=_get(raw, "service_level", where, 0.8),
        answer_within=float(_get(raw, "answer_within", where, 20)),
        max_asa=_get(raw, "max_asa", where, None),
        max_abandon=_get(raw, "max_abandon", where, None),
        max_occupancy=_get(raw, "max_occupancy", where, None),
    )
    return QueueTarget(target, _get(raw, "patience", where, None))


def _holidays(raw: dict[str, Any], name: str, years: list[int]) -> frozenset[date]:
    country = raw.get("holidays")
    if not country:
        return frozenset()
    tz = raw.get("timezone", "Europe/Paris")
    calendar = SiteCalendar(country, tz, subdiv=raw.get("subdiv"))
    return frozenset(public_holidays(calendar, years))


def read_history_from_db(
    database_url: str | None, tenant: str, queues: list[str], minutes: int, weeks: int
) -> dict[str, list[HistoryRow]]:
    """Per queue, one row per interval of the last ``weeks`` weeks of the tenant's contacts."""
    from allo.api.app import make_store
    from allo.services.accounts import tenant_by_slug
    from allo.services.planning import history_window, queue_by_name, queue_history_rows
    from allo.settings import get_settings

    if not queues:
        raise InvalidValue("--queue", "name at least one queue with --from-db")
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    store = make_store(settings)
    try:
        with store.unit_of_work() as uow:
            found = tenant_by_slug(uow, tenant)
            if found is None:
                raise InvalidValue("--tenant", f"no tenant {tenant!r}")
            first, end = history_window(uow.now(), "Europe/Paris", weeks)
            rows = {}
            for name in queues:
                queue = queue_by_name(uow, found.id, name)
                rows[name] = queue_history_rows(uow, found.id, queue, minutes, first, end)
    finally:
        store.engine.dispose()
    return rows


def _queues(
    rows: dict[str, list[HistoryRow]], config: dict[str, Any], minutes: int
) -> list[QueuePlan]:
    settings = config.get("queues", {})
    plans = []
    for name, queue_rows in rows.items():
        raw = settings.get(name, {})
        tz = raw.get("timezone", "Europe/Paris")
        history = history_from_rows(queue_rows, minutes, tz)
        years = sorted({history.first_day.year, history.day(history.days - 1).year + 1})
        plans.append(
            QueuePlan(name, history, tz, _queue_target(name, raw), _holidays(raw, name, years))
        )
    return plans


def _load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidValue("config", f"line {error.lineno}: {error.msg}") from None
    if not isinstance(data, dict):
        raise InvalidValue("config", "must be a JSON object")
    return data


def _run(
    source: Path | DbSource,
    config_path: Path | None,
    out: Path,
    days: int,
    minutes: int,
    time_limit: float,
) -> None:
    from allo.reports.planning_report import write_report, write_tables

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Reading", total=4)
        config = _load_config(config_path)
        if isinstance(source, Path):
            history = read_history(source)
        else:
            url, slug, names, weeks = source
            history = read_history_from_db(url, slug, names, minutes, weeks)
        queues = _queues(history, config, minutes)
        sites = [_site(i, raw) for i, raw in enumerate(config.get("sites", []))]
        templates = [_template(i, raw) for i, raw in enumerate(config.get("shifts", []))]
        policies = [
            LanguagePolicy(p["queue"], frozenset(p["countries"]), float(p["min_share"]))
            for p in config.get("policies", [])
        ]
        progress.update(task, advance=1, description="Forecasting and scheduling")
        result = plan(
            queues,
            days,
            sites=sites,
            templates=templates,
            policies=policies,
            time_limit=time_limit,
            stopwatch=perf_counter,
        )
        progress.update(task, advance=2, description="Writing report")
        histories: dict[str, SlotHistory] = {q.name: q.history for q in queues}
        written = [*write_tables(result, out), write_report(result, histories, out)]
        progress.update(task, advance=1)
    for path in written:
        typer.echo(f"Wrote {path}")
    if result.schedule is not None:
        typer.echo(f"Cost {result.schedule.cost:,.0f}, gap to LP bound {result.schedule.gap:.2%}")


@app.command("plan")
def plan_command(
    history: Path | None = typer.Argument(
        None, help="CSV with columns queue,start,volume[,aht] (or use --from-db)."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="JSON: queues, sites, shifts, policies."
    ),
    out: Path = typer.Option(
        Path("plan"), "--out", "-o", help="Folder for the report and CSV/JSON files."
    ),
    days: int = typer.Option(7, help="Days to forecast and schedule."),
    minutes: int = typer.Option(30, help="Interval length in minutes."),
    time_limit: float = typer.Option(60.0, help="Solver time limit in seconds."),
    from_db: bool = typer.Option(False, "--from-db", help="Read the history from the database."),
    tenant: str | None = typer.Option(None, help="Tenant slug (with --from-db)."),
    queue: list[str] = typer.Option([], help="Queue name (with --from-db; repeat for more)."),
    weeks: int = typer.Option(6, help="Weeks of history to read (with --from-db)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL (ALLO_DATABASE_URL)."
    ),
) -> None:
    """Forecast, size and schedule from a history file or the database."""
    try:
        source = _source(history, from_db, tenant, queue, weeks, database_url)
        if config is not None and not config.is_file():
            raise InvalidValue("config", f"{config} is not a file")
        _run(source, config, out, days, minutes, time_limit)
    except InvalidValue as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=2) from None
    except (KeyError, TypeError, ValueError) as error:
        typer.echo(f"Error: bad config value: {error}", err=True)
        raise typer.Exit(code=2) from None


def _source(
    history: Path | None,
    from_db: bool,
    tenant: str | None,
    queues: list[str],
    weeks: int,
    database_url: str | None,
) -> Path | DbSource:
    if from_db:
        if history is not None:
            raise InvalidValue("history", "give a CSV file or --from-db, not both")
        if not tenant:
            raise InvalidValue("--tenant", "is required with --from-db")
        return (database_url, tenant, list(queues), weeks)
    if history is None:
        raise InvalidValue("history", "give a CSV file, or --from-db --tenant SLUG --queue NAME")
    if not history.is_file():
        raise InvalidValue("history", f"{history} is not a file")
    return history
