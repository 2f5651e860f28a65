"""`bench generate train-ddpm`: the DDPM generator's own command, added through the hook.

The core's command line knows no generator: this plugin adds its training command to the
`bench generate` group with ``register_commands``, as a third-party plugin would.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from bench_generators.ddpm_model import PRESETS

import bench
from bench import kit

LABEL_CHOICES = "L, M, N, E, B, RBC"


@kit.kept_on_interrupt("Each model keeps its last checkpoint; the same command resumes "
                       "training from it.")
@click.command("train-ddpm")
@click.option("--dataset", default="raabin", show_default=True,
              help="Prepared data set whose train split holds the WBCs to learn (the paper: "
                   "Raabin-WBC).")
@click.option("--partition", type=click.Choice(["A", "B", "both"]), default="both",
              show_default=True, help="Which half of the source to train on.")
@click.option("--rbc", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None,
              help="NIH malaria cell_images folder: trains the RBC model on its Uninfected "
                   "cells.")
@click.option("--classes", default=None,
              help=f"Comma-separated ({LABEL_CHOICES}); default the five WBCs, plus RBC with "
                   "--rbc.")
@click.option("--config", "preset", type=click.Choice(list(PRESETS)), default=None,
              help="Network and training preset (default: paper; diffusers: the paper network "
                   "with diffusers' up blocks, one layer deeper; a checkpoint resumes with its "
                   "own).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Training steps per model.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Training images per step (default: the preset's; paper: 16).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="AdamW learning rate (default: the preset's, 1e-4).")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=None,
              help="Steps between checkpoints.")
@click.option("--resolution", type=click.IntRange(8, 1024), default=None,
              help="Working resolution (paper: 64).")
@click.option("--out", default=None,
              help="Checkpoint folder, or a name in the data home's generators/ "
                   "(default: ddpm-<dataset>). Use it as --cells ddpm:<out>.")
@click.option("--device", default=None, help="torch device (default: cuda when available).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="Seed of the halving into partitions A and B and of training.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Train the models one by one here, or as Ray tasks.")
@click.option("--ray-address", help="Join a Ray cluster (`auto`, `ray://host:10001`); "
              "default: start a local Ray instance.")
@click.option("--dry-run", is_flag=True,
              help="Show the models, steps, a step timed here, the total time and the "
                   "checkpoint disk; train and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def train_ddpm_command(dataset: str, partition: str, rbc: Path | None, classes: str | None,
                       preset: str | None, steps: int | None, batch_size: int | None,
                       learning_rate: float | None, checkpoint_every: int | None,
                       resolution: int | None, out: str | None, device: str | None, seed: int,
                       executor: str, ray_address: str | None, dry_run: bool,
                       as_json: bool) -> None:
    """Train one DDPM per class and partition (resumable; checkpoints are diffusers folders)."""
    from bench_generators.training import estimate_cells, train_cells

    labels = kit.parse_labels(classes, (*bench.CLASSES, kit.RBC) if rbc else bench.CLASSES)
    options = {"config": preset, "max_steps": steps, "batch_size": batch_size,
               "learning_rate": learning_rate, "checkpoint_every": checkpoint_every,
               "resolution": resolution, "device": device or _default_device()}
    target = out or f"ddpm-{dataset}"
    partitions = ("A", "B") if partition == "both" else (partition,)
    request = {"labels": labels, "partitions": partitions, "dataset": dataset, "rbc": rbc,
               "size": max(64, resolution or 0), "seed": seed,
               "options": {k: v for k, v in options.items() if v is not None}}
    if dry_run or (executor == "local" and options["device"] == "cpu"):
        costs = estimate_cells(f"ddpm:{target}", **request)
        if dry_run:
            _print_costs(costs, target, as_json)
            return
        warning = _long_job(costs)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    with kit.stage_progress("train") as update:
        results = train_cells(f"ddpm:{target}", **request, progress=update, executor=executor,
                              ray_address=ray_address)
    rows = [{**r, "class": kit.CLASS_FOLDERS[r["label"]], "loss": round(r.get("loss", 0.0), 5)}
            for r in results]
    kit.emit_table(rows, ["class", "partition", "step", "loss", "images", "halving", "device"],
               title=f"DDPM checkpoints in ddpm:{target}", as_json=as_json)
    if not as_json and kit.RBC not in labels:
        click.echo("No RBC model trained (pass --rbc PATH); background RBCs can come from "
                   "--rbc-cells procedural.")



def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _long_job(costs: list[dict]) -> str | None:
    total = sum(cost["seconds"] for cost in costs)
    device = costs[0]["device"] if costs else "cpu"
    return kit.long_job_warning(total, device, f"training {len(costs)} DDPM models",
                                  "A GPU (--device cuda, or --executor ray on a GPU cluster) "
                                  "or fewer --steps cut it.")


def _print_costs(costs: list[dict], target: str, as_json: bool) -> None:
    """The dry run: per model and in total, time on this device and checkpoint disk."""
    total = sum(cost["seconds"] for cost in costs)
    disk = sum(cost["checkpoint_bytes"] for cost in costs)
    warning = _long_job(costs)
    if as_json:
        click.echo(json.dumps({"models": costs, "seconds": total, "checkpoint_bytes": disk,
                               "warning": warning}, indent=2, default=str))
        return
    rows = [{"class": kit.CLASS_FOLDERS[c["label"]], "partition": c["partition"],
             "images": c["images"], "steps": f"{c['steps']} of {c['max_steps']}",
             "step": kit.human_duration(c["seconds_per_step"]),
             "time": kit.human_duration(c["seconds"]),
             "disk": kit.human_bytes(c["checkpoint_bytes"])} for c in costs]
    kit.emit_table(rows, ["class", "partition", "images", "steps", "step", "time", "disk"],
                     title=f"train-ddpm --dry-run: ddpm:{target}")
    first = costs[0] if costs else {"parameters": 0, "device": "cpu", "seconds_per_step": 0}
    click.echo(f"dry run: {len(costs)} models of {first['parameters']:,} parameters, about "
               f"{kit.human_duration(total)} on {first['device']} (one step measured here: "
               f"{kit.human_duration(first['seconds_per_step'])}); checkpoints "
               f"{kit.human_bytes(disk)} (the weights, AdamW state and EMA of each; a save "
               f"briefly needs one more). Nothing was trained or written.")
    if warning:
        click.echo(f"warning: {warning}", err=True)
