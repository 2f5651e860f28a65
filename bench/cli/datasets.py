"""`bench datasets ...`: the registered data sets and their preparation."""

from __future__ import annotations

import json

import click

from bench.cli.output import emit_table
from bench.home import subdir
from bench.registry import get_registries


def prepared_info(name: str) -> dict | None:
    path = subdir("datasets", name, create=False) / "prepared.json"
    return json.loads(path.read_text()) if path.is_file() else None


def dataset_rows() -> list[dict]:
    registry = get_registries().datasets
    return [
        {
            "name": spec.name,
            "aliases": list(spec.aliases),
            "prepared": prepared_info(spec.name) is not None,
            "description": spec.description,
            "homepage": spec.homepage,
            "licence": spec.licence,
            "plugin": registry.owner(spec.name),
        }
        for spec in registry
    ]


@click.group("datasets")
def datasets_group() -> None:
    """Data sets: list, prepare, show, verify."""


@datasets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_datasets(as_json: bool) -> None:
    """List registered data sets and whether each is prepared here."""
    emit_table(dataset_rows(), ["name", "aliases", "prepared", "description", "homepage",
                                "licence", "plugin"], title="Data sets", as_json=as_json)


COMMANDS = [datasets_group]
