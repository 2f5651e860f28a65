"""`bench generate ...`: sample cells and compose data sets (plugins add training commands)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.output import WholeHelpGroup, emit_table
from bench.console import stage_progress
from bench.errors import DataError

LABEL_CHOICES = "L, M, N, E, B, RBC"
SEED = click.IntRange(0, 2**31 - 1)  # what numpy and torch generators accept
MAX_IMAGES = 1_000_000  # per split or class: far above any published set, below a typo's 10**9


@click.group("generate", cls=WholeHelpGroup)
def generate_group() -> None:
    """Train cell generators, sample single cells, compose synthetic data sets."""


@generate_group.command("dataset")
@click.argument("name")
@click.option("--cells", default=None,
              help="Cells for the central WBCs: a generator NAME or NAME:ARGUMENT "
                   "(`bench generators list`; default: the default cells generator).")
@click.option("--rbc-cells", default=None,
              help="Where the background RBCs come from (default: --cells).")
@click.option("--level", default="complex", show_default=True,
              help="base, complex (as the release), paper (its stated placement), or 0-5.")
@click.option("--train", "train", type=click.IntRange(max=MAX_IMAGES), default=1000,
              show_default=True, help="Training images.")
@click.option("--test", "test", type=click.IntRange(max=MAX_IMAGES), default=1000,
              show_default=True, help="Test images.")
@click.option("--size", type=click.IntRange(16, 2048), default=256, show_default=True,
              help="Image side in pixels.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of every random draw: the same seed makes the same images.")
@click.option("--set", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A compositor parameter, e.g. --set max_overlap=0.5 (see `bench generators "
                   "show compositor`). Repeatable.")
@click.option("--scheduler", default=None,
              help="Sampler, for cell generators that have one (`bench generators show NAME`).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Sampling steps for --scheduler.")
@click.option("--device", default=None, help="torch device, for cell generators that run a model.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes composing images (default: one per core).")
@click.option("--overwrite", is_flag=True, help="Replace a different data set of this name.")
@click.option("--no-prepare", is_flag=True, help="Do not prepare the data set afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def dataset_command(name: str, cells: str, rbc_cells: str | None, level: str, train: int,
                    test: int, size: int, seed: int, parameters: tuple[str, ...],
                    scheduler: str | None, steps: int | None, device: str | None,
                    workers: int | None, overwrite: bool, no_prepare: bool,
                    as_json: bool) -> None:
    """Compose data set NAME in the WBC-USID layout, then register and prepare it.

    Train images come from partition A of the cell source, test images from partition B.
    An interrupted run resumes when started again with the same options.
    """
    from bench.generation.datasets import INFO_FILE, generate_dataset

    settings = {}
    for item in parameters:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataError(f"--set {item!r}: expected KEY=VALUE, e.g. --set max_overlap=0.5")
        settings[key.strip()] = value.strip()
    cell_options = {"scheduler": scheduler, "steps": steps, "device": device}
    with stage_progress(name) as update:
        folder = generate_dataset(
            name, cells=cells, rbc_cells=rbc_cells, level=level, train=train, test=test,
            size=size, seed=seed, settings=settings,
            cell_options={k: v for k, v in cell_options.items() if v is not None},
            overwrite=overwrite, workers=workers, prepare=not no_prepare, progress=update,
        )
    info = json.loads((folder / INFO_FILE).read_text())
    row = {"name": info["name"], "folder": str(folder), "level": info["level"],
           "cells": info["cells"], "size": info["size"], "train": info["train"],
           "test": info["test"], "added_cells": info.get("added_cells"),
           "cells_skipped": info.get("cells_skipped"),
           "placements_abandoned": info.get("placements_abandoned")}
    emit_table([row], ["name", "folder", "level", "cells", "size", "train", "test"],
               title="Generated data set", as_json=as_json)


@generate_group.command("sample")
@click.option("--cells", default=None,
              help="Cells generator: NAME or NAME:ARGUMENT (`bench generators list`; default: "
                   "the default cells generator).")
@click.option("--per-class", type=click.IntRange(max=MAX_IMAGES), default=200,
              show_default=True, help="Cells per class.")
@click.option("--classes", default=None, help=f"Comma-separated ({LABEL_CHOICES}); default all.")
@click.option("--partition", type=click.Choice(["A", "B"]), default="A", show_default=True,
              help="Half of the cell source to draw from: A makes training images, B test "
                   "images.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <Class>/cell_NNNNN.png into (usable as folder:PATH).")
@click.option("--scheduler", default=None,
              help="Sampler, for cell generators that have one (`bench generators show NAME`).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Sampling steps for --scheduler.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Cells sampled at once.")
@click.option("--device", default=None, help="torch device, for cell generators that run a model.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of every random draw: the same seed makes the same images.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sample_command(cells: str, per_class: int, classes: str | None, partition: str, out: Path,
                   scheduler: str | None, steps: int | None, batch_size: int | None,
                   device: str | None, seed: int, as_json: bool) -> None:
    """Sample single-cell images into class folders; a rerun continues where it stopped."""
    from bench.generation.contract import (
        CELL_LABELS,
        default_generator,
        parse_labels,
        sample_cells,
    )

    cells = cells or default_generator("cells")
    options = {"scheduler": scheduler, "steps": steps, "batch_size": batch_size,
               "device": device}
    with stage_progress("sample") as update:
        rows = sample_cells(cells, out, per_class=per_class,
                            labels=parse_labels(classes, CELL_LABELS), partition=partition,
                            seed=seed, options={k: v for k, v in options.items() if v is not None},
                            progress=update)
    emit_table(rows, ["class", "cells", "new", "seconds", "folder"],
               title=f"Cells from {cells}, partition {partition}", as_json=as_json)


COMMANDS = [generate_group]
