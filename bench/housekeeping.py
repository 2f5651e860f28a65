"""Housekeeping of the data home: forget runs, prune checkpoints nobody will read again.

`bench runs forget` removes a run everywhere (its rows in every table, its checkpoint folder);
`bench runs prune` keeps only what re-testing a finished cell needs, its best checkpoint.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.errors import BenchError, OptionError, RunError
from bench.home import data_home
from bench.runs import INTERRUPTED, matching_ids, shown_status
from bench.store import ResultsStore

FORGET_STATUSES = ("failed", "stale", INTERRUPTED)
CHECKPOINT_SUFFIXES = (".pt", ".partial")  # what training.py writes into runs/<id>/


def run_folder(run_id: str) -> Path:
    """Where a run's checkpoints are (``home.subdir("runs", id)``), without creating it."""
    return data_home(create=False) / "runs" / run_id


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def _stale(run: dict[str, Any]) -> bool:
    """Trained on a source whose prepared split changed since, or that is no longer prepared."""
    from bench.data import load_prepared

    try:
        return load_prepared(run["source"]).fingerprint != run["split_fingerprint"]
    except BenchError:  # unknown or not prepared any more
        return True


def select_runs(store: ResultsStore, run_ids: Sequence[str] = (),
                status: str | None = None) -> list[dict[str, Any]]:
    """The runs named by id or prefix (every run it starts), or every run of a status.

    A prefix is read as written, never as a pattern; one that starts no run is an error naming
    it. The caller asks before forgetting several runs.
    """
    if bool(run_ids) == bool(status):
        raise OptionError("give run ids or --status (failed, stale or interrupted), not both "
                          "and not neither; `bench runs list` shows the ids")
    if status is not None:
        if status not in FORGET_STATUSES:
            raise OptionError(f"--status {status}: use one of {', '.join(FORGET_STATUSES)}")
        rows = store.runs().to_dict("records")
        if status == "stale":
            return [row for row in rows if _stale(row)]
        return [row for row in rows if shown_status(row) == status]
    chosen: dict[str, dict[str, Any]] = {}
    for prefix in run_ids:
        for run_id in matching_ids(store, prefix):
            run = store.run(run_id)
            if run is not None:
                chosen[run_id] = run
    return list(chosen.values())


def forget_runs(store: ResultsStore, runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete each run's rows and checkpoint folder; a run still training is refused first.

    Nothing is deleted when one of the runs is alive: the message names it and says to wait
    for (or stop) its process.
    """
    alive = [run for run in runs if shown_status(run) == "running"]
    if alive:
        names = ", ".join(f"{r['id']} ({r['model']} on {r['source']}, seed {r['seed']}, "
                          f"process {r['owner']})" for r in alive)
        raise RunError(f"cannot forget a run that is still training: {names}. Wait for it to "
                       f"end (or stop its process); nothing was removed.")
    report = []
    for run in runs:
        folder = run_folder(run["id"])
        size, existed = folder_bytes(folder), folder.exists()
        rows = store.forget(run["id"])
        if existed:
            shutil.rmtree(folder)
        report.append({"id": run["id"], "model": run["model"], "source": run["source"],
                       "seed": run["seed"], "status": shown_status(run), "rows": rows,
                       "folder": str(folder) if existed else None, "bytes": size})
    return report


def prunable(store: ResultsStore) -> list[dict[str, Any]]:
    """Checkpoints of finished runs other than their best one (the one re-testing reads).

    A folder whose best checkpoint is missing is left alone: its last epoch's checkpoint may
    be all that is left of the model.
    """
    found = []
    for run in store.runs("finished").to_dict("records"):
        folder = run_folder(run["id"])
        keep = {folder / "best.pt"}
        if run.get("checkpoint"):
            keep.add(folder / Path(str(run["checkpoint"])).name)
        if not folder.is_dir() or not any(path.is_file() for path in keep):
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path not in keep and path.name.endswith(CHECKPOINT_SUFFIXES):
                found.append({"id": run["id"], "model": run["model"], "source": run["source"],
                              "seed": run["seed"], "path": str(path),
                              "bytes": path.stat().st_size})
    return found


def prune_checkpoints(store: ResultsStore, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Delete (or with ``dry_run`` only list) what :func:`prunable` finds."""
    found = prunable(store)
    if not dry_run:
        for entry in found:
            Path(entry["path"]).unlink(missing_ok=True)
    return found
