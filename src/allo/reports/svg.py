"""Small inline SVG charts for server-rendered pages (no JavaScript, no image files).

Labels come in already translated; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

COLOURS = ("#0b5fff", "#e8590c", "#2b8a3e", "#862e9c", "#c92a2a", "#1098ad", "#5c940d")
WIDTH, HEIGHT, PAD = 720, 240, 36


def _scale(values: Sequence[float], top: float, size: int, origin: int) -> list[float]:
    return [origin + size - (v / top if top else 0.0) * size for v in values]


def line_chart(series: Mapping[str, Sequence[float]], label: str, *, step: bool = False) -> str:
    """One polyline per series over a shared x axis (index), with a legend."""
    longest = max((len(v) for v in series.values()), default=0)
    top = max((max(v, default=0.0) for v in series.values()), default=0.0) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} '
        f'{HEIGHT + 20 * len(series)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{PAD}" y1="{PAD + inner_h}" x2="{PAD + inner_w}" y2="{PAD + inner_h}" '
        'stroke="#999"/>',
        f'<text x="4" y="{PAD - 8}" font-size="11">{top:,.0f}</text>',
    ]
    for k, (name, values) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        ys = _scale(values, top, inner_h, PAD)
        dx = inner_w / max(longest - 1, 1)
        points: list[str] = []
        for i, y in enumerate(ys):
            if step and points:
                points.append(f"{PAD + i * dx:.1f},{ys[i - 1]:.1f}")
            points.append(f"{PAD + i * dx:.1f},{y:.1f}")
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{" ".join(points)}"/>'
        )
        y = HEIGHT + 20 * k
        parts.append(f'<rect x="{PAD}" y="{y - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{PAD + 18}" y="{y}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(values: Mapping[str, float], label: str) -> str:
    """Vertical bars, one per key, with the value above each bar."""
    top = max(values.values(), default=0.0) or 1.0
    inner_h = HEIGHT - 2 * PAD
    width = max(len(values), 1) * 90 + PAD
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    ]
    for k, (name, value) in enumerate(values.items()):
        height = value / top * inner_h
        x = PAD + k * 90
        y = PAD + inner_h - height
        parts.append(
            f'<rect x="{x}" y="{y:.1f}" width="60" height="{height:.1f}" '
            f'fill="{COLOURS[k % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{x}" y="{y - 4:.1f}" font-size="11">{value:,.0f}</text>')
        parts.append(f'<text x="{x}" y="{PAD + inner_h + 16}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
