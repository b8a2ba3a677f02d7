"""Workforce planning: Erlang calculator, plan runs, plans per interval, site calendars.

Planners, supervisors and admins (Permission.PLAN); advisers get 403.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import Strict
from allo.domain.errors import InvalidValue
from allo.planning.erlang import StaffingTarget
from allo.planning.history import HistoryRow, InvalidRow, rows_from_csv
from allo.planning.shifts import BreakRule, LanguagePolicy, ShiftTemplate
from allo.services import planning

router = api_router(prefix="/api/v1", tags=["planning"])
Share = Annotated[float, Field(gt=0, lt=1)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]


class ErlangIn(Strict):
    volume: Annotated[float, Field(ge=0, le=1_000_000)]
    aht: Seconds
    interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    service_level: Share = 0.8
    answer_within: Annotated[float, Field(ge=0, le=3600)] = 20
    patience: Seconds | None = None
    max_occupancy: Annotated[float, Field(gt=0, le=1)] | None = None


class QueueSpecIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    service_level: Share = 0.8
    answer_within: Annotated[float, Field(ge=0, le=3600)] = 20
    patience: Seconds | None = None
    max_occupancy: Annotated[float, Field(gt=0, le=1)] | None = None
    holidays: Annotated[str, Field(min_length=2, max_length=2)] | None = "FR"


class HistoryRowIn(Strict):
    queue: Annotated[str, Field(min_length=1, max_length=200)]
    start: datetime
    volume: float
    aht: float | None = None


class SiteSpecIn(Strict):
    site_id: int
    queues: Annotated[list[str], Field(min_length=1, max_length=50)]


class BreakIn(Strict):
    minutes: Annotated[int, Field(gt=0, le=240)]
    earliest: Annotated[int, Field(ge=0, le=1440)]
    latest: Annotated[int, Field(ge=0, le=1440)]
    paid: bool = False


class ShiftIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    start: time
    end: time
    breaks: Annotated[list[BreakIn], Field(max_length=4, default_factory=list)]
    weekdays: Annotated[
        list[Annotated[int, Field(ge=0, le=6)]],
        Field(min_length=1, default_factory=lambda: list(range(7))),
    ]


class PolicyIn(Strict):
    queue: str
    countries: Annotated[
        list[Annotated[str, Field(min_length=2, max_length=2)]], Field(min_length=1)
    ]
    min_share: Annotated[float, Field(ge=0, le=1)]


class PlanIn(Strict):
    """A plan run: history from the database (default) or the uploaded ``history`` rows."""

    queues: Annotated[list[QueueSpecIn], Field(min_length=1, max_length=50)]
    queue_timezone: Annotated[str, Field(min_length=1, max_length=64)] = "Europe/Paris"
    minutes: Annotated[int, Field(ge=15, le=60)] = 30
    days: Annotated[int, Field(ge=1, le=14)] = 7
    weeks: Annotated[int, Field(ge=2, le=26)] = 6
    history: Annotated[list[HistoryRowIn], Field(max_length=200_000)] | None = None
    # Or the same rows as CSV text: queue,start,volume[,aht] (row 1 is the header).
    history_csv: Annotated[str, Field(max_length=20_000_000)] | None = None
    sites: Annotated[list[SiteSpecIn], Field(max_length=50, default_factory=list)]
    shifts: Annotated[list[ShiftIn], Field(max_length=200, default_factory=list)]
    policies: Annotated[list[PolicyIn], Field(max_length=50, default_factory=list)]
    time_limit: Annotated[float, Field(ge=1, le=120)] = 20


class SitePlanningIn(Strict):
    shrinkage: Annotated[float, Field(ge=0, lt=1)] = 0.3
    subdiv: Annotated[str, Field(min_length=1, max_length=8)] | None = None
    islamic_shift_days: Annotated[int, Field(ge=-1, le=1)] = 0
    ramadan_hours: Annotated[list[time], Field(min_length=2, max_length=2)] | None = None
    friday_prayer: Annotated[list[time], Field(min_length=2, max_length=2)] | None = None
    holiday_overrides: dict[date, str | None] = Field(default_factory=dict)
    limits: dict[str, float] | None = None


def _at(field: str, action: Any) -> Any:
    """Run a constructor, prefixing the field it names with where it sits in the body."""
    try:
        return action()
    except InvalidValue as error:
        raise InvalidValue(f"{field}.{error.field}", error.message) from None


@router.post("/planning/erlang")
def erlang(body: ErlangIn, actor: Actor) -> dict[str, Any]:
    target = StaffingTarget(
        service_level=body.service_level,
        answer_within=body.answer_within,
        max_occupancy=body.max_occupancy,
    )
    return planning.erlang_calculator(
        actor,
        volume=body.volume,
        aht=body.aht,
        interval_minutes=body.interval_minutes,
        target=target,
        patience=body.patience,
    )


def plan_request(body: PlanIn) -> planning.PlanRequest:
    """The service's request from the body; row numbers of ``history`` count from 0."""
    if body.history is not None and body.history_csv is not None:
        raise InvalidValue("history_csv", "give history or history_csv, not both")
    history: tuple[tuple[str, HistoryRow], ...] = tuple(
        (row.queue, HistoryRow(i, row.start, row.volume, row.aht))
        for i, row in enumerate(body.history or [])
    )
    if body.history_csv is not None:
        parsed = rows_from_csv(body.history_csv)
        history = tuple((queue, row) for queue, rows in parsed.items() for row in rows)
    shifts = tuple(
        _at(
            f"shifts[{i}]",
            lambda s=s: ShiftTemplate(
                s.name,
                s.start,
                s.end,
                tuple(BreakRule(b.minutes, b.earliest, b.latest, b.paid) for b in s.breaks),
                frozenset(s.weekdays),
            ),
        )
        for i, s in enumerate(body.shifts)
    )
    policies = tuple(
        _at(
            f"policies[{i}]",
            lambda p=p: LanguagePolicy(p.queue, frozenset(p.countries), p.min_share),
        )
        for i, p in enumerate(body.policies)
    )
    return planning.PlanRequest(
        queues=tuple(planning.QueueSpec(**q.model_dump()) for q in body.queues),
        queue_timezone=body.queue_timezone,
        minutes=body.minutes,
        days=body.days,
        weeks=body.weeks,
        history=history,
        sites=tuple(planning.SiteSpec(s.site_id, tuple(s.queues)) for s in body.sites),
        shifts=shifts,
        policies=policies,
        time_limit=body.time_limit,
        parameters=body.model_dump(mode="json", exclude={"history", "history_csv"})
        | {"history_rows": len(history), "source": "upload" if history else "db"},
    )


def _history_field(body: PlanIn, error: InvalidRow) -> InvalidValue:
    """Name the bad row as the body has it: history[i].field, or history_csv row n."""
    field = error.field.split(", ")[-1]
    if body.history is not None:
        return InvalidValue(f"history[{error.row}].{field}", error.message)
    return InvalidValue(f"history_csv.row {error.row}.{field}", error.message)


@router.post("/plans", status_code=201)
def create_plan(body: PlanIn, uow: Uow, actor: Actor) -> dict[str, Any]:
    try:
        request = plan_request(body)
        row = planning.run_plan(uow, actor, request)
    except InvalidRow as error:
        if body.history is None and body.history_csv is None:
            raise
        raise _history_field(body, error) from None
    return planning.plan_summary(row)


@router.get("/plans")
def list_plans(
    uow: Uow,
    actor: Actor,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows, total = planning.list_plans(uow, actor, offset, limit)
    items = [planning.plan_summary(r) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/plans/{plan_id}")
def read_plan(plan_id: int, uow: Uow, actor: Actor) -> dict[str, Any]:
    row = planning.read_plan(uow, actor, plan_id)
    return planning.plan_summary(row) | {"result": row.result}


@router.get("/plans/{plan_id}/intervals")
def plan_intervals(plan_id: int, uow: Uow, actor: Actor) -> dict[str, Any]:
    row = planning.read_plan(uow, actor, plan_id)
    return {
        "plan_id": row.id,
        "queue_timezone": row.result["queue_timezone"],
        "site_timezones": row.result["site_timezones"],
        "intervals": planning.plan_intervals(row),
    }


@router.get("/sites/{site_id}/calendar")
def site_calendar(
    site_id: int,
    uow: Uow,
    actor: Actor,
    year: Annotated[int, Query(ge=1970, le=2100)] = 2026,
) -> dict[str, Any]:
    return planning.calendar_view(uow, actor, site_id, year)


@router.put("/sites/{site_id}/planning")
def update_site_planning(
    site_id: int, body: SitePlanningIn, uow: Uow, actor: Actor
) -> dict[str, Any]:
    settings = body.model_dump(mode="json", exclude_none=True)
    row = planning.update_site_planning(uow, actor, site_id, settings)
    return {"site_id": row.id, "planning": row.planning}
