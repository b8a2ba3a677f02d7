"""Write a plan as CSV, JSON and an HTML report with charts (matplotlib, PNG embedded)."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: reports are written by servers and CLIs
import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment

from allo.planning.history import SlotHistory
from allo.planning.plan import PlanResult

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allo plan</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}</style></head>
<body><h1>Workforce plan</h1>
<p>{{ start }} — {{ count }} intervals of {{ minutes }} min.</p>
<h2>Forecast</h2>
<table><tr><th>queue</th><th>method</th><th>validation WAPE</th><th>contacts</th></tr>
{% for q in queues %}<tr><td>{{ q.name }}</td><td>{{ q.method }}</td><td>{{ q.wape }}</td>
<td>{{ q.volume }}</td></tr>{% endfor %}</table>
{% for name, png in charts %}<h2>{{ name }}</h2>
<img alt="{{ name }}" src="data:image/png;base64,{{ png }}">{% endfor %}
{% if schedule %}<h2>Schedule</h2>
<p>Status {{ schedule.status }}; cost {{ schedule.cost }}; LP bound {{ schedule.lp_bound }};
gap {{ schedule.gap }}; solved in {{ schedule.seconds }} s.</p>
<table><tr><th>site</th><th>cost</th><th>headcount</th></tr>
{% for site in schedule.sites %}<tr><td>{{ site.name }}</td><td>{{ site.cost }}</td>
<td>{{ site.headcount }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _forecast_chart(result: PlanResult, histories: dict[str, SlotHistory]) -> str:
    figure, axis = plt.subplots(figsize=(11, 3.5))
    for name, fc in result.forecasts.items():
        history = histories[name]
        past = np.nan_to_num(history.volume[-14:]).ravel()
        axis.plot(np.arange(-past.size, 0), past, label=f"{name} history", linewidth=0.8)
        axis.plot(
            np.arange(fc.volume.size), fc.volume.ravel(), label=f"{name} forecast", linewidth=0.8
        )
    axis.set_xlabel("slot (0 = first forecast slot)")
    axis.set_ylabel("contacts")
    axis.legend(fontsize=7)
    return _png(figure)


def _coverage_chart(result: PlanResult) -> str:
    assert result.schedule is not None
    figure, axis = plt.subplots(figsize=(11, 3.5))
    x = np.arange(result.timeline.count)
    stack = np.array(list(result.schedule.coverage.values()))
    axis.stackplot(x, stack, labels=list(result.schedule.coverage), alpha=0.7, step="post")
    need = sum(result.requirements.values(), start=np.zeros(result.timeline.count))
    axis.step(x, need, where="post", color="black", linewidth=0.8, label="required")
    axis.set_ylabel("productive advisers")
    axis.legend(fontsize=7)
    return _png(figure)


def _cost_chart(result: PlanResult) -> str:
    assert result.schedule is not None
    figure, axis = plt.subplots(figsize=(5, 3))
    sites = result.schedule.cost_by_site
    axis.bar(list(sites), list(sites.values()))
    axis.set_ylabel("cost per week")
    return _png(figure)


def write_tables(result: PlanResult, out: Path) -> list[Path]:
    """staffing.csv (per interval and queue), shifts.csv and plan.json."""
    out.mkdir(parents=True, exist_ok=True)
    staffing = out / "staffing.csv"
    with staffing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_utc", "queue", "forecast_contacts", "required_advisers"])
        for i in range(result.timeline.count):
            moment = result.timeline.instant(i).isoformat()
            for queue, need in result.requirements.items():
                writer.writerow([moment, queue, f"{result.volumes[queue][i]:.2f}", int(need[i])])
    written = [staffing]
    summary: dict[str, Any] = {
        "start": result.timeline.start.isoformat(),
        "intervals": result.timeline.count,
        "minutes": result.timeline.minutes,
        "forecast": {
            n: {"method": f.method, "validation_wape": f.validation_wape}
            for n, f in result.forecasts.items()
        },
    }
    if result.schedule is not None:
        shifts = out / "shifts.csv"
        with shifts.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["site", "template", "day", "start_local", "advisers", "paid_hours", "cost"]
            )
            for s in result.schedule.shifts:
                writer.writerow(
                    [
                        s.site,
                        s.template,
                        s.day,
                        s.start.isoformat(),
                        s.advisers,
                        s.paid_hours,
                        s.cost,
                    ]
                )
        written.append(shifts)
        sch = result.schedule
        summary["schedule"] = {
            "status": sch.status,
            "cost": sch.cost,
            "lp_bound": sch.lp_bound,
            "gap": sch.gap,
            "solve_seconds": sch.solve_seconds,
            "cost_by_site": sch.cost_by_site,
            "headcount": sch.headcount,
            "policy_shares": sch.policy_shares,
        }
    plan_json = out / "plan.json"
    plan_json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return [*written, plan_json]


def write_report(result: PlanResult, histories: dict[str, SlotHistory], out: Path) -> Path:
    """report.html with the forecast against history, required against scheduled, cost per site."""
    out.mkdir(parents=True, exist_ok=True)
    charts = [("Forecast against history", _forecast_chart(result, histories))]
    context: dict[str, Any] = {"schedule": None}
    if result.schedule is not None:
        charts.append(("Required against scheduled, per site", _coverage_chart(result)))
        charts.append(("Cost per site", _cost_chart(result)))
        sch = result.schedule
        context["schedule"] = {
            "status": sch.status,
            "cost": f"{sch.cost:,.0f}",
            "lp_bound": f"{sch.lp_bound:,.0f}",
            "gap": f"{sch.gap:.2%}",
            "seconds": f"{sch.solve_seconds:.1f}",
            "sites": [
                {"name": n, "cost": f"{c:,.0f}", "headcount": sch.headcount[n]}
                for n, c in sch.cost_by_site.items()
            ],
        }
    queues = [
        {
            "name": n,
            "method": f.method,
            "wape": f"{f.validation_wape[f.method]:.1%}",
            "volume": f"{float(f.volume.sum()):,.0f}",
        }
        for n, f in result.forecasts.items()
    ]
    html = (
        Environment(autoescape=True)
        .from_string(TEMPLATE)
        .render(
            start=result.timeline.start.isoformat(),
            count=result.timeline.count,
            minutes=result.timeline.minutes,
            queues=queues,
            charts=charts,
            **context,
        )
    )
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
