"""`bench runs forget`, `bench runs prune`, `bench datasets remove`: freeing the data home.

Added to the `runs` and `datasets` groups; each is a thin layer over bench.housekeeping and
bench.data.remove.
"""

from __future__ import annotations

import json

import click
from rich.markup import escape

from bench.cli.datasets import datasets_group
from bench.cli.output import click_echo, console, emit_table, errors
from bench.cli.run import runs_group
from bench.errors import BenchError
from bench.store import open_store


def _size(count: int) -> str:
    from bench.engine.job_cost import human_bytes

    return human_bytes(count)


def _confirm(question: str, declined: str) -> None:
    """Ask; a "no", or no answer at all (no terminal), is an error that says what was kept."""
    try:
        agreed = click.confirm(question, default=False)
    except click.Abort:  # end of input or Ctrl-C
        agreed = False
    if not agreed:
        raise BenchError(declined)


@runs_group.command("forget")
@click.argument("run_ids", nargs=-1)
@click.option("--status", type=click.Choice(["failed", "stale", "interrupted"]),
              help="Forget every run of this kind: failed; interrupted (its process died); "
                   "stale (its source was re-prepared with another split, or removed).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before forgetting several runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def forget_command(run_ids: tuple[str, ...], status: str | None, yes: bool,
                   as_json: bool) -> None:
    """Forget runs: their rows, scores and checkpoints.

    RUN_IDS are ids or unique prefixes (`bench runs list`). Their epochs, scores and
    predictions leave the store and their checkpoint folders are deleted; a run still
    training is refused.
    """
    from bench.housekeeping import forget_runs, select_runs

    if bool(run_ids) == bool(status):
        raise click.UsageError("give run ids or --status, not both and not neither "
                               "(`bench runs list` shows the ids)")
    store = open_store()
    runs = select_runs(store, run_ids, status)
    if not runs:
        click_echo("[]" if as_json else f"no {status} runs to forget")
        return
    if (status or len(runs) > 1) and not yes:
        for run in runs:
            console.print(f"  {run['id']} {run['model']} on {run['source']} (seed {run['seed']})",
                          highlight=False)
        _confirm(f"Forget these {len(runs)} runs, their scores and checkpoints?",
                 "Nothing was forgotten. Name one run by more of its id, or give --yes to "
                 "forget every run listed.")
    report = forget_runs(store, runs)
    if as_json:
        click_echo(json.dumps(report, indent=2))
        return
    for entry in report:
        rows = sum(entry["rows"].values())
        folder = (f"; {entry['folder']} ({_size(entry['bytes'])})" if entry["folder"]
                  else "; no checkpoint folder")
        console.print(f"forgot {entry['id']} ({entry['model']} on {entry['source']}, seed "
                      f"{entry['seed']}, {entry['status']}): {rows} store rows{folder}",
                      highlight=False, soft_wrap=True)


@runs_group.command("prune")
@click.option("--dry-run", is_flag=True, help="List the checkpoints, delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def prune_command(dry_run: bool, as_json: bool) -> None:
    """Delete checkpoints finished runs no longer need.

    Every checkpoint of a finished run but its best one (what re-testing reads) goes;
    unfinished runs keep theirs, as an interrupted run resumes from its last epoch.
    """
    from bench.housekeeping import prune_checkpoints

    found = prune_checkpoints(open_store(), dry_run=dry_run)
    total = sum(entry["bytes"] for entry in found)
    if as_json:
        click_echo(json.dumps({"dry_run": dry_run, "bytes": total, "checkpoints": found},
                              indent=2))
        return
    emit_table([{**entry, "size": _size(entry["bytes"])} for entry in found],
               ["id", "model", "source", "seed", "path", "size"],
               title="Checkpoints to delete" if dry_run else "Deleted checkpoints",
               keys=["id", "path"])
    verb = "would free" if dry_run else "freed"
    console.print(f"{len(found)} checkpoint(s): {verb} {_size(total)} ({total} bytes)",
                  highlight=False)


@datasets_group.command("remove")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True,
              help="Remove it even while a run trains or tests on it (that run will fail).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def remove_command(name: str, yes: bool, force: bool, as_json: bool) -> None:
    """Remove a prepared data set and its caches.

    Its manifest, audit and decoded caches go, and a generated set's images. The official
    download it was prepared from is never touched; runs and scores stay in the
    results store (`bench runs forget --status stale` forgets them).
    """
    from bench.data.remove import in_use_message, planned_removal, refuse_in_use, remove_dataset

    plan = planned_removal(name)
    if not force:
        refuse_in_use(plan)  # before asking
    elif plan.in_use:
        errors.print(f"[yellow]warning:[/] {escape(in_use_message(plan))}; removed anyway "
                     f"(--force), so that run will fail.", highlight=False, soft_wrap=True)
    if not as_json or not yes:
        for path, size in plan.paths:
            console.print(f"  {path} ({_size(size)})", highlight=False, soft_wrap=True)
    if not yes:
        _confirm(f"Remove data set {plan.name}?", "Nothing was removed.")
    remove_dataset(plan, force=force)
    if as_json:
        click_echo(json.dumps({"name": plan.name, "removed": [str(p) for p, _ in plan.paths],
                               "bytes": plan.bytes, "generated": plan.generated}, indent=2))
        return
    what = "its generated images and its prepared files" if plan.generated else "its prepared files"
    console.print(f"removed {plan.name}: {what}, {_size(plan.bytes)} freed. Runs and scores "
                  f"that used it are kept in the results store (`bench runs forget --status "
                  f"stale` forgets them).", highlight=False, soft_wrap=True)


COMMANDS: list[click.Command] = []  # the commands join the `runs` and `datasets` groups
