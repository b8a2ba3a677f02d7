"""The planner page: Erlang calculator, plan runs from the database, charts and interval table.

Session login (cookie); the plan form carries the session's CSRF token. Every text goes
through ``t()``; charts are inline SVG drawn on the server.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from allo.api.deps import SESSION_COOKIE, Lang, Uow, api_router
from allo.api.routes_planning import ErlangIn
from allo.api.web import render
from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, can
from allo.i18n import t
from allo.planning.erlang import StaffingTarget, erlang_c_service_level
from allo.planning.shifts import LanguagePolicy
from allo.reports.svg import bar_chart, line_chart
from allo.services import accounts, planning
from allo.services.errors import Unauthenticated
from allo.services.principal import Principal
from allo.store.uow import UnitOfWork

router = api_router(include_in_schema=False)
SHOWN_INTERVALS = 96


def _planner(request: Request, uow: UnitOfWork) -> tuple[Principal, str] | None:
    """The principal and CSRF token of the session, or None when not logged in."""
    try:
        user, session = accounts.session_user(uow, request.cookies.get(SESSION_COOKIE) or "")
    except Unauthenticated:
        return None
    return accounts.principal_for(uow, user), session.csrf_token


def _erlang(params: dict[str, str], lang: str) -> tuple[dict[str, Any] | None, list[str], str]:
    """Result, errors and chart of the calculator for the query's fields (none: no result)."""
    if "volume" not in params:
        return None, [], ""
    fields = {k: v for k, v in params.items() if k in ErlangIn.model_fields and v != ""}
    try:
        body = ErlangIn.model_validate(fields)
    except ValidationError as error:
        errors = [
            t("error.invalid", lang, field=".".join(map(str, e["loc"])), message=e["msg"])
            for e in error.errors()
        ]
        return None, errors, ""
    return body.model_dump(), [], _sl_chart(body, lang)


def _sl_chart(body: ErlangIn, lang: str) -> str:
    load = body.volume * body.aht / (body.interval_minutes * 60)
    low = int(load) + 1
    agents = list(range(low, low + 12))
    levels = [
        100 * float(erlang_c_service_level(n, load, body.aht, body.answer_within)) for n in agents
    ]
    target = [100 * body.service_level] * len(agents)
    label = t("planner.chart.sl", lang, first=agents[0], last=agents[-1])
    return line_chart({t("planner.sl", lang): levels, t("planner.target", lang): target}, label)


@router.get("/planner")
def planner_page(request: Request, uow: Uow, lang: Lang) -> Response:
    found = _planner(request, uow)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    actor, csrf = found
    if not can(actor.role, Permission.PLAN):
        return render(request, "forbidden.html", lang, 403)
    params = dict(request.query_params)
    erlang_input, errors, sl_chart = _erlang(params, lang)
    result = None
    if erlang_input is not None:
        try:
            target = StaffingTarget(erlang_input["service_level"], erlang_input["answer_within"])
            result = planning.erlang_calculator(
                actor,
                volume=erlang_input["volume"],
                aht=erlang_input["aht"],
                interval_minutes=erlang_input["interval_minutes"],
                target=target,
                patience=erlang_input["patience"],
            )
        except InvalidValue as error:
            errors.append(t("error.invalid", lang, field=error.field, message=error.message))
            sl_chart = ""
    context: dict[str, Any] = {
        "csrf": csrf,
        "form": params,
        "erlang": result,
        "errors": errors,
        "sl_chart": sl_chart,
        "queues": planning.all_queues(uow, actor),
        "plan_error": params.get("plan_error"),
        "nav_role": actor.role,
    }
    context.update(_plan_context(uow, actor, params.get("plan"), lang))
    return render(request, "planner.html", lang, **context)


def _plan_context(
    uow: UnitOfWork, actor: Principal, plan_id: str | None, lang: str
) -> dict[str, Any]:
    rows, _ = planning.list_plans(uow, actor, 0, 500)
    if not rows:
        return {"plan": None, "plans": []}
    row = rows[-1]
    if plan_id and plan_id.isdigit():
        row = planning.read_plan(uow, actor, int(plan_id))
    result = row.result
    history = {
        t("planner.history", lang, queue=n): q["history"][-7 * 48 :]
        for n, q in result["queues"].items()
    }
    forecast = {
        t("planner.forecast", lang, queue=n): q["volume"] for n, q in result["queues"].items()
    }
    charts = [
        (
            t("planner.chart.forecast", lang),
            line_chart({**history, **forecast}, t("planner.chart.forecast", lang)),
        )
    ]
    schedule = result.get("schedule")
    if schedule:
        required = [
            sum(v) for v in zip(*(q["required"] for q in result["queues"].values()), strict=True)
        ]
        series = {t("planner.required", lang): required}
        series.update(
            {t("planner.scheduled", lang, site=s): v for s, v in schedule["coverage"].items()}
        )
        charts.append(
            (
                t("planner.chart.coverage", lang),
                line_chart(series, t("planner.chart.coverage", lang), step=True),
            )
        )
        charts.append(
            (
                t("planner.chart.cost", lang),
                bar_chart(schedule["cost_by_site"], t("planner.chart.cost", lang)),
            )
        )
    intervals = [
        r for r in planning.plan_intervals(row) if any(v > 0 for v in r["required"].values())
    ][:SHOWN_INTERVALS]
    return {
        "plan": planning.plan_summary(row),
        "plans": [planning.plan_summary(r) for r in rows[::-1]][:20],
        "charts": charts,
        "intervals": intervals,
        "site_names": list(result["site_timezones"]),
        "queue_names": list(result["queues"]),
    }


@router.post("/planner/plans")
def planner_run(
    request: Request,
    uow: Uow,
    lang: Lang,
    csrf_token: Annotated[str, Form(max_length=100)],
    queue: Annotated[str, Form(max_length=200)],
    days: Annotated[int, Form(ge=1, le=14)] = 7,
    fr_share: Annotated[float, Form(ge=0, le=1)] = 0.0,
) -> Response:
    found = _planner(request, uow)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    actor, csrf = found
    if not secrets.compare_digest(csrf, csrf_token):
        return render(request, "forbidden.html", lang, 403)
    if not can(actor.role, Permission.PLAN):
        return render(request, "forbidden.html", lang, 403)
    sites = planning.all_sites(uow, actor)
    policies: tuple[LanguagePolicy, ...] = ()
    if fr_share > 0:
        policies = (LanguagePolicy(queue, frozenset({"FR"}), fr_share),)
    request_ = planning.PlanRequest(
        queues=(planning.QueueSpec(queue),),
        days=days,
        sites=tuple(planning.SiteSpec(s.id, (queue,)) for s in sites),
        policies=policies,
        time_limit=15,
        parameters={
            "source": "db",
            "queue": queue,
            "days": days,
            "fr_share": fr_share,
            "page": True,
        },
    )
    try:
        row = planning.run_plan(uow, actor, request_)
    except InvalidValue as error:
        message = t("error.invalid", lang, field=error.field, message=error.message)
        return RedirectResponse(f"/planner?plan_error={_quote(message)}", status_code=303)
    return RedirectResponse(f"/planner?plan={row.id}", status_code=303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
