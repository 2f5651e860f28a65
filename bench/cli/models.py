"""`bench models ...`: the registered architectures, with the preprocessing and size of each."""

from __future__ import annotations

import click

from bench.cli.output import WholeHelpGroup, emit_table, errors
from bench.errors import BenchError
from bench.host import get_registries

COLUMNS = ["name", "display_name", "architecture", "parameters", "embedding", "input_size"]
ALL_COLUMNS = COLUMNS + ["pretraining_data", "mean", "std", "interpolation", "family", "aliases",
                         "plugin", "description"]
HEADERS = {"display_name": "paper name", "parameters": "params", "input_size": "input",
           "pretraining_data": "pretrained on"}


def model_rows(num_classes: int = 5) -> list[dict]:
    """One row per registered model; sizes are counted on the meta device, nothing is loaded.

    ``pretraining_data`` is a list of data-set names, free text, or None when the model does not
    say (bench.pretraining); ``embedding`` the width a frozen-backbone probe reads.
    """
    from bench.models import data_config, describe, sizes
    from bench.pretraining import as_json

    registry = get_registries().models
    rows = []
    for spec in registry:
        row = {
            "name": spec.name,
            "display_name": spec.label,
            "aliases": list(spec.aliases),
            "family": spec.family,
            "architecture": None,  # what the backend builds, e.g. timm's name
            "weights": None,  # its pretrained tag
            "parameters": None,
            "embedding": None,
            "input_size": None,
            "mean": None,
            "std": None,
            "interpolation": None,
            "description": spec.description,
            "pretraining_data": as_json(spec.pretraining_data),
            "plugin": registry.owner(spec.name),
            "error": None,
        }
        if spec.resolve_argument is not None:  # a family such as timm:<name>, not one model
            row["architecture"] = f"{spec.name}:<name>"
            rows.append(row)
            continue
        try:
            row.update(describe(spec))
            size, mean, std, interpolation = data_config(spec)
            row.update(input_size=size, mean=list(mean), std=list(std),
                       interpolation=interpolation)
            row["parameters"], row["embedding"] = sizes(spec, num_classes)
        except BenchError as exc:
            row["error"] = str(exc)
        except Exception as exc:  # a third-party factory that cannot run on meta tensors
            row["error"] = f"cannot count parameters: {type(exc).__name__}: {exc}"
        rows.append(row)
    return rows


def parameters_text(count: int) -> str:
    """``143.7M``, ``23.4k``, ``812``: a toy model is not ``0.0M``."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{unit}"
    return str(count)


def _for_table(row: dict) -> dict:
    shown = dict(row)
    if row["weights"]:  # one column for both keeps the table within a terminal
        shown["architecture"] = f"{row['architecture']} ({row['weights']})"
    if row["parameters"] is not None:
        shown["parameters"] = parameters_text(row["parameters"])
    if row["parameters"] is not None:  # one model, not a family: say what it declares
        from bench.pretraining import describe

        data = row["pretraining_data"]
        shown["pretraining_data"] = describe(tuple(data) if isinstance(data, list) else data)
    for key in ("mean", "std"):
        if row[key] is not None:
            shown[key] = ", ".join(f"{value:.3g}" for value in row[key])
    return shown


@click.group("models", cls=WholeHelpGroup)
def models_group() -> None:
    """Architectures that can be trained."""


@models_group.command("list")
@click.option("--all", "show_all", is_flag=True,
              help="Also show normalisation (mean, std), interpolation, family, aliases, plugin "
                   "and description.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_models(show_all: bool, as_json: bool) -> None:
    """List registered models: architecture, weights, size (5-way head), input and normalisation."""
    rows = model_rows()
    if as_json:
        emit_table(rows, [*ALL_COLUMNS, "weights"], as_json=True)
        return
    emit_table([_for_table(row) for row in rows], ALL_COLUMNS if show_all else COLUMNS,
               title="Models (parameters with a 5-way head)", headers=HEADERS)
    for row in rows:
        if row["error"]:
            errors.print(f"[yellow]{row['name']}:[/] {row['error']}", markup=True,
                         highlight=False)


COMMANDS = [models_group]
