"""Inline SVG charts, laid out here and drawn by the templates: no plotting library, no script.

Coordinates are rounded to 0.1 px, so the same figures give the same bytes. Charts carry no
numbers of their own: every value they draw is printed, keyed, in a table beside them (what
``bench site verify`` reads).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# matplotlib's viridis at five stops, and its tab10 cycle for series.
VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def px(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def viridis(share: float) -> str:
    share = min(1.0, max(0.0, share)) * (len(VIRIDIS) - 1)
    low = min(int(share), len(VIRIDIS) - 2)
    t = share - low
    rgb = (round(a + (b - a) * t) for a, b in zip(VIRIDIS[low], VIRIDIS[low + 1]))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass
class Tile:
    x: str
    y: str
    fill: str
    text: str
    ink: str
    key: list
    tip: str


@dataclass
class HeatMap:
    width: str
    height: str
    size: str  # tile side
    rows: list[tuple[str, str]]  # (label, y of its centre)
    columns: list[tuple[str, str]]  # (label, x of its centre)
    tiles: list[Tile]
    title: str


def heat_map(title: str, rows: Sequence[str], columns: Sequence[str],
             matrix: Sequence[Sequence[float | None]], keys: Sequence[Sequence[list]],
             ) -> HeatMap:
    """Tiles coloured on the scale of the leaderboard's heat maps (``plots.colour_range``)."""
    from bench.leaderboard.plots import colour_range

    values = [v for row in matrix for v in row if v is not None]
    low, high = colour_range(values) if values else (0.0, 100.0)
    size, left, top = 56.0, 150.0, 110.0
    tiles = []
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            share = 0.0 if value is None else (value - low) / (high - low)
            tiles.append(Tile(
                x=px(left + j * size), y=px(top + i * size),
                fill="#dddddd" if value is None else viridis(share),
                text="–" if value is None else f"{round(value, 10):.1f}",
                ink="#000000" if value is None or share > 0.6 else "#ffffff",
                key=keys[i][j], tip=f"{rows[i]} → {columns[j]}",
            ))
    return HeatMap(
        width=px(left + size * len(columns) + 70), height=px(top + size * len(rows) + 10),
        size=px(size), title=title,
        rows=[(label, px(top + (i + 0.5) * size)) for i, label in enumerate(rows)],
        columns=[(label, px(left + (j + 0.5) * size)) for j, label in enumerate(columns)],
        tiles=tiles,
    )


@dataclass
class Axis:
    ticks: list[tuple[str, str]]  # (position, label)


@dataclass
class Series:
    label: str
    colour: str
    points: str  # "x,y x,y ..." for a polyline
    dots: list[tuple[str, str]]


@dataclass
class Panel:
    title: str
    x0: str  # left of the plot area
    width: str
    series: list[Series]
    x_ticks: Axis


@dataclass
class LineChart:
    width: str
    height: str
    top: str
    bottom: str
    y_ticks: Axis
    y_label: str
    x_label: str
    panels: list[Panel]
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)


def _scale(low: float, high: float, start: float, stop: float):  # noqa: ANN202
    span = (high - low) or 1.0
    return lambda v: start + (v - low) / span * (stop - start)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if raw <= m * step)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def line_chart(panels: Sequence[tuple[str, Sequence[tuple[str, Sequence[tuple[float, float]]]]]],
               *, x_label: str, y_label: str) -> LineChart:
    """Panels side by side sharing the y axis; each series keeps its colour in every panel."""
    values = [y for _, lines in panels for _, points in lines for _, y in points]
    low, high = (min(values), max(values)) if values else (0.0, 100.0)
    pad = max(1.0, (high - low) * 0.08)
    low, high = math.floor(low - pad), math.ceil(high + pad)
    top, bottom, left, panel_w, gap = 30.0, 230.0, 60.0, 220.0, 30.0
    y = _scale(low, high, bottom, top)
    labels = list(dict.fromkeys(label for _, lines in panels for label, _ in lines))
    colours = {label: colour(i) for i, label in enumerate(labels)}
    out = []
    for n, (name, lines) in enumerate(panels):
        x0 = left + n * (panel_w + gap)
        xs = [x for _, points in lines for x, _ in points] or [0.0, 1.0]
        x = _scale(min(xs), max(xs), x0 + 10, x0 + panel_w - 10)
        series = []
        for label, points in lines:
            coords = [(px(x(a)), px(y(b))) for a, b in points]
            series.append(Series(label, colours[label], " ".join(f"{a},{b}" for a, b in coords),
                                 coords))
        ticks = sorted({a for _, points in lines for a, _ in points})
        out.append(Panel(name, px(x0), px(panel_w), series,
                         Axis([(px(x(t)), f"{t:g}") for t in ticks])))
    return LineChart(
        width=px(left + len(panels) * (panel_w + gap) + 10), height=px(bottom + 50),
        top=px(top), bottom=px(bottom),
        y_ticks=Axis([(px(y(t)), f"{t:g}") for t in nice_ticks(low, high)]),
        y_label=y_label, x_label=x_label, panels=out,
        legend=[(label, colours[label]) for label in labels],
    )


@dataclass
class Bar:
    x: str
    width: str
    y: str
    height: str
    gap_y: str
    gap_height: str


@dataclass
class Reliability:
    bars: list[Bar]
    size: str


def reliability(counts: Sequence[float], confidence: Sequence[float],
                accuracy: Sequence[float]) -> Reliability:
    """Accuracy per confidence bin as bars on the unit square, with the gap to the diagonal."""
    size, margin = 240.0, 40.0
    width = size / len(counts)
    bars = []
    for i, (n, conf, acc) in enumerate(zip(counts, confidence, accuracy)):
        if not n:
            continue
        low, high = sorted((conf, acc))
        bars.append(Bar(x=px(margin + i * width), width=px(width),
                        y=px(margin + size * (1 - acc)), height=px(size * acc),
                        gap_y=px(margin + size * (1 - high)), gap_height=px(size * (high - low))))
    return Reliability(bars, px(size))


@dataclass
class Dot:
    x: str
    y: str
    colour: str
    tip: str


@dataclass
class Scatter:
    width: str
    height: str
    dots: list[Dot]
    x_ticks: Axis
    y_ticks: Axis
    x_label: str
    y_label: str
    legend: list[tuple[str, str]]


def scatter(points: Sequence[tuple[str, float, float, str]], *, x_label: str, y_label: str
            ) -> Scatter:
    """(series, x, y, tip) points; x on a log scale (training times span orders of magnitude)."""
    xs = [math.log10(max(x, 1e-3)) for _, x, _, _ in points]
    ys = [y for _, _, y, _ in points]
    x_low, x_high = math.floor(min(xs)), math.ceil(max(xs))
    if x_high == x_low:
        x_high += 1
    y_low = math.floor(min(ys) - 1)
    y_high = math.ceil(max(ys) + 1)
    x = _scale(x_low, x_high, 60, 460)
    y = _scale(y_low, y_high, 250, 20)
    labels = list(dict.fromkeys(series for series, _, _, _ in points))
    colours = {label: colour(i) for i, label in enumerate(labels)}
    return Scatter(
        width="640", height="300",
        dots=[Dot(px(x(a)), px(y(b)), colours[s], tip)
              for (s, _, b, tip), a in zip(points, xs)],
        x_ticks=Axis([(px(x(t)), f"{10 ** t:g}") for t in range(x_low, x_high + 1)]),
        y_ticks=Axis([(px(y(t)), f"{t:g}") for t in nice_ticks(y_low, y_high)]),
        x_label=x_label, y_label=y_label,
        legend=[(label, colours[label]) for label in labels],
    )
