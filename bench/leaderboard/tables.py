"""The paper's two layouts, built from score rows: Table 2 (same data set) and Table 3 (cross).

Seeds are averaged per cell (mean, sample standard deviation, count); values are shown in
percent with one decimal, and best and second best are decided on the values as displayed, so
two cells that read the same share their mark.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

from bench.leaderboard.metrics import abbreviation, better, title
from bench.leaderboard.model import DECIMALS, Column, Row, Table, Value
from bench.leaderboard.names import Names

if TYPE_CHECKING:
    import pandas as pd

PUBLISHED_NOTE = "Each cell: the figure as published."
CellIndex = dict[tuple[str, str, str, str], Value]  # (model, source, target, metric) -> value
Scores = Union["pd.DataFrame", CellIndex]  # noqa: UP007 - a string annotation needs Union


def aggregate(frame: pd.DataFrame) -> CellIndex:
    """Average each cell's runs: mean, sample std (n - 1) and count, in percent."""
    if frame.empty:
        return {}
    stats = (
        frame.groupby(["model", "source", "target", "metric"], sort=False)["value"]
        .agg(["mean", "std", "count"])
    )
    cells: CellIndex = {}
    # Plain lists: iterating pandas' arrays element by element is many times slower.
    for key, mean, std, count in zip(
        stats.index.tolist(), stats["mean"].tolist(), stats["std"].tolist(),
        stats["count"].tolist(), strict=True,
    ):
        cells[key] = Value(
            mean=float(mean) * 100,
            std=float(std) * 100 if count > 1 else None,
            n=int(count),
        )
    return cells


def cells_of(scores: Scores) -> CellIndex:
    """Accept score rows or cells already averaged (a board averages once for all tables)."""
    return scores if isinstance(scores, dict) else aggregate(scores)


def displayed(value: float, kind: str = "score") -> float:
    """Round a value as a reader sees it; ties are decided on this."""
    return float(f"{value:.{DECIMALS[kind]}f}")


def mark_columns(rows: Sequence[Row], columns: Sequence[Column]) -> tuple[Row, ...]:
    """Mark best and second best per ranked column; ties share a mark; baselines not ranked."""
    marks: dict[tuple[int, str], str] = {}
    for column in columns:
        if column.better is None:
            continue
        ranked = {
            i: displayed(value.mean, column.kind)
            for i, row in enumerate(rows)
            if (value := row.value(column)).mean is not None and not value.baseline
        }
        distinct = sorted(set(ranked.values()), reverse=column.better == "higher")
        podium = dict(zip(distinct[:2], ("best", "second")[: len(distinct)], strict=True))
        for i, shown in ranked.items():
            if shown in podium:
                marks[(i, column.key)] = podium[shown]
    marked: list[Row] = []
    for i, row in enumerate(rows):
        cells = dict(row.cells)
        for key, value in row.cells.items():
            mark = marks.get((i, key))
            if mark is not None or value.mark is not None:
                cells[key] = dataclasses.replace(value, mark=mark)  # type: ignore[arg-type]
        marked.append(dataclasses.replace(row, cells=cells))
    return tuple(marked)


def score_columns(targets: Sequence[str], metrics: Sequence[str], names: Names) -> list[Column]:
    """Make a group per data set with a column per metric; a column per data set for one."""
    if len(metrics) == 1:
        return [
            Column(key=f"{t}/{metrics[0]}", label=names.label("dataset", t), target=t,
                   metric=metrics[0], better=better(metrics[0]))
            for t in targets
        ]
    return [
        Column(key=f"{t}/{m}", label=abbreviation(m), group=names.label("dataset", t), target=t,
               metric=m, better=better(m))
        for t in targets
        for m in metrics
    ]


def runs_note(rows: Sequence[Row]) -> tuple[int, str]:
    """Find the usual number of runs behind a cell, and a sentence saying so."""
    counts = Counter(v.n for row in rows for v in row.cells.values() if v.n)
    if not counts:
        return 0, "No results."
    typical = max(counts.items(), key=lambda item: (item[1], item[0]))[0]
    if len(counts) == 1:
        if typical == 1:
            return 1, "Each cell: one run."
        return typical, (
            f"Each cell: mean ± sample standard deviation over {typical} runs (seeds)."
        )
    low, high = min(counts), max(counts)
    return typical, (
        f"Runs per cell: {low} to {high}, mean ± sample standard deviation where more than "
        f"one; cells backed by other than {typical} run{'s' if typical > 1 else ''} say (n=…)."
    )


def _metric_note(metrics: Sequence[str]) -> str:
    return "Scores in %: " + ", ".join(
        f"{abbreviation(m)} = {title(m)}" if abbreviation(m) != m else m for m in metrics
    ) + "."


def same_dataset_table(
    scores: Scores, metrics: Sequence[str], names: Names, *, published: bool = False
) -> Table:
    """Table 2: a row per model, a group per data set; trained and tested on that data set."""
    cells = cells_of(scores)
    wanted = set(metrics)
    keys = [key for key in cells if key[1] == key[2] and key[3] in wanted]
    models = names.order("model", {key[0] for key in keys})
    datasets = names.order("dataset", {key[2] for key in keys})
    columns = score_columns(datasets, metrics, names)
    rows = [
        Row(
            key=(model,),
            labels=(names.label("model", model),),
            cells={
                c.key: cells[key]
                for c in columns
                if (key := (model, c.target, c.target, c.metric)) in cells
            },
        )
        for model in models
    ]
    typical, note = runs_note(rows)
    if published:
        note = PUBLISHED_NOTE
    heading = "Same data set: trained and tested on each data set"
    if len(metrics) == 1:
        heading += f" ({title(metrics[0])})"
    return Table(
        name="same",
        title=heading,
        index=("Model",),
        index_keys=("model",),
        columns=tuple(columns),
        rows=mark_columns(rows, columns),
        notes=(_metric_note(metrics), note),
        typical_n=typical,
    )


def cross_dataset_table(
    scores: Scores, metrics: Sequence[str], names: Names, *, published: bool = False
) -> Table:
    """Table 3: a row per model and source, a group per target; source = target is the baseline.

    Every model x source pair with results anywhere in the scores gets a row, so a pair never
    trained shows as missing cells rather than vanishing.
    """
    cells = cells_of(scores)
    wanted = set(metrics)
    keys = [key for key in cells if key[3] in wanted]
    models = names.order("model", {key[0] for key in keys})
    sources = names.order("dataset", {key[1] for key in keys})
    targets = names.order("dataset", {key[2] for key in keys})
    columns = score_columns(targets, metrics, names)
    rows = []
    for model in models:
        for source in sources:
            row_cells = {}
            for c in columns:
                value = cells.get((model, source, c.target, c.metric))
                if value is not None:
                    row_cells[c.key] = dataclasses.replace(value, baseline=source == c.target)
            rows.append(
                Row(
                    key=(model, source),
                    labels=(names.label("model", model), names.label("dataset", source)),
                    cells=row_cells,
                )
            )
    typical, note = runs_note(rows)
    if published:
        note = PUBLISHED_NOTE
    heading = "Cross data set: trained on the source, tested on each target"
    if len(metrics) == 1:
        heading += f" ({title(metrics[0])})"
    return Table(
        name="cross",
        title=heading,
        index=("Model", "Source"),
        index_keys=("model", "source"),
        columns=tuple(columns),
        rows=mark_columns(rows, columns),
        notes=(_metric_note(metrics), note),
        typical_n=typical,
    )
