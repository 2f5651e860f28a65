"""Recorded runs as plain records: what `bench runs list` and `bench runs show` print.

Joins the store's tables (runs, epochs, scores) into one record per run, so scripts and the
command line read the same thing.
"""

from __future__ import annotations

from typing import Any

from bench.errors import BenchError
from bench.store import ResultsStore


def run_rows(store: ResultsStore, status: str | None = None) -> list[dict[str, Any]]:
    """One row per run: its cell, status, epochs and how long it took."""
    rows = []
    for row in store.runs(status).to_dict("records"):
        seconds = (row["finished"] or 0) - (row["started"] or 0)
        rows.append({
            "id": row["id"], "model": row["model"], "source": row["source"], "seed": row["seed"],
            "protocol": f"{row['protocol']} ({row['protocol_hash'][:8]})",
            "status": row["status"], "epochs": row["epochs"], "best_epoch": row["best_epoch"],
            "seconds": round(seconds, 1) if row["finished"] else None, "error": row["error"],
        })
    return rows


def run_report(store: ResultsStore, run_id: str) -> dict[str, Any]:
    """One run (id or unique prefix) with its provenance, epoch log and scores per target."""
    run = store.run(run_id)
    if run is None:
        raise BenchError(f"no single run matches {run_id!r}; `bench runs list` shows the ids")
    scores = store.scores()
    scores = scores[scores.run_id == run["id"]]
    run["scores"] = {
        target: dict(zip(group.metric, group.value)) for target, group in scores.groupby("target")
    }
    return run
