"""`bench generate ...`: train cell generators, sample cells, compose data sets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import click

from bench.cli.output import click_echo, console, emit_table
from bench.errors import DataError

LABEL_CHOICES = "L, M, N, E, B, RBC"
SCHEDULER_CHOICES = click.Choice(["ddpm", "ddim", "dpm-solver"])


def _labels(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    from bench.generation import CELL_LABELS, label_of_folder

    if not raw:
        return default
    labels = []
    for part in raw.split(","):
        label = part.strip().upper() if part.strip().upper() in CELL_LABELS else \
            label_of_folder(part.strip())
        if label is None:
            raise DataError(f"--classes: {part.strip()!r} is not a cell class; use "
                            f"{LABEL_CHOICES} or their names")
        labels.append(label)
    return tuple(dict.fromkeys(labels))


def _partitions(raw: str) -> tuple[str, ...]:
    return ("A", "B") if raw == "both" else (raw,)


@contextlib.contextmanager
def _progress(label: str) -> Iterator:
    """A rich progress display (silent when not a terminal); yields an update callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[note]}"), TimeRemainingColumn(), console=console,
                  disable=not console.is_terminal, transient=False) as bar:

        def update(stage: str, done: int, total: int, loss: float | None = None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{label} {stage}", total=total, note="")
            note = f"loss {loss:.4f}" if loss is not None else ""
            bar.update(tasks[stage], completed=done, total=total, note=note)

        yield update


@click.group("generate")
def generate_group() -> None:
    """Train cell generators, sample single cells, compose synthetic data sets."""


@generate_group.command("dataset")
@click.argument("name")
@click.option("--cells", default="procedural", show_default=True,
              help="Cells for the central WBCs: procedural, ddpm, ddpm:DIR or folder:PATH.")
@click.option("--rbc-cells", default=None,
              help="Where the background RBCs come from (default: --cells).")
@click.option("--level", default="complex", show_default=True,
              help="base, complex, or a number from 0 (base) to 5 (complex).")
@click.option("--train", "train", default=1000, show_default=True, help="Training images.")
@click.option("--test", "test", default=1000, show_default=True, help="Test images.")
@click.option("--size", default=256, show_default=True, help="Image side in pixels.")
@click.option("--seed", default=0, show_default=True)
@click.option("--set", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A compositor parameter, e.g. --set max_overlap=0.5 (see `bench generators "
                   "show compositor`). Repeatable.")
@click.option("--scheduler", type=SCHEDULER_CHOICES, default=None,
              help="DDPM sampler (ddpm: the faithful 1000 steps).")
@click.option("--steps", type=int, default=None, help="Sampling steps for --scheduler.")
@click.option("--device", default=None, help="torch device for DDPM sampling.")
@click.option("--workers", type=int, default=None, help="Processes composing images.")
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
    from bench.generation import INFO_FILE, generate_dataset

    settings = {}
    for item in parameters:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataError(f"--set {item!r}: expected KEY=VALUE, e.g. --set max_overlap=0.5")
        settings[key.strip()] = value.strip()
    cell_options = {"scheduler": scheduler, "steps": steps, "device": device}
    with _progress(name) as update:
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
@click.option("--cells", default="procedural", show_default=True,
              help="Cells generator: procedural, ddpm, ddpm:DIR or folder:PATH.")
@click.option("--per-class", default=200, show_default=True, help="Cells per class.")
@click.option("--classes", default=None, help=f"Comma-separated ({LABEL_CHOICES}); default all.")
@click.option("--partition", type=click.Choice(["A", "B"]), default="A", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <Class>/cell_NNNNN.png into (usable as folder:PATH).")
@click.option("--scheduler", type=SCHEDULER_CHOICES, default=None,
              help="DDPM sampler (ddpm: the faithful 1000 steps).")
@click.option("--steps", type=int, default=None, help="Sampling steps for --scheduler.")
@click.option("--batch-size", type=int, default=None, help="Cells sampled at once.")
@click.option("--device", default=None, help="torch device for DDPM sampling.")
@click.option("--seed", default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sample_command(cells: str, per_class: int, classes: str | None, partition: str, out: Path,
                   scheduler: str | None, steps: int | None, batch_size: int | None,
                   device: str | None, seed: int, as_json: bool) -> None:
    """Sample single-cell images into class folders; a rerun continues where it stopped."""
    import time

    from PIL import Image

    from bench.generation import CELL_LABELS, CLASS_FOLDERS, cell_generator

    if per_class < 1:
        raise DataError(f"--per-class {per_class}: ask for at least one cell")
    options = {"scheduler": scheduler, "steps": steps, "batch_size": batch_size,
               "device": device}
    generator = cell_generator(cells, **{k: v for k, v in options.items() if v is not None})
    rows = []
    with _progress("sample") as update:
        for label in _labels(classes, CELL_LABELS):
            folder = out / CLASS_FOLDERS[label]
            folder.mkdir(parents=True, exist_ok=True)
            have = 0
            while have < per_class and (folder / f"cell_{have + 1:05d}.png").is_file():
                have += 1
            started = time.perf_counter()
            chunk = max(1, getattr(generator, "batch_size", 64))
            for start in range(have, per_class, chunk):
                count = min(chunk, per_class - start)
                for offset, cell in enumerate(generator.generate(
                        label, count, partition=partition, seed=seed, start=start)):
                    path = folder / f"cell_{start + offset + 1:05d}.png"
                    temporary = path.with_name(f".{path.name}.tmp")
                    Image.fromarray(cell).save(temporary, format="PNG")
                    temporary.replace(path)
                update(CLASS_FOLDERS[label], start + count, per_class)
            rows.append({"class": CLASS_FOLDERS[label], "cells": per_class, "new": per_class - have,
                         "seconds": round(time.perf_counter() - started, 2), "folder": str(folder)})
    emit_table(rows, ["class", "cells", "new", "seconds", "folder"],
               title=f"Cells from {cells}, partition {partition}", as_json=as_json)


@generate_group.command("train-ddpm")
@click.option("--dataset", default="raabin", show_default=True,
              help="Prepared data set whose train split holds the WBCs to learn.")
@click.option("--partition", type=click.Choice(["A", "B", "both"]), default="both",
              show_default=True, help="Which half of the source to train on.")
@click.option("--rbc", type=click.Path(path_type=Path), default=None,
              help="NIH malaria cell_images folder: trains the RBC model on its Uninfected "
                   "cells.")
@click.option("--classes", default=None,
              help=f"Comma-separated ({LABEL_CHOICES}); default the five WBCs, plus RBC with "
                   "--rbc.")
@click.option("--config", "preset", type=click.Choice(["paper", "tiny"]), default=None,
              help="Network and training preset (default: paper; a checkpoint resumes with its "
                   "own).")
@click.option("--steps", type=int, default=None, help="Training steps per model.")
@click.option("--batch-size", type=int, default=None)
@click.option("--learning-rate", type=float, default=None)
@click.option("--checkpoint-every", type=int, default=None, help="Steps between checkpoints.")
@click.option("--resolution", type=int, default=None, help="Working resolution (paper: 64).")
@click.option("--out", default=None,
              help="Checkpoint folder, or a name in the data home's generators/ "
                   "(default: ddpm-<dataset>). Use it as --cells ddpm:<out>.")
@click.option("--device", default=None, help="torch device (default: cuda when available).")
@click.option("--seed", default=0, show_default=True)
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Train the models one by one here, or as Ray tasks.")
@click.option("--ray-address", help="Join a Ray cluster (`auto`, `ray://host:10001`); "
              "default: start a local Ray instance.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def train_ddpm_command(dataset: str, partition: str, rbc: Path | None, classes: str | None,
                       preset: str | None, steps: int | None, batch_size: int | None,
                       learning_rate: float | None, checkpoint_every: int | None,
                       resolution: int | None, out: str | None, device: str | None, seed: int,
                       executor: str, ray_address: str | None, as_json: bool) -> None:
    """Train one DDPM per class and partition (resumable; checkpoints are diffusers folders)."""
    from bench.generation import CLASS_FOLDERS, CLASSES, RBC, train_cells

    labels = _labels(classes, (*CLASSES, RBC) if rbc else CLASSES)
    options = {"config": preset, "max_steps": steps, "batch_size": batch_size,
               "learning_rate": learning_rate, "checkpoint_every": checkpoint_every,
               "resolution": resolution, "device": device}
    target = out or f"ddpm-{dataset}"
    with _progress("train") as update:
        results = train_cells(
            f"ddpm:{target}", labels=labels, partitions=_partitions(partition), dataset=dataset,
            rbc=rbc, size=max(64, resolution or 0), seed=seed,
            options={k: v for k, v in options.items() if v is not None}, progress=update,
            executor=executor, ray_address=ray_address,
        )
    rows = [{**r, "class": CLASS_FOLDERS[r["label"]], "loss": round(r.get("loss", 0.0), 5)}
            for r in results]
    emit_table(rows, ["class", "partition", "step", "loss", "images", "halving", "device"],
               title=f"DDPM checkpoints in ddpm:{target}", as_json=as_json)
    if not as_json and RBC not in labels:
        click_echo("No RBC model trained (pass --rbc PATH); background RBCs can come from "
                   "--rbc-cells procedural.")


COMMANDS = [generate_group]
