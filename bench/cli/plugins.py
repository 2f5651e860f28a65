"""`bench plugins`: what was discovered, from which distribution, and what failed."""

from __future__ import annotations

import click

from bench.cli.output import emit_table
from bench.host import get_plugins, get_registries


def plugin_rows() -> list[dict]:
    """One row per entry point (and in-process plugin), problems included."""
    registries = get_registries()  # fills each record's `registers`
    rows = []
    for record in get_plugins().records:
        rows.append(
            {
                "plugin": record.name,
                "distribution": record.distribution,
                "version": record.version,
                "module": record.value,
                "status": record.status,
                "registers": {k: sorted(v) for k, v in record.registers.items()},
                "error": "; ".join(filter(None, [record.error, *record.problems])) or None,
            }
        )
    for problem in registries.problems:
        if not any(problem in (row["error"] or "") for row in rows):
            rows.append({"plugin": "?", "status": "error", "error": problem})
    return rows


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List loaded plugins, what each registers, and any that failed."""
    emit_table(
        plugin_rows(),
        ["plugin", "distribution", "version", "status", "registers", "error"],
        title="Plugins",
        as_json=as_json,
    )


COMMANDS = [plugins_command]
