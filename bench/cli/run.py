"""`bench run` and `bench runs ...`: the protocol engine and its records."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.text import Text

from bench.cli.output import (
    WholeHelpGroup,
    click_echo,
    console,
    emit_line,
    emit_table,
    errors,
)
from bench.errors import BenchError
from bench.store import open_store

INCOMPLETE = 3  # exit code: some cells were left to other processes still running them


def executor_options(command):
    """``--executor`` and every executor's own options (``--slurm-time``), from the table."""
    from bench.engine.executors import EXECUTORS

    for spec in reversed(EXECUTORS.values()):
        for option in reversed(spec.options):
            default = option.default_text or option.default
            command = click.option(
                option.flag(spec.name),
                type=click.Choice(option.choices) if option.choices else option.type,
                metavar=option.metavar, help=f"{option.help} [--executor {spec.name}; "
                                             f"default: {default}]",
            )(command)
    where = "; ".join(f"{spec.name}: {spec.summary}" for spec in EXECUTORS.values())
    return click.option("--executor", type=click.Choice(list(EXECUTORS)), default="local",
                        show_default=True, help=f"Where the cells train ({where}).")(command)



def print_dry_run(request, as_json: bool) -> None:
    """Resolve the matrix as `bench run` does, time one step per model, print; run nothing."""
    from bench.engine.run_display import QuietListener
    from bench.engine.runner import dry_run

    listener = QuietListener()
    estimate = dry_run(request, listener)
    warning = estimate.warning()
    if as_json:
        click_echo(json.dumps({
            "cells": [asdict(cell) for cell in estimate.cells],
            "max_epochs": estimate.max_epochs, "device": estimate.device,
            "seconds": estimate.seconds, "checkpoint_bytes": estimate.checkpoint_bytes,
            "measured": estimate.measured, "warning": warning, "notices": listener.notices,
        }, indent=2))
        return
    for notice in listener.notices:
        console.print(f"[yellow]notice:[/] {notice}", highlight=False, soft_wrap=True)
    emit_table(estimate.rows(), ["model", "source", "seed", "status", "epochs", "time", "disk",
                                 "detail"],
               title=f"bench run --dry-run ({request.protocol.name}, {request.protocol.hash})",
               keys=["model", "source"])
    console.print(f"dry run: {estimate.summary()}", highlight=False, soft_wrap=True)
    if warning:
        errors.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    console.print("Nothing was trained or recorded; give the command without --dry-run to "
                  "run it.", highlight=False)


@click.command("run")
@click.option("--model", "models", multiple=True, required=True,
              help="Model name, comma list, or `all`.")
@click.option("--source", "sources", multiple=True, required=True,
              help="Source data set(s) to train on, comma list, `all` (prepared benchmark "
                   "sets) or `all+generated` (and the generated ones).")
@click.option("--target", "targets", multiple=True, default=["all"], show_default=True,
              help="Target data set(s) to test on, comma list, `all` (prepared benchmark "
                   "sets) or `all+generated` (and the generated ones).")
@click.option("--seeds", "seed_count", metavar="N",
              help="How many seeds: 0, 1, ... N-1 (default: seed 0 alone).")
@click.option("--seed", "seed_list", metavar="S[,S...]",
              help="Exactly these seeds, e.g. --seed 5 or --seed 0,5,7.")
@click.option("--protocol", default="zedda2024", show_default=True,
              help="Built-in protocol name (zedda2024, quick, linear-probe, knn) or a TOML file.")
@click.option("--shots", metavar="K[,K...]",
              help="Train on K images per class of the source's train split (or `all`); a "
                   "comma list (1,5,all) runs each. The draw depends only on the split, K and "
                   "the seed.")
@click.option("--epochs", type=int, help="Override the protocol's maximum number of epochs.")
@click.option("--batch-size", type=int, help="Override the protocol's batch size.")
@click.option("--image-size", type=int, help="Override the input size (default: the model's).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
              show_default=True, help="Where to train: auto takes cuda, then mps, then cpu.")
@click.option("--workers", type=int, default=0, show_default=True,
              help="Data loader worker processes.")
@click.option("--weights", type=click.Path(dir_okay=False),
              help="Local pretrained weights (safetensors or a plain state dict).")
@click.option("--no-pretrained", is_flag=True, help="Start from random weights (not the protocol).")
@click.option("--retry-failed", is_flag=True, help="Run cells that failed before again.")
@executor_options
@click.option("--dry-run", is_flag=True,
              help="Show the cells, their status, epochs, the time (a step measured here) and "
                   "checkpoint disk a run would take; train and record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_command(models, sources, targets, seed_count, seed_list, protocol, shots, epochs,
                batch_size, image_size, device, workers, weights, no_pretrained, retry_failed,
                executor, dry_run, as_json, **executor_values) -> None:
    """Train on each source, early-stop on its validation split, test on every target.

    Finished cells are skipped and interrupted ones resume, so the same command can be given
    again until the whole matrix is done.
    """
    from bench.engine.executors import options_given, resolve_options
    from bench.engine.few_shot import parse_shots, shots_of
    from bench.engine.options import check_run_options, seeds_from
    from bench.engine.run_display import QuietListener, display_for
    from bench.engine.runner import (
        RunRequest,
        incomplete_notice,
        result_rows,
        run_benchmark,
        skipped_as_failed,
    )
    from bench.protocols import load_protocol

    check_run_options(epochs=epochs, batch_size=batch_size, image_size=image_size,
                      workers=workers)
    chosen_options = options_given(executor, {f"--{param.replace('_', '-')}": value
                                              for param, value in executor_values.items()})
    resolve_options(executor, chosen_options)  # each value checked before anything is loaded
    chosen_seeds = seeds_from(seed_count, seed_list)
    chosen_shots = parse_shots(shots)
    recipe = load_protocol(protocol).with_overrides(
        training={"max_epochs": epochs, "batch_size": batch_size},
        input={"size": image_size},
    )
    request = RunRequest(
        models=models, sources=sources, targets=targets, protocol=recipe,
        seeds=chosen_seeds, device=device, workers=workers,
        pretrained=not no_pretrained, weights=weights, retry_failed=retry_failed,
        executor=executor, executor_options=chosen_options, shots=chosen_shots,
    )
    if dry_run:
        print_dry_run(request, as_json)
        return
    listener = QuietListener() if as_json else display_for(console)
    results = run_benchmark(request, listener)
    from bench.metrics import DEFAULT_METRIC

    rows = result_rows(results)
    for row in rows:  # one compact column per target: its F1 in percent
        for target, metrics in row.pop("scores").items():
            row[f"{DEFAULT_METRIC} {target}"] = round(100 * metrics[DEFAULT_METRIC], 1)
    columns = ["model", "source", "seed", "status", "detail"]
    if chosen_shots:
        for row in rows:
            row["shots"] = shots_of(row["overrides"])
        columns.insert(3, "shots")
    columns += sorted({key for row in rows for key in row if key.startswith("f1 ")})
    emit_table(rows, columns, title=f"bench run ({recipe.name}, {recipe.hash})", as_json=as_json,
               keys=["model", "source"])
    failed = [result for result in results if result.status == "failed"]
    skipped = skipped_as_failed(results)
    notice = incomplete_notice(results)
    if failed:
        raise BenchError(failed_summary(failed, len(results), skipped))
    if skipped:  # a failure given again unchanged is still a failure: say so, exit 1
        if notice:
            errors.print(notice, highlight=False, soft_wrap=True)
        raise BenchError(skipped_summary(skipped))
    if notice:
        errors.print(notice, highlight=False, soft_wrap=True)
        raise SystemExit(INCOMPLETE)


def retry_command() -> str:
    """The `bench run` command given, again, with --retry-failed."""
    import shlex

    root = click.get_current_context().find_root()
    argv = list(getattr(root.command, "argv", None) or ["run", "..."])
    return shlex.join(["bench", *argv, *([] if "--retry-failed" in argv else ["--retry-failed"])])


def skipped_summary(skipped: list) -> str:
    """The final line of a run that left cells failed before under the same settings."""
    from bench.engine.plans import cell_label

    cells = ", ".join(cell_label(result.cell) for result in skipped[:3])
    more = " ..." if len(skipped) > 3 else ""
    return (f"{len(skipped)} cell(s) skipped as failed before under the same settings "
            f"({cells}{more}; `bench runs list --status failed` shows why). Fix the cause and "
            f"run them again with: {retry_command()}")


def failed_summary(failed: list, total: int, skipped: list = ()) -> str:
    """Each failed cell with its reason, and how to run them again."""
    from bench.engine.plans import cell_label

    lines = [f"{len(failed)} of {total} cells failed:"]
    lines += [f"  {cell_label(result.cell)}: {result.detail}" for result in failed]
    if skipped:
        lines.append(f"{len(skipped)} more cell(s) skipped as failed before under the same "
                     f"settings.")
    lines.append("Fix the cause, then give the same command with --retry-failed; finished "
                 "cells are kept and skipped.")
    return "\n".join(lines)


@click.group("runs", cls=WholeHelpGroup)
def runs_group() -> None:
    """Recorded runs: status, timings, epochs, scores."""


RUN_COLUMNS = ["id", "model", "source", "seed", "status", "epochs"]  # errors go below
ALL_RUN_COLUMNS = ["id", "model", "source", "seed", "protocol", "init", "status", "epochs",
                   "best_epoch", "seconds", "error"]


@runs_group.command("list")
@click.option("--status", type=click.Choice(["running", "finished", "failed", "interrupted"]),
              help="Only runs of this status; interrupted: running rows whose process died.")
@click.option("--all", "show_all", is_flag=True,
              help="Also show the protocol (and its overrides), the initialisation, best epoch and "
              "seconds taken, errors in the table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_runs(status: str | None, show_all: bool, as_json: bool) -> None:
    """List runs in the results store."""
    from bench.runs import run_rows

    store = open_store(read_only=True)  # listing writes nothing: a read-only home works
    rows = run_rows(store, status)
    emit_table(rows, ALL_RUN_COLUMNS if show_all else RUN_COLUMNS, title="Runs",
               as_json=as_json, keys=["id", "model", "source"])
    if not as_json and not show_all:  # a paragraph each: readable at any terminal width
        for row in rows:
            if isinstance(row.get("error"), str) and row["error"]:
                emit_line(Text.assemble((f"{row['id']}: ", "bold red"), row["error"]))
            if row.get("resume"):
                emit_line(Text.assemble((f"{row['id']}: ", "bold yellow"),
                                        f"interrupted (its process died); resume: {row['resume']}"))


def _epoch_row(row: dict) -> dict:
    """Losses to 4 places, validation scores in % as boards show them (JSON keeps every digit)."""
    def shown(key: str, form: str, scale: float = 1.0) -> str:
        value = row.get(key)
        return "-" if value is None else format(scale * value, form)
    return {"epoch": row["epoch"], "train loss": shown("train_loss", ".4f"),
            "val loss": shown("val_loss", ".4f"),
            "val accuracy (%)": shown("val_accuracy", ".1f", 100),
            "val F1 (%)": shown("val_f1", ".1f", 100),
            "images/s": shown("images_per_second", ".1f")}


@runs_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def show_run(run_id: str, as_json: bool) -> None:
    """Show one run (id or unique prefix): provenance, epochs and scores per target."""
    from bench.metrics import METRICS
    from bench.runs import run_report

    run = run_report(open_store(read_only=True), run_id)
    if as_json:
        click.echo(json.dumps(run, indent=2, default=str))
        return
    for key in ("id", "model", "source", "seed", "protocol", "protocol_hash", "overrides",
                "init", "split_fingerprint", "status", "epochs", "best_epoch", "checkpoint",
                "error"):
        console.print(f"[bold]{key}[/]: {run[key]}", highlight=False)
    if run.get("resume"):
        console.print(f"[bold]resume[/]: {run['resume']}", highlight=False, soft_wrap=True)
    console.print(f"[bold]git revision[/]: {run['provenance'].get('git_revision')}")
    selection = run["summary"].get("selection", "not recorded (an older run)")
    console.print(f"[bold]epoch chosen by[/]: {selection} on the source's validation split",
                  highlight=False)
    emit_table([_epoch_row(row) for row in run["epoch_log"]],
               ["epoch", "train loss", "val loss", "val accuracy (%)", "val F1 (%)",
                "images/s"], title="Epochs")
    metrics = list(METRICS)
    emit_table(
        [{"target": t, **{m: f"{100 * v[m]:.1f}" for m in metrics if m in v}}
         for t, v in run["scores"].items()],
        ["target", *metrics], title="Scores (%)",
    )




@click.command("demo")
@click.option("--model", default=None,
              help="Model to train (default: the one the model plugins offer for the demo, "
                   "timm:resnet18 with the first-party ones).")
@click.option("--train", default=1000, show_default=True, help="Training images per level.")
@click.option("--test", default=500, show_default=True, help="Test images per level.")
@click.option("--epochs", type=int, help="Override the quick protocol's maximum epochs.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the leaderboard and heat map go (default: <data home>/demo).")
def demo_command(model: str | None, train: int, test: int, epochs: int | None,
                 out_dir: Path | None) -> None:
    """Run the whole benchmark on embedded synthetic data (no download, no GPU).

    Composes demo-b (base level) and demo-c (complex level) from the default cells generator,
    trains a model on demo-c with the quick protocol, tests it on every prepared data set and prints
    the cross-data-set leaderboard.
    """
    from bench.demo import DemoSettings, run_demo
    from bench.engine.options import check_run_options
    from bench.engine.run_display import display_for

    check_run_options(epochs=epochs)  # before composing anything

    settings = DemoSettings(model=model, train=train, test=test, epochs=epochs)
    result = run_demo(settings, display_for(console), out_dir)
    click.echo(result.markdown)
    console.print(f"leaderboard: {result.leaderboard}", highlight=False)
    for path in result.heatmaps:
        console.print(f"heat map: {path}", highlight=False)


COMMANDS = [run_command, runs_group, demo_command]
