"""Boards on the terminal: rich tables with the same marks as the published Markdown."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from bench.leaderboard.format import (
    cell_text,
    context_lines,
    legend_parts,
)
from bench.leaderboard.model import Board, Table, Value

_STYLES = {"best": "bold", "not_worse": "bold", "second": "underline", "baseline": "italic",
           "missing": "dim"}


def _style(value: Value) -> str:
    if value.mark:
        return _STYLES[value.mark]
    if value.baseline:
        return _STYLES["baseline"]
    return _STYLES["missing"] if value.missing else ""


def rich_table(table: Table) -> RichTable:
    # Text objects throughout: a plugin's name such as "[red]x" must print as written.
    out = RichTable(title=Text(table.title, style="bold"), title_justify="left")
    for name in table.index:
        out.add_column(Text(name), no_wrap=True)
    for column in table.columns:
        label = f"{column.group}\n{column.label}" if column.group else column.label
        out.add_column(Text(label), justify="right")
    for row in table.rows:
        cells: list[Text] = [Text(label) for label in row.labels]
        for column in table.columns:
            value = row.value(column)
            cells.append(Text(cell_text(value, column, table.typical_n), style=_style(value)))
        out.add_row(*cells)
    legend = [
        Text.assemble((term, _STYLES[style]), f": {meaning}")
        for style, term, meaning in legend_parts(table)
    ]
    caption = Text(" ".join(table.notes))
    if legend:
        caption.append(" ")
        caption.append(Text("; ").join(legend))
    out.caption = caption
    out.caption_justify = "left"
    return out


def print_boards(boards: Sequence[Board], console: Console) -> None:
    for board in boards:
        console.rule(escape(board.title))
        for label, value in context_lines(board.context, text=escape,
                                          code=lambda fp: f"[cyan]{escape(fp)}[/]"):
            line = f"{label} {value}" if label == "Rendered by" else f"{label}: {value}"
            console.print(line, highlight=False)
        for note in board.notes:
            console.print(f"[yellow]{escape(note)}[/]", highlight=False)
        for table in board.tables:
            for part in split_to_fit(table, console):
                console.print()
                console.print(rich_table(part))
        console.print()


def split_to_fit(table: Table, console: Console) -> list[Table]:
    """The table, or several with the label columns repeated, so none is wider than the console.

    Columns are cut only between data sets (column groups): a narrow terminal shows every
    number whole, one data set after the other, instead of columns squeezed to nothing.
    """
    if _natural_width(table, console) <= console.width:
        return [table]
    groups: list[list] = []
    for column in table.columns:
        if groups and column.group and groups[-1][0].group == column.group:
            groups[-1].append(column)
        else:
            groups.append([column])
    parts: list[list] = [[]]
    for group in groups:
        wider = dataclasses.replace(table, columns=tuple(parts[-1] + group))
        if parts[-1] and _natural_width(wider, console) > console.width:
            parts.append([])
        parts[-1].extend(group)
    if len(parts) == 1:
        return [table]
    return [dataclasses.replace(table, columns=tuple(columns),
                                title=f"{table.title} ({number} of {len(parts)})",
                                notes=table.notes if number == len(parts) else ())
            for number, columns in enumerate(parts, start=1)]


def _natural_width(table: Table, console: Console) -> int:
    rendered = rich_table(table)
    rendered.caption = None  # a caption wraps; only the columns need to fit
    return Measurement.get(console, console.options.update_width(10_000), rendered).maximum
