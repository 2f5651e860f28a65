"""The table-or-JSON twin every listing command has, printed on the one console."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table

from bench.progress import console, errors  # noqa: F401 - the commands import both from here


def emit_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    as_json: bool = False,
) -> None:
    """Print rows as a rich table, or as JSON (every key, not only the shown columns)."""
    rows = list(rows)
    if as_json:
        click_echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def click_echo(text: str) -> None:
    import click

    click.echo(text)
