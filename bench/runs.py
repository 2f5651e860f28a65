"""Recorded runs as plain records: what `bench runs list` and `bench runs show` print.

Joins the store's tables (runs, epochs, scores) into one record per run, so scripts and the
command line read the same thing.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from bench.errors import BenchError
from bench.store import ResultsStore, run_alive

INTERRUPTED = "interrupted"  # a `running` row whose process died: shown so, resumable
STATUSES = ("running", "finished", "failed", INTERRUPTED)


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)  # pandas: NaN is None


def shown_status(run: Mapping[str, Any]) -> str:
    """The status a user sees: a `running` row nobody works on any more is `interrupted`."""
    if run["status"] == "running" and not run_alive(run.get("owner"),
                                                     _number(run.get("heartbeat"))):
        return INTERRUPTED
    return str(run["status"])


def resume_command(run: Mapping[str, Any]) -> str:
    """The `bench run` that takes this run's cell up again (its checkpoint resumes it)."""
    from bench.protocols import builtin_names, load_protocol

    settings = run.get("settings") or {}
    if isinstance(settings, str):
        settings = json.loads(settings)
    source = str(settings.get("protocol_source") or "")
    protocol = source.removeprefix("protocol ") if source.startswith("protocol ") else source
    if protocol not in builtin_names() and not protocol.endswith(".toml"):
        protocol = str(run["protocol"])
    args = ["bench", "run", "--model", run["model"], "--source", run["source"],
            "--seed", str(run["seed"]), "--protocol", protocol]
    if settings.get("targets"):
        args += ["--target", ",".join(settings["targets"])]
    recipe = settings.get("protocol_recipe") or {}
    try:
        base = load_protocol(protocol).recipe
    except BenchError:
        base = recipe
    for flag, section, key in (("--epochs", "training", "max_epochs"),
                               ("--batch-size", "training", "batch_size"),
                               ("--image-size", "input", "size")):
        value = recipe.get(section, {}).get(key)
        if value is not None and value != base.get(section, {}).get(key):
            args += [flag, str(value)]
    if settings.get("pretrained") is False:
        args.append("--no-pretrained")
    if settings.get("weights"):
        args += ["--weights", str(settings["weights"])]
    if settings.get("device") not in (None, "auto"):
        args += ["--device", str(settings["device"])]
    if settings.get("workers"):
        args += ["--workers", str(settings["workers"])]
    return shlex.join(args)


def _whole(value: Any) -> int | None:
    """An epoch count as stored (a float column with NaN for none) as a reader counts it."""
    return None if value is None or value != value else int(value)


def run_rows(store: ResultsStore, status: str | None = None) -> list[dict[str, Any]]:
    """One row per run: its cell, status, epochs and how long it took.

    An interrupted run's row has the command that resumes it (``resume``).
    """
    stored = "running" if status == INTERRUPTED else status
    rows = []
    for row in store.runs(stored).to_dict("records"):
        seconds = (row["finished"] or 0) - (row["started"] or 0)
        shown = shown_status(row)
        if status is not None and shown != status:
            continue
        rows.append({
            "id": row["id"], "model": row["model"], "source": row["source"], "seed": row["seed"],
            "protocol": f"{row['protocol']} ({row['protocol_hash'][:8]})"
                        + (f" with {row['overrides']}" if row.get("overrides") else ""),
            "init": row.get("init") or "pretrained",
            "status": shown, "epochs": _whole(row["epochs"]),
            "best_epoch": _whole(row["best_epoch"]),
            "seconds": round(seconds, 1) if row["finished"] else None,
            "error": row["error"] if isinstance(row["error"], str) else None,
            "resume": resume_command(row) if shown == INTERRUPTED else None,
        })
    return rows


def matching_ids(store: ResultsStore, prefix: str) -> list[str]:
    """The ids a prefix given on the command line names (taken literally); at least one."""
    ids = store.run_ids(prefix)
    if not ids:
        hint = "" if set(prefix) <= set("0123456789abcdef") and prefix else (
            " (run ids are hexadecimal, 0-9 and a-f, and a prefix is read as written)")
        raise BenchError(f"no single run matches {prefix!r}{hint}; `bench runs list` shows "
                         f"the ids")
    return ids


def _listed_runs(store: ResultsStore, ids: list[str]) -> str:
    """``id (model on source, seed N)`` for each id, for messages that name several runs."""
    runs = store.runs().set_index("id")
    return ", ".join(f"{run_id} ({runs.at[run_id, 'model']} on {runs.at[run_id, 'source']}, "
                     f"seed {runs.at[run_id, 'seed']})" for run_id in ids if run_id in runs.index)


def run_report(store: ResultsStore, run_id: str) -> dict[str, Any]:
    """One run (id or unique prefix) with its provenance, epoch log and scores per target."""
    ids = matching_ids(store, run_id)
    if len(ids) > 1:
        raise BenchError(f"{len(ids)} runs start with {run_id!r}: {_listed_runs(store, ids)}. "
                         f"Give more of the id (`bench runs list` shows them).")
    run = store.run(ids[0])
    if run is None:
        raise BenchError(f"no single run matches {run_id!r}; `bench runs list` shows the ids")
    scores = store.scores()
    scores = scores[scores.run_id == run["id"]]
    run["scores"] = {
        target: dict(zip(group.metric, group.value)) for target, group in scores.groupby("target")
    }
    run["status"] = shown_status(run)
    run["resume"] = resume_command(run) if run["status"] == INTERRUPTED else None
    return run
