"""Charts drawn on the server as SVG: a line of averages in a band from lowest to highest, so a
spike between two points still shows. Pure: points in, markup out; every value in the markup
is a number or escaped text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 640, 150, 4
MAX_POINTS = 240  # more than that is more than a chart this wide can show


@dataclass(frozen=True)
class Point:
    at: datetime
    low: float
    mid: float
    high: float


def downsample(values: list[tuple[datetime, float | None]], most: int = MAX_POINTS) -> list[Point]:
    """Samples in time order, gathered into at most `most` points (lowest, average, highest
    of each group); missing values are left out."""
    present = [(at, value) for at, value in values if value is not None]
    if not present:
        return []
    size = max(1, -(-len(present) // most))
    points = []
    for start in range(0, len(present), size):
        group = [value for _, value in present[start : start + size]]
        points.append(Point(present[start][0], min(group), sum(group) / len(group), max(group)))
    return points


def regrouped(points: list[Point], most: int = MAX_POINTS) -> list[Point]:
    """Rollups (already lowest, average, highest) gathered the same way."""
    size = max(1, -(-len(points) // most))
    merged = []
    for start in range(0, len(points), size):
        group = points[start : start + size]
        average = sum(p.mid for p in group) / len(group)
        merged.append(
            Point(group[0].at, min(p.low for p in group), average, max(p.high for p in group))
        )
    return merged


def svg(points: list[Point], title: str, unit: str, ceiling: float | None = None) -> SafeString:
    """The chart; `ceiling` fixes the top of the scale (100 for percentages), else the
    highest value sets it."""
    if len(points) < 2:
        return mark_safe(f'<p class="empty">{escape(title)}: not enough samples yet.</p>')  # noqa: S308
    top = ceiling or max(max(p.high for p in points), 1e-9)
    start, end = points[0].at.timestamp(), points[-1].at.timestamp()
    span = max(end - start, 1.0)

    def x(point: Point) -> float:
        return PAD + (WIDTH - 2 * PAD) * (point.at.timestamp() - start) / span

    def y(value: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * min(value, top) / top

    line = " ".join(f"{x(p):.1f},{y(p.mid):.1f}" for p in points)
    band = " ".join([*(f"{x(p):.1f},{y(p.high):.1f}" for p in points),
                     *(f"{x(p):.1f},{y(p.low):.1f}" for p in reversed(points))])  # fmt: skip
    step = (WIDTH - 2 * PAD) / len(points)
    hovers = "".join(
        f'<rect x="{x(p) - step / 2:.1f}" y="0" width="{step:.1f}" height="{HEIGHT}" '
        f'fill="transparent"><title>{p.at:%Y-%m-%d %H:%M} UTC: {_number(p.mid, unit)} '
        f"(lowest {_number(p.low, unit)}, highest {_number(p.high, unit)})</title></rect>"
        for p in points
    )
    last = points[-1]
    return mark_safe(  # noqa: S308 (numbers and escaped text only)
        f'<figure class="chart"><figcaption>{escape(title)} <span class="muted">now '
        f"{_number(last.mid, unit)}, highest {_number(max(p.high for p in points), unit)}"
        f'</span></figcaption><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(top):.1f}" y2="{y(top):.1f}" class="grid"/>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(top / 2):.1f}" y2="{y(top / 2):.1f}" '
        f'class="grid"/><polygon points="{band}" class="band"/>'
        f'<polyline points="{line}" class="line"/>{hovers}</svg>'
        f'<div class="chart-scale muted"><span>{points[0].at:%m-%d %H:%M}</span>'
        f"<span>top {_number(top, unit)}</span><span>{last.at:%m-%d %H:%M} UTC</span></div>"
        "</figure>"
    )


def _number(value: float, unit: str) -> str:
    if unit == "B/s":
        for size, name in ((1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s")):
            if value >= size:
                return f"{value / size:.1f} {name}"
        return f"{value:.0f} B/s"
    return f"{value:.1f} {unit}"
