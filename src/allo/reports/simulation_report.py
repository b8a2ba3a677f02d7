"""HTML comparison of simulated scenarios: a table with 95 % CIs and bar charts (matplotlib)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display: reports are written by CLIs
import matplotlib.pyplot as plt
from jinja2 import Environment

from allo.simulation.results import Estimate

# metric, label, format (applied to the mean and to the CI half-width)
HEADLINE = (
    ("service_level", "service level", "{:.1%}"),
    ("asa", "ASA (s)", "{:.1f}"),
    ("abandon_rate", "abandon rate", "{:.1%}"),
    ("cost_per_contact", "cost per contact (€)", "{:.2f}"),
    ("cost_per_resolved", "cost per resolved contact (€)", "{:.2f}"),
    ("satisfaction", "expected satisfaction (1–5)", "{:.2f}"),
    ("repeat_rate", "repeat-contact rate", "{:.1%}"),
    ("fcr", "first-contact resolution", "{:.1%}"),
    ("cost", "cost of the day (€)", "{:,.0f}"),
)

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allo scenario comparison</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child
{text-align:left}img{max-width:100%}</style></head>
<body><h1>Scenario comparison</h1>
<p>{{ replications }} replications per scenario, seed {{ seed }}; mean ± half-width of the
95 % confidence interval (Student t over replications).</p>
<table><tr><th>measure</th>{% for name in names %}<th>{{ name }}</th>{% endfor %}</tr>
{% for row in rows %}<tr><td>{{ row.label }}</td>{% for cell in row.cells %}<td>{{ cell }}</td>
{% endfor %}</tr>{% endfor %}</table>
{% for title, png in charts %}<h2>{{ title }}</h2>
<img alt="{{ title }}" src="data:image/png;base64,{{ png }}">{% endfor %}
</body></html>"""


def cell(estimate: Estimate | None, fmt: str) -> str:
    if estimate is None or math.isnan(estimate.mean):
        return "—"
    if math.isinf(estimate.half_width):
        return fmt.format(estimate.mean)
    return f"{fmt.format(estimate.mean)} ± {fmt.format(estimate.half_width)}"


def _chart(title: str, names: Sequence[str], values: Sequence[Estimate | None]) -> str:
    means = [v.mean if v is not None else 0.0 for v in values]
    errors = [
        v.half_width if v is not None and math.isfinite(v.half_width) else 0.0 for v in values
    ]
    figure, axis = plt.subplots(figsize=(7, 3))
    axis.bar(list(names), means, yerr=errors, capsize=6, color="#3b6ea5")
    axis.set_title(title)
    axis.grid(axis="y", alpha=0.3)
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def occupancy_rows(summaries: Sequence[Mapping[str, Estimate]]) -> list[str]:
    keys: list[str] = []
    for summary in summaries:
        keys += [k for k in summary if k.startswith("occupancy[") and k not in keys]
    return keys


def render(
    names: Sequence[str],
    summaries: Sequence[Mapping[str, Estimate]],
    replications: int,
    seed: int,
) -> str:
    rows = [
        {"label": label, "cells": [cell(s.get(key), fmt) for s in summaries]}
        for key, label, fmt in HEADLINE
    ]
    rows += [
        {"label": key.replace("occupancy[", "occupancy ").rstrip("]"),
         "cells": [cell(s.get(key), "{:.1%}") for s in summaries]}
        for key in occupancy_rows(summaries)
    ]  # fmt: skip
    charts = [
        (label, _chart(label, names, [s.get(key) for s in summaries]))
        for key, label, _ in HEADLINE[:7]
    ]
    return (
        Environment(autoescape=True)
        .from_string(TEMPLATE)
        .render(names=names, rows=rows, charts=charts, replications=replications, seed=seed)
    )
