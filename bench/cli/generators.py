"""`bench generators ...`: the registered synthetic-image generators."""

from __future__ import annotations

import json

import click

from bench.cli.output import WholeHelpGroup, emit_table
from bench.host import get_registries


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


@click.group("generators", cls=WholeHelpGroup)
def generators_group() -> None:
    """Synthetic-image generators."""


@generators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_generators(as_json: bool) -> None:
    """List registered generators with their settings."""
    emit_table(generator_rows(), ["name", "aliases", "kind", "description", "settings", "plugin"],
               title="Generators", as_json=as_json)


@generators_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def show_generator(name: str, as_json: bool) -> None:
    """One generator's settings, one per line; for a trainable one, the models trained so far."""
    spec = get_registries().generators.get(name)
    settings = [{"setting": key, "value": value} for key, value in spec.settings.items()]
    trained = []
    if spec.kind == "cells" and spec.trainable:
        from bench.generation.contract import cell_generator

        for partition, classes in cell_generator(name).trained().items():
            trained += [{"partition": partition, "class": cell, "step": info.get("step"),
                         "images": info.get("images"), "loss": info.get("loss"),
                         "halving": info.get("halving"), "source": info.get("source")}
                        for cell, info in classes.items()]
    if as_json:
        click.echo(json.dumps({"name": spec.name, "kind": spec.kind,
                               "description": spec.description,
                               "settings": dict(spec.settings), "trained": trained},
                              indent=2, default=str))
        return
    emit_table(settings, ["setting", "value"], title=f"{spec.name} ({spec.kind}): "
                                                     f"{spec.description}")
    if trained:
        emit_table(trained, ["partition", "class", "step", "images", "loss", "halving",
                             "source"], title="Trained models")


COMMANDS = [generators_group]
