"""`bench plugins`: what was discovered, from which distribution, and what failed."""

from __future__ import annotations

import click

from bench.cli.output import WholeHelpGroup, emit_table
from bench.host import get_plugins, get_registries


def plugin_rows() -> list[dict]:
    """One row per entry point (and in-process plugin), problems included."""
    registries = get_registries()  # fills each record's `registers`
    registries.datasets.refresh()  # a plugin whose find_datasets raises shows as failed
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


@click.group("plugins", cls=WholeHelpGroup, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins, what each registers, and any that failed."""
    if ctx.invoked_subcommand is not None:
        return
    emit_table(
        plugin_rows(),
        ["plugin", "distribution", "version", "status", "registers", "error"],
        title="Plugins",
        as_json=as_json,
    )


@plugins_command.command("check")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def check_command(name: str | None, as_json: bool) -> None:
    """Run bench.testing's contract checks on a plugin's specs (all plugins without NAME).

    Models are built without pretrained weights and train one step; nothing is downloaded.
    Exits with 1 if any check fails.
    """
    from bench.testing import check_plugins

    rows = check_plugins(name)
    emit_table(rows, ["plugin", "kind", "name", "result", "reason"],
               title=f"Contract checks of {name or 'every plugin'}", as_json=as_json,
               keys=["plugin", "name"])
    if any(row["result"] == "fail" for row in rows):
        raise click.exceptions.Exit(1)


COMMANDS = [plugins_command]
