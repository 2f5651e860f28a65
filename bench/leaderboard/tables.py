"""The paper's two layouts, built from score rows: Table 2 (same data set) and Table 3 (cross).

Seeds are averaged per cell (mean, sample standard deviation, count); values are shown in
percent with one decimal, and best and second best are decided on the values as displayed, so
two cells that read the same share their mark. Two rules place the second mark (``SECOND_RULES``):
``distinct`` underlines the second-highest value shown, whatever ties above it; ``paper``, the
rule of the paper's Tables 2 and 3, ranks rows as in a competition (1, 1, 3), so a tie for best
leaves no second place, and breaks a tie for second on the row's other metrics of the same
data set.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

from bench.errors import DataError
from bench.leaderboard.display_names import Names
from bench.leaderboard.model import DECIMALS, SECOND_RULES, Column, Row, SecondRule, Table, Value
from bench.metrics import abbreviation, better, title

if TYPE_CHECKING:
    import pandas as pd

PUBLISHED_NOTE = "Each cell: the figure as published."

CellIndex = dict[tuple[str, str, str, str], Value]  # (model, source, target, metric) -> value
Scores = Union["pd.DataFrame", CellIndex]  # noqa: UP007 - a string annotation needs Union


# Scores are ratios of counts; scikit-learn's sums carry noise in the last bits (weighted recall
# comes out as accuracy + 1e-16). Runs are snapped to this many decimals before averaging and
# means (in percent) after, so a mean is exact to far below the one decimal shown and is
# rounded once, on display: a metric equal by construction to another always reads the same.
EXACT_DECIMALS = 10


def aggregate(frame: pd.DataFrame) -> CellIndex:
    """Average each cell's runs: mean, sample std (n - 1) and count, in percent."""
    if frame.empty:
        return {}
    runs = frame.assign(value=frame["value"].astype(float).round(EXACT_DECIMALS + 2))
    stats = (
        runs.groupby(["model", "source", "target", "metric"], sort=False)["value"]
        .agg(["mean", "std", "count"])
    )
    means = (stats["mean"] * 100).round(EXACT_DECIMALS)
    stds = (stats["std"] * 100).round(EXACT_DECIMALS)
    cells: CellIndex = {}
    # Plain lists: iterating pandas' arrays element by element is many times slower.
    for key, mean, std, count in zip(
        stats.index.tolist(), means.tolist(), stds.tolist(), stats["count"].tolist(),
        strict=True,
    ):
        cells[key] = Value(
            mean=float(mean),
            std=float(std) if count > 1 else None,
            n=int(count),
        )
    return cells


def cells_of(scores: Scores) -> CellIndex:
    """Accept score rows or cells already averaged (a board averages once for all tables)."""
    return scores if isinstance(scores, dict) else aggregate(scores)


def displayed(value: float, kind: str = "score") -> float:
    """Round a value as a reader sees it; ties are decided on this."""
    return float(f"{value:.{DECIMALS[kind]}f}")


def mark_columns(
    rows: Sequence[Row], columns: Sequence[Column], rule: SecondRule = "distinct"
) -> tuple[Row, ...]:
    """Mark best and second best per ranked column (see ``SECOND_RULES``); baselines not ranked."""
    if rule not in SECOND_RULES:
        raise DataError(f"unknown second-place rule {rule!r}; use one of {', '.join(SECOND_RULES)}")
    marks: dict[tuple[int, str], str] = {}
    shown = {
        (i, column.key): displayed(value.mean, column.kind)
        for column in columns
        if column.better is not None
        for i, row in enumerate(rows)
        if (value := row.value(column)).mean is not None and not value.baseline
    }
    for column in columns:
        if column.better is None:
            continue
        ranked = {i: value for (i, key), value in shown.items() if key == column.key}
        if len(ranked) < 2:  # one model (one row): nothing to be best among
            continue
        sign = 1 if column.better == "higher" else -1
        distinct = sorted(set(ranked.values()), key=lambda v: -sign * v)
        best = [i for i, value in ranked.items() if value == distinct[0]] if distinct else []
        second = [i for i, value in ranked.items() if len(distinct) > 1 and value == distinct[1]]
        if rule == "paper":
            second = [] if len(best) > 1 else _break_tie(second, column, columns, shown, sign)
        marks.update({(i, column.key): "best" for i in best})
        marks.update({(i, column.key): "second" for i in second})
    marked: list[Row] = []
    for i, row in enumerate(rows):
        cells = dict(row.cells)
        for key, value in row.cells.items():
            mark = marks.get((i, key))
            if mark is not None or value.mark is not None:
                cells[key] = dataclasses.replace(value, mark=mark)  # type: ignore[arg-type]
        marked.append(dataclasses.replace(row, cells=cells))
    return tuple(marked)


def _break_tie(
    tied: list[int],
    column: Column,
    columns: Sequence[Column],
    shown: dict[tuple[int, str], float],
    sign: int,
) -> list[int]:
    """Keep the tied rows that score best on the other ranked columns of the column's group.

    The paper underlines one model where two tie at one decimal for second place (DenseNet-121
    over Swin on PBC accuracy and recall; DenseNet-121 is second on PBC's precision and F1).
    """
    others = [c.key for c in columns
              if c.group and c.group == column.group and c.key != column.key
              and c.better == column.better]
    if len(tied) < 2 or not others:
        return tied

    def other_scores(i: int) -> float:
        values = [shown[(i, key)] for key in others if (i, key) in shown]
        return sign * sum(values) / len(values) if values else float("-inf")

    top = max(other_scores(i) for i in tied)
    return [i for i in tied if other_scores(i) == top]


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
    scores: Scores, metrics: Sequence[str], names: Names, *, published: bool = False,
    second: SecondRule = "distinct",
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
        rows=mark_columns(rows, columns, second),
        second_rule=second,
        notes=(_metric_note(metrics), note),
        typical_n=typical,
    )


def cross_dataset_table(
    scores: Scores, metrics: Sequence[str], names: Names, *, published: bool = False,
    second: SecondRule = "distinct",
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
        rows=mark_columns(rows, columns, second),
        second_rule=second,
        notes=(_metric_note(metrics), note),
        typical_n=typical,
    )
