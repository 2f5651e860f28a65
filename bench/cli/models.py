"""`bench models ...`: the registered architectures."""

from __future__ import annotations

import click

from bench.cli.output import emit_table
from bench.registry import get_registries


def model_rows() -> list[dict]:
    registry = get_registries().models
    return [
        {
            "name": spec.name,
            "aliases": list(spec.aliases),
            "family": spec.family,
            "timm_name": spec.timm_name,
            "description": spec.description,
            "plugin": registry.owner(spec.name),
        }
        for spec in registry
    ]


@click.group("models")
def models_group() -> None:
    """Architectures that can be trained."""


@models_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also show the plugin of each model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_models(show_all: bool, as_json: bool) -> None:
    """List registered models."""
    columns = ["name", "aliases", "family", "timm_name", "description"]
    emit_table(model_rows(), columns + (["plugin"] if show_all else []), title="Models",
               as_json=as_json)


COMMANDS = [models_group]
