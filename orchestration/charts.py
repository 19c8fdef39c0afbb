"""Small line charts for the Dagster UI, as SVG images inside markdown metadata.

The UI renders `MetadataValue.md` with images; an SVG written here (no plotting library) is
embedded as a data URI, so the picture travels with the run's metadata and needs no file. Each
series is a polyline with a dot per value; a dashed horizontal line marks a threshold.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 140, 28, 44
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def line_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    y_label: str,
    y_max: float | None = None,
    threshold: tuple[str, float] | None = None,
) -> str:
    """An SVG line chart: one line per series over the categories (None leaves a gap)."""
    values = [v for line in series.values() for v in line if v is not None]
    highest = max([*values, threshold[1] if threshold else 0.0])
    top = y_max if y_max is not None else _nice_max(highest)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(categories) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(categories) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v / top, 0.0), 1.0))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="16" font-size="13">{escape(title)}</text>',
        f'<text x="12" y="{TOP + plot_h / 2}" transform="rotate(-90 12 {TOP + plot_h / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for k in range(5):  # horizontal grid with its labels
        value = top * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    every = max(1, math.ceil(len(categories) / 10))
    for i, label in enumerate(categories):
        if i % every == 0 or i == len(categories) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                f"{escape(str(label))}</text>"
            )
    if threshold:
        name, value = threshold
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#555" stroke-dasharray="5 4"/>'
            f'<text x="{LEFT + plot_w + 6}" y="{y(value) + 4:.1f}">{escape(name)}</text>'
        )
    for n, (name, line) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(line) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points
        ]
        legend_y = TOP + 14 * n + 8
        parts.append(
            f'<rect x="{LEFT + plot_w + 6}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="{colour}"/><text x="{LEFT + plot_w + 20}" y="{legend_y + 1}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def markdown_image(svg: str, alt: str) -> str:
    """The SVG as a markdown image with a data URI (what MetadataValue.md renders)."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"
