"""A small inline SVG chart: contacts per day, stacked by intent. No JavaScript, no image file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

COLOURS = {"question": "#0b5fff", "problem": "#d93025", "idea": "#f9a825", "praise": "#188038"}
WIDTH, HEIGHT, MARGIN = 640, 220, 28


def stacked_bars(
    days: Sequence[str],
    counts: Mapping[str, Mapping[str, int]],
    series: Sequence[str],
    labels: Mapping[str, str],
    title: str,
) -> str:
    """`counts[day][series]`; `labels` gives each series its legend text (already translated)."""
    totals = [sum(counts.get(day, {}).get(s, 0) for s in series) for day in days]
    peak = max(totals, default=0) or 1
    slot = (WIDTH - 2 * MARGIN) / max(len(days), 1)
    plot_height = HEIGHT - 2 * MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 24}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for index, day in enumerate(days):
        x = MARGIN + index * slot + slot * 0.1
        y: float = HEIGHT - MARGIN
        for name in series:
            value = counts.get(day, {}).get(name, 0)
            if not value:
                continue
            height = value / peak * plot_height
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS.get(name, "#888")}"><title>{escape(day)} · '
                f"{escape(labels.get(name, name))} : {value}</title></rect>"
            )
        if len(days) <= 16 or index % 2 == 0:
            parts.append(
                f'<text x="{x + slot * 0.4:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="10" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    parts.append(f'<text x="4" y="{MARGIN - 8}" font-size="10">max {peak}</text>')
    for index, name in enumerate(series):
        x = MARGIN + index * 130
        colour = COLOURS.get(name, "#888")
        legend = escape(labels.get(name, name))
        parts.append(
            f'<rect x="{x}" y="{HEIGHT + 6}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 15}" font-size="11">{legend}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
