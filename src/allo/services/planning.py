"""Planning use cases: queue history from the contacts table, site calendars, stored plans.

The maths is in ``allo.planning`` (pure); this module reads the database, turns rows into
the planning inputs, runs ``plan(...)`` and stores the result with a ``plan.created`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any

import numpy as np
from sqlalchemy import select

from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission
from allo.planning.calendars import (
    SUPPORTED_COUNTRIES,
    LegalLimits,
    SiteCalendar,
    legal_limits,
    public_holidays,
    ramadan,
    zone,
)
from allo.planning.erlang import (
    StaffingTarget,
    erlang_a,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    load_erlangs,
    occupancy,
    required_agents,
)
from allo.planning.history import HistoryRow, SlotHistory, history_from_rows
from allo.planning.plan import PlanResult, QueuePlan, plan
from allo.planning.shifts import BreakRule, LanguagePolicy, PlanSite, ShiftTemplate
from allo.planning.staffing import QueueTarget
from allo.services import queues as queue_service
from allo.services.common import check_page
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant, list_for_tenant
from allo.store.tables import ContactRow, PlanRow, QueueRow, SiteRow
from allo.store.uow import UnitOfWork

DEFAULT_SHRINKAGE = 0.3


# ---------------------------------------------------------------- Erlang calculator


def erlang_calculator(
    actor: Principal,
    *,
    volume: float,
    aht: float,
    interval_minutes: int,
    target: StaffingTarget,
    patience: float | None = None,
) -> dict[str, Any]:
    """Advisers needed for one interval, and what that staffing achieves (C, and A if patience)."""
    actor.require(Permission.PLAN)
    if interval_minutes <= 0 or 1440 % interval_minutes:
        raise InvalidValue("interval_minutes", "must divide a day (15, 30, 60...)")
    load = float(load_erlangs(volume, aht, interval_minutes * 60))
    agents = int(required_agents(load, aht, target)[0])
    t = target.answer_within
    result: dict[str, Any] = {
        "load_erlangs": load,
        "erlang_c": {
            "agents": agents,
            "probability_wait": float(erlang_c(agents, load)),
            "service_level": float(erlang_c_service_level(agents, load, aht, t)),
            "asa_seconds": float(erlang_c_asa(agents, load, aht)) if agents > load else None,
            "occupancy": float(occupancy(agents, load)),
        },
        "erlang_a": None,
    }
    if patience is not None:
        if patience <= 0:
            raise InvalidValue("patience", "must be a positive number of seconds")
        n = int(required_agents(load, aht, target, patience)[0])
        measures = erlang_a(n, load, aht, patience, t)
        result["erlang_a"] = {
            "agents": n,
            "probability_wait": float(measures.p_wait),
            "probability_abandon": float(measures.p_abandon),
            "service_level": float(measures.service_level),
            "asa_seconds": float(measures.asa),
            "occupancy": float(occupancy(n, load * (1 - float(measures.p_abandon)))),
        }
    return result


# ---------------------------------------------------------------- site calendars


def _hhmm(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(where, f"{value!r} is not a time HH:MM") from None


def _window(value: Any, where: str) -> tuple[time, time] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidValue(where, 'must be ["HH:MM", "HH:MM"]')
    return _hhmm(value[0], where), _hhmm(value[1], where)


def _overrides(value: Any) -> dict[date, str | None]:
    out: dict[date, str | None] = {}
    for key, name in dict(value or {}).items():
        try:
            out[date.fromisoformat(str(key))] = None if name is None else str(name)
        except ValueError:
            raise InvalidValue(f"holiday_overrides.{key}", "is not a date YYYY-MM-DD") from None
    return out


def _limits(country: str, value: Any) -> LegalLimits | None:
    if not value:
        return None
    base = legal_limits(country)
    raw = dict(value)
    return LegalLimits(
        float(raw.get("max_day_hours", base.max_day_hours)),
        float(raw.get("max_week_hours", base.max_week_hours)),
        int(raw.get("max_days_per_week", base.max_days_per_week)),
    )


def site_calendar(row: SiteRow) -> SiteCalendar:
    """The site's calendar from its country, zone and planning settings (validated)."""
    if row.country not in SUPPORTED_COUNTRIES:
        known = ", ".join(SUPPORTED_COUNTRIES)
        raise InvalidValue(f"site {row.name}.country", f"{row.country!r} is not one of {known}")
    zone(row.timezone, f"site {row.name}.timezone")
    settings = row.planning or {}
    return SiteCalendar(
        country=row.country,
        timezone=row.timezone,
        subdiv=settings.get("subdiv"),
        islamic_shift_days=int(settings.get("islamic_shift_days", 0)),
        ramadan_hours=_window(settings.get("ramadan_hours"), "ramadan_hours"),
        friday_prayer=_window(settings.get("friday_prayer"), "friday_prayer"),
        holiday_overrides=_overrides(settings.get("holiday_overrides")),
        limits=_limits(row.country, settings.get("limits")),
    )


def site_shrinkage(row: SiteRow) -> float:
    return float((row.planning or {}).get("shrinkage", DEFAULT_SHRINKAGE))


def update_site_planning(
    uow: UnitOfWork, actor: Principal, site_id: int, settings: dict[str, Any]
) -> SiteRow:
    """Replace a site's planning settings after checking they make a valid calendar."""
    actor.require(Permission.PLAN)
    row = get_for_tenant(uow.session, SiteRow, actor.tenant_id, site_id)
    shrinkage = settings.get("shrinkage", DEFAULT_SHRINKAGE)
    if not 0 <= float(shrinkage) < 1:
        raise InvalidValue("shrinkage", "must be a share in [0, 1)")
    previous = row.planning
    row.planning = dict(settings)
    try:
        site_calendar(row)
    except InvalidValue:
        row.planning = previous
        raise
    row.updated_at = uow.now()
    uow.record("site.planning_updated", actor.tenant_id, "site", row.id, {"keys": sorted(settings)})
    uow.commit()
    return row


def calendar_view(uow: UnitOfWork, actor: Principal, site_id: int, year: int) -> dict[str, Any]:
    """Holidays, Ramadan window and hours, prayer break and legal limits of a site for a year."""
    actor.require(Permission.PLAN)
    if not 1970 <= year <= 2100:
        raise InvalidValue("year", "must be between 1970 and 2100")
    row = get_for_tenant(uow.session, SiteRow, actor.tenant_id, site_id)
    calendar = site_calendar(row)
    limits = calendar.legal_limits
    days_off = public_holidays(calendar, [year])
    periods = (
        ramadan(year, calendar.islamic_shift_days) if row.country in {"MA", "TN", "SN"} else []
    )
    noon = [datetime(year, m, 15, 12, tzinfo=calendar.zone) for m in (1, 7)]
    return {
        "site_id": row.id,
        "site": row.name,
        "country": row.country,
        "timezone": row.timezone,
        "utc_offsets": {
            "january": _offset(noon[0]),
            "july": _offset(noon[1]),
            **{
                f"ramadan_{i}": _offset(_midday(first, calendar))
                for i, (first, _) in enumerate(periods)
            },
        },
        "shrinkage": site_shrinkage(row),
        "holidays": [{"date": d.isoformat(), "name": n} for d, n in sorted(days_off.items())],
        "ramadan": [{"first": f.isoformat(), "last": last.isoformat()} for f, last in periods],
        "ramadan_hours": _times(calendar.ramadan_hours),
        "friday_prayer": _times(calendar.friday_prayer),
        "islamic_shift_days": calendar.islamic_shift_days,
        "legal_limits": {
            "max_day_hours": limits.max_day_hours,
            "max_week_hours": limits.max_week_hours,
            "max_days_per_week": limits.max_days_per_week,
        },
    }


def _midday(day: date, calendar: SiteCalendar) -> datetime:
    return datetime.combine(day + timedelta(days=5), time(12), tzinfo=calendar.zone)


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _times(window: tuple[time, time] | None) -> list[str] | None:
    return None if window is None else [w.strftime("%H:%M") for w in window]


# ---------------------------------------------------------------- history from the database


def queue_history_rows(
    uow: UnitOfWork, tenant_id: int, queue: QueueRow, minutes: int, first: datetime, end: datetime
) -> list[HistoryRow]:
    """One row per interval in [first, end): contacts created, and AHT of those handled.

    Handling time is ``ended_at - answered_at`` (talk and wrap-up) of contacts answered;
    intervals without contacts count as 0 so that closed hours are not holes. Only calls
    (voice and callbacks) count: Erlang staffing is for one contact at a time, and chats and
    emails share an adviser's time differently.
    """
    query = select(ContactRow.created_at, ContactRow.answered_at, ContactRow.ended_at).where(
        ContactRow.tenant_id == tenant_id,
        ContactRow.queue_id == queue.id,
        ContactRow.channel.in_(("voice", "callback")),
        ContactRow.created_at >= first,
        ContactRow.created_at < end,
    )
    found = uow.session.execute(query).all()
    count = int((end - first).total_seconds() // (minutes * 60))
    volume = np.zeros(count)
    handled = np.zeros(count)
    seconds = np.zeros(count)
    step = minutes * 60
    hours = queue_service.to_domain(queue).opening_hours
    for created, answered, ended in found:
        slot = int((created - first).total_seconds() // step)
        if not hours.is_open(first + timedelta(seconds=step * slot)):
            continue  # a closed queue needs nobody, whatever slipped in (imports, tests)
        volume[slot] += 1
        if answered is not None and ended is not None and ended > answered:
            handled[slot] += 1
            seconds[slot] += (ended - answered).total_seconds()
    return [
        HistoryRow(
            i + 1,
            first + timedelta(seconds=step * i),
            float(volume[i]),
            float(seconds[i] / handled[i]) if handled[i] else None,
        )
        for i in range(count)
    ]


def history_window(now: datetime, queue_tz: str, weeks: int) -> tuple[datetime, datetime]:
    """Whole local days: from ``weeks`` weeks before today (queue's zone) to today 00:00."""
    where = zone(queue_tz, "queue_timezone")
    today = now.astimezone(where).date()
    end = datetime.combine(today, time(0), tzinfo=where).astimezone(UTC)
    start = datetime.combine(today - timedelta(weeks=weeks), time(0), tzinfo=where)
    return start.astimezone(UTC), end


def queue_by_name(uow: UnitOfWork, tenant_id: int, name: str) -> QueueRow:
    row = uow.session.scalar(
        select(QueueRow).where(QueueRow.tenant_id == tenant_id, QueueRow.name == name)
    )
    if row is None:
        raise InvalidValue("queue", f"no queue named {name!r} in this tenant")
    return row


# ---------------------------------------------------------------- plan runs


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    service_level: float = 0.8
    answer_within: float = 20.0
    patience: float | None = None
    max_occupancy: float | None = None
    holidays: str | None = "FR"  # the country whose holidays shape the forecast


@dataclass(frozen=True, slots=True)
class SiteSpec:
    site_id: int
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What a plan run needs; ``history`` rows replace the database when given."""

    queues: tuple[QueueSpec, ...]
    queue_timezone: str = "Europe/Paris"
    minutes: int = 30
    days: int = 7
    weeks: int = 6
    history: tuple[tuple[str, HistoryRow], ...] = ()
    sites: tuple[SiteSpec, ...] = ()
    shifts: tuple[ShiftTemplate, ...] = ()
    policies: tuple[LanguagePolicy, ...] = ()
    time_limit: float = 20.0
    parameters: dict[str, Any] = field(default_factory=dict)


def default_shifts() -> tuple[ShiftTemplate, ...]:
    """8-hour shifts starting every hour from 06:00 to 14:00, with an unpaid 30-min break."""
    return tuple(
        ShiftTemplate(f"{h:02d}h", time(h), time(h + 8), (BreakRule(30, 180, 300, paid=False),))
        for h in range(6, 15)
    )


def _queue_plans(uow: UnitOfWork, actor: Principal, request: PlanRequest) -> list[QueuePlan]:
    uploaded: dict[str, list[HistoryRow]] = {}
    for name, row in request.history:
        uploaded.setdefault(name, []).append(row)
    unknown = set(uploaded) - {q.name for q in request.queues}
    if unknown:
        raise InvalidValue("history.queue", f"{sorted(unknown)[0]!r} is not a planned queue")
    plans = []
    for index, spec in enumerate(request.queues):
        if request.history:
            rows = uploaded.get(spec.name)
            if not rows:
                raise InvalidValue(f"queues[{index}].name", f"no history rows for {spec.name!r}")
        else:
            queue = queue_by_name(uow, actor.tenant_id, spec.name)
            first, end = history_window(uow.now(), request.queue_timezone, request.weeks)
            rows = queue_history_rows(uow, actor.tenant_id, queue, request.minutes, first, end)
            if not any(r.volume for r in rows):
                raise InvalidValue(
                    f"queues[{index}].name", f"queue {spec.name!r} has no contacts to learn from"
                )
        history = history_from_rows(rows, request.minutes, request.queue_timezone)
        plans.append(_queue_plan(spec, history, request.queue_timezone, index))
    return plans


def _queue_plan(spec: QueueSpec, history: SlotHistory, tz: str, index: int) -> QueuePlan:
    where = f"queues[{index}]"
    try:
        target = StaffingTarget(
            service_level=spec.service_level,
            answer_within=spec.answer_within,
            max_occupancy=spec.max_occupancy,
        )
        queue_target = QueueTarget(target, spec.patience)
    except InvalidValue as error:
        raise InvalidValue(f"{where}.{error.field}", error.message) from None
    days: frozenset[date] = frozenset()
    if spec.holidays:
        if spec.holidays not in SUPPORTED_COUNTRIES:
            raise InvalidValue(f"{where}.holidays", f"{spec.holidays!r} is not a known country")
        years = [history.first_day.year, history.day(history.days - 1).year + 1]
        days = frozenset(public_holidays(SiteCalendar(spec.holidays, tz), years))
    return QueuePlan(spec.name, history, tz, queue_target, days)


def _plan_sites(uow: UnitOfWork, actor: Principal, request: PlanRequest) -> list[PlanSite]:
    names = {q.name for q in request.queues}
    out = []
    for index, spec in enumerate(request.sites):
        row = get_for_tenant(uow.session, SiteRow, actor.tenant_id, spec.site_id)
        unknown = set(spec.queues) - names
        if unknown:
            raise InvalidValue(f"sites[{index}].queues", f"{sorted(unknown)[0]!r} is not planned")
        out.append(
            PlanSite(
                row.name,
                site_calendar(row),
                row.hourly_cost,
                site_shrinkage(row),
                frozenset(spec.queues),
            )
        )
    return out


def run_plan(uow: UnitOfWork, actor: Principal, request: PlanRequest) -> PlanRow:
    """Forecast, size and (when sites are given) schedule; store the plan, record the event."""
    actor.require(Permission.PLAN)
    if not request.queues:
        raise InvalidValue("queues", "give at least one queue")
    zone(request.queue_timezone, "queue_timezone")
    queue_plans = _queue_plans(uow, actor, request)
    sites = _plan_sites(uow, actor, request)
    result = plan(
        queue_plans,
        request.days,
        sites=sites,
        templates=request.shifts or default_shifts(),
        policies=request.policies,
        time_limit=request.time_limit,
        stopwatch=perf_counter,
    )
    timezones = {s.name: s.calendar.timezone for s in sites}
    histories = {q.name: q.history for q in queue_plans}
    row = PlanRow(
        tenant_id=actor.tenant_id,
        created_at=uow.now(),
        created_by=actor.user_id,
        parameters=request.parameters,
        result=result_json(result, histories, request.queue_timezone, timezones),
    )
    uow.session.add(row)
    uow.session.flush()
    summary = {"queues": [q.name for q in request.queues], "cost": row.result.get("cost")}
    uow.record("plan.created", actor.tenant_id, "plan", row.id, summary)
    uow.commit()
    return row


def _series(values: Any) -> list[float]:
    return [round(float(v), 3) for v in np.nan_to_num(np.asarray(values, dtype=np.float64))]


def result_json(
    result: PlanResult,
    histories: dict[str, SlotHistory],
    queue_tz: str,
    site_timezones: dict[str, str],
) -> dict[str, Any]:
    """The stored result: a summary, then per-interval series for the planner's tables."""
    queues = {}
    for name, fc in result.forecasts.items():
        queues[name] = {
            "method": fc.method,
            "validation_wape": fc.validation_wape.get(fc.method),
            "volume": _series(result.volumes[name]),
            "required": _series(result.requirements[name]),
            "history": _series(histories[name].volume[-14:].ravel()),
        }
    out: dict[str, Any] = {
        "start": result.timeline.start.astimezone(UTC).isoformat(),
        "count": result.timeline.count,
        "minutes": result.timeline.minutes,
        "queue_timezone": queue_tz,
        "site_timezones": site_timezones,
        "queues": queues,
        "cost": None,
        "schedule": None,
    }
    sch = result.schedule
    if sch is not None:
        out["cost"] = sch.cost
        out["schedule"] = {
            "status": sch.status,
            "cost": sch.cost,
            "lp_bound": sch.lp_bound,
            "bound": sch.bound,
            "gap": sch.gap,
            "lp_gap": sch.lp_gap,
            "solve_seconds": sch.solve_seconds,
            "cost_by_site": sch.cost_by_site,
            "headcount": sch.headcount,
            "policy_shares": sch.policy_shares,
            "coverage": {site: _series(v) for site, v in sch.coverage.items()},
            "shifts": [
                {
                    "site": s.site,
                    "template": s.template,
                    "start": s.start.isoformat(),
                    "advisers": s.advisers,
                    "paid_hours": s.paid_hours,
                    "cost": s.cost,
                }
                for s in sch.shifts
            ],
        }
    return out


def read_plan(uow: UnitOfWork, actor: Principal, plan_id: int) -> PlanRow:
    actor.require(Permission.PLAN)
    return get_for_tenant(uow.session, PlanRow, actor.tenant_id, plan_id)


def list_plans(
    uow: UnitOfWork, actor: Principal, offset: int, limit: int
) -> tuple[list[PlanRow], int]:
    actor.require(Permission.PLAN)
    check_page(offset, limit)
    return list_for_tenant(uow.session, PlanRow, actor.tenant_id, offset=offset, limit=limit)


def plan_summary(row: PlanRow) -> dict[str, Any]:
    result = row.result
    schedule = result.get("schedule") or {}
    return {
        "id": row.id,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "parameters": row.parameters,
        "start": result.get("start"),
        "count": result.get("count"),
        "minutes": result.get("minutes"),
        "queue_timezone": result.get("queue_timezone"),
        "queues": {
            name: {"method": q["method"], "validation_wape": q["validation_wape"]}
            for name, q in result.get("queues", {}).items()
        },
        "cost": result.get("cost"),
        "schedule": {k: v for k, v in schedule.items() if k not in ("coverage", "shifts")} or None,
    }


def plan_intervals(row: PlanRow) -> list[dict[str, Any]]:
    """Each interval: its start in the queue's zone and every site's, required vs scheduled."""
    result = row.result
    start = datetime.fromisoformat(result["start"])
    step = timedelta(minutes=int(result["minutes"]))
    queue_zone = zone(result["queue_timezone"])
    sites = {name: zone(tz) for name, tz in result["site_timezones"].items()}
    coverage = (result.get("schedule") or {}).get("coverage", {})
    out = []
    for i in range(int(result["count"])):
        moment = start + step * i
        out.append(
            {
                "index": i,
                "start_utc": moment.isoformat(),
                "queue_time": _clock(moment.astimezone(queue_zone)),
                "site_time": {n: _clock(moment.astimezone(z)) for n, z in sites.items()},
                "forecast": {n: q["volume"][i] for n, q in result["queues"].items()},
                "required": {n: q["required"][i] for n, q in result["queues"].items()},
                "scheduled": {n: values[i] for n, values in coverage.items()},
            }
        )
    return out


def _clock(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def all_sites(uow: UnitOfWork, actor: Principal) -> Sequence[SiteRow]:
    actor.require(Permission.PLAN)
    rows, _ = list_for_tenant(uow.session, SiteRow, actor.tenant_id, limit=500)
    return rows


def all_queues(uow: UnitOfWork, actor: Principal) -> Sequence[QueueRow]:
    actor.require(Permission.PLAN)
    rows, _ = list_for_tenant(uow.session, QueueRow, actor.tenant_id, limit=500)
    return rows
