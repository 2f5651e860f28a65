"""`bench generators ...`: the registered synthetic-image generators."""

from __future__ import annotations

import click

from bench.cli.output import emit_table
from bench.registry import get_registries


def generator_rows() -> list[dict]:
    registry = get_registries().generators
    return [
        {
            "name": spec.name,
            "aliases": list(spec.aliases),
            "kind": spec.kind,
            "settings": dict(spec.settings),
            "description": spec.description,
            "plugin": registry.owner(spec.name),
        }
        for spec in registry
    ]


@click.group("generators")
def generators_group() -> None:
    """Synthetic-image generators."""


@generators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_generators(as_json: bool) -> None:
    """List registered generators with their settings."""
    emit_table(generator_rows(), ["name", "aliases", "kind", "description", "settings", "plugin"],
               title="Generators", as_json=as_json)


COMMANDS = [generators_group]
