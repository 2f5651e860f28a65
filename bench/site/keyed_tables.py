"""Board tables as the site shows them: each number keyed by what it is, for sorting and verifying.

A key names a quantity, not a position: ``["score", group, frame, model, source, target,
metric]`` is the mean over seeds of one metric of one board cell, whichever page shows it.
``bench site verify`` recomputes every keyed number from the records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from bench.leaderboard import Column, Row, Table, Value
from bench.leaderboard.format import MISSING_TEXT, cell_text, column_groups, legend_parts
from bench.leaderboard.shift import DROP

Key = list  # JSON-able: written as data-k, read back by the verifier


@dataclass
class CellView:
    text: str
    key: Key
    sort: str  # what the sorter compares ("" sorts last)
    mark: str | None = None  # best, second, not_worse, or a tier
    baseline: bool = False
    ci: str | None = None  # "[95.0, 97.1]" when the cell has an interval
    ci_key: Key | None = None
    link: str | None = None  # the cell page, relative to the site root


@dataclass
class RowView:
    labels: list[str]
    key: list[str]
    cells: list[CellView]
    search: str  # what the model filter matches


@dataclass
class TableView:
    id: str
    title: str
    index: list[str]
    groups: list[tuple[str, int]]  # spanning headers (data set), empty when one level
    columns: list[tuple[str, str]]  # (label, full title)
    rows: list[RowView]
    notes: list[str]
    legend: list[tuple[str, str, str]]
    has_ci: bool


def score_key(group: str, frame: str, model: str, source: str, target: str, metric: str
              ) -> Key:
    return ["score", group, frame, model, source, target, metric]


def interval_text(value: Value) -> str | None:
    if value.ci_low is None or value.ci_high is None:
        return None
    return f"[{value.ci_low:.1f}, {value.ci_high:.1f}]"


def row_names(table: Table, row: Row, column: Column) -> tuple[str, str, str]:
    """(model, source, target) of a cell: same-data-set rows test where they train."""
    named = dict(zip(table.index_keys, row.key))
    target = column.target
    source = named.get("source", target)
    return named["model"], source, target


def cell_view(table: Table, row: Row, column: Column, *, group: str, frame: str,
              link: Callable[[str, str, str], str | None] | None = None) -> CellView:
    value = row.value(column)
    model, source, target = row_names(table, row, column)
    if column.label == DROP and column.metric.endswith("_relative_drop"):
        key = ["drop", group, model, source, target, column.metric.removesuffix("_relative_drop")]
    else:
        key = score_key(group, frame, model, source, target, column.metric)
    plain = dataclasses.replace(value, ci_low=None, ci_high=None)
    text = cell_text(plain, column, table.typical_n, missing=MISSING_TEXT)
    ci = interval_text(value)
    return CellView(
        text=text, key=key,
        sort="" if value.mean is None else f"{value.mean:.10g}",
        mark=value.mark, baseline=value.baseline, ci=ci,
        ci_key=["ci", *key[1:]] if ci else None,
        link=link(model, source, target) if link and not value.missing else None,
    )


def table_view(table: Table, *, group: str, frame: str, id: str,
               rows: Callable[[Row], bool] | None = None,
               link: Callable[[str, str, str], str | None] | None = None) -> TableView:
    """The table's rows (those ``rows`` keeps), each cell keyed; ``frame`` is same or cross."""
    views = []
    for row in table.rows:
        if rows is not None and not rows(row):
            continue
        views.append(RowView(
            labels=list(row.labels), key=list(row.key),
            cells=[cell_view(table, row, c, group=group, frame=frame, link=link)
                   for c in table.columns],
            search=" ".join([*row.labels, *row.key]).lower(),
        ))
    grouped = table.grouped
    return TableView(
        id=id, title=table.title, index=list(table.index),
        groups=column_groups(table) if grouped else [],
        columns=[(c.label, f"{c.group} {c.label}".strip()) for c in table.columns],
        rows=views, notes=list(table.notes), legend=legend_parts(table),
        has_ci=any(cell.ci for row in views for cell in row.cells),
    )
