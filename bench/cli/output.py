"""The table-or-JSON twin every listing command has, printed on the one console.

Tables obey two rules. At a terminal they fit its width without cutting a name: key columns
(names, ids) never wrap, every other column folds onto more lines instead of ending in "…".
Piped or redirected, a table is printed plain (no colour, no box drawing) at its full width,
so nothing is lost however narrow `COLUMNS` is.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from bench.console import console, errors  # noqa: F401 - the commands import both from here

PLAIN_MAX_WIDTH = 10_000  # a piped table is never cut; this only bounds the measurement
# box.SIMPLE in ASCII: a dashed rule under the header, columns separated by spaces.
PLAIN_BOX = box.Box("    \n    \n -- \n    \n    \n -- \n    \n    \n", ascii=True)


KEPT_ATTRIBUTE = "kept_on_interrupt"


def kept_on_interrupt(text: str) -> Callable[[click.Command], click.Command]:
    """Say what a command keeps when Ctrl-C stops it and what rerunning it does.

    Put it above ``@click.command``: bench prints the text after "Interrupted (Ctrl-C)".
    """

    def mark(command: click.Command) -> click.Command:
        setattr(command, KEPT_ATTRIBUTE, text)
        return command

    return mark


class WholeHelpGroup(click.Group):
    """Lists each subcommand with its whole first sentence, wrapped, where click cuts it short."""

    group_class = type  # groups made with .group() are of this class too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def emit_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    as_json: bool = False,
    keys: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Print rows as a table, or as JSON (every key, not only the shown columns).

    ``keys`` are the columns shown in full on one line (default: the first column);
    ``headers`` renames columns (default: the key with spaces for underscores). A table too
    wide for the terminal even with its columns folded is shown one record per row instead.
    """
    rows = list(rows)
    if as_json:
        click_echo(json.dumps(rows, indent=2, default=str))
        return
    keys = list(columns[:1] if keys is None else keys)
    names = {column: (headers or {}).get(column, column.replace("_", " ")) for column in columns}
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    if console.is_terminal and _narrowest(cells, columns, keys, names) > console.width:
        _print_records(cells, columns, keys, names, title)
        return
    table = Table(title=title, show_lines=False)
    for index, column in enumerate(columns):
        if column in keys:
            widest = max([len(names[column]), *(_longest_line(row[index]) for row in cells)])
            table.add_column(names[column], no_wrap=True, min_width=widest)
        else:
            table.add_column(names[column], overflow="fold")
    for row in cells:
        table.add_row(*(Text(value) for value in row))  # data, never rich markup
    print_table(table)


READABLE_WIDTH = 12  # a folded column narrower than this is hard to read


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _narrowest(cells: list[list[str]], columns: Sequence[str], keys: Sequence[str],
               names: Mapping[str, str]) -> int:
    """Width of the table with key columns whole and the others folded to a readable width."""
    total = 1
    for index, column in enumerate(columns):
        natural = max([len(names[column]), *(_longest_line(row[index]) for row in cells)])
        total += 3 + (natural if column in keys else min(natural, READABLE_WIDTH))
    return total


def _print_records(cells: list[list[str]], columns: Sequence[str], keys: Sequence[str],
                   names: Mapping[str, str], title: str | None) -> None:
    """One block per row: its key columns as a heading, then one line per other column."""
    if title:
        console.print(Text(title, style="italic"))
    for row in cells:
        heading = "  ".join(value for column, value in zip(columns, row, strict=True)
                            if column in keys)
        console.print(Text(heading, style="bold"), no_wrap=True, crop=False)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        for column, value in zip(columns, row, strict=True):
            if column not in keys:
                grid.add_row(Text("  " + names[column]), Text(value))
        console.print(grid)


def print_table(table: Table, target: Console | None = None) -> None:
    """At a terminal: fitted to its width. Piped: plain, at the table's full width."""
    target = target or console
    if target.is_terminal:
        target.print(table)
        return
    table.box = PLAIN_BOX  # easy for grep, cut and a reader
    measured = Measurement.get(target, target.options.update_width(PLAIN_MAX_WIDTH), table)
    buffer = io.StringIO()
    plain = Console(file=buffer, width=max(measured.maximum, 1), color_system=None,
                    highlight=False, emoji=False, soft_wrap=False)
    plain.print(table)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    while lines and not lines[-1]:  # the box's blank bottom edge
        lines.pop()
    target.file.write("\n".join(lines) + "\n")


def emit_line(text: Text) -> None:
    """A paragraph beside a table: wrapped at a terminal, one whole line when piped."""
    console.print(text, soft_wrap=not console.is_terminal)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def click_echo(text: str) -> None:
    import click

    click.echo(text)
