"""Run the matrix on Ray: one task per cell, results streamed back to the driver.

Only the driver writes the results store (SQLite must not be shared over a network file
system). Workers read prepared data sets and write checkpoints under the data home, which
should be a shared file system on a multi-node cluster: then a cell whose worker dies is
retried elsewhere from its last epoch checkpoint, otherwise it restarts from scratch. Either
way it is recorded once, because only a task that returns is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench import provenance
from bench.errors import BenchError, RunError
from bench.home import data_home, subdir
from bench.store import ResultsStore

if TYPE_CHECKING:
    from bench.engine.progress import Listener
    from bench.engine.runner import CellResult
    from bench.engine.training import CellPlan, Outcome

TASK_RETRIES = 3  # a worker lost mid-cell (machine gone, OOM-killed) is retried this often


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RunError(
            "the Ray executor needs Ray, which is not installed here. Install the extra: "
            "pip install 'wbc-bench[ray]' (or: pip install 'ray[default]')"
        ) from exc
    return ray


def _train_cell(plan: CellPlan, home: str, threads: int) -> Outcome:
    """What a Ray worker runs: the same function as the local executor, in the same data home."""
    import torch

    from bench.engine.training import train_and_evaluate

    os.environ["BENCH_HOME"] = home
    torch.set_num_threads(threads)
    return train_and_evaluate(plan)


def _error_text(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # RayTaskError wraps the task's own exception
    if isinstance(cause, BenchError):
        return str(cause)
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def map_on_ray(function: Callable[..., Any], calls: Sequence[dict[str, Any]], *,
               address: str | None = None, gpus_per_call: float | None = None,
               cpus_per_call: int = 1, describe: Callable[[dict], str] = str) -> list[Any]:
    """Run ``function(**call)`` for every call as a Ray task; results in the order of calls.

    A task whose worker dies is retried; a task that raises stops the whole map with its
    error, named by ``describe``.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        if gpus_per_call is None:
            gpus_per_call = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        task = ray.remote(num_cpus=cpus_per_call, num_gpus=gpus_per_call,
                          max_retries=TASK_RETRIES, retry_exceptions=False)(function)
        refs = [task.remote(**call) for call in calls]
        results = []
        for call, ref in zip(calls, refs):
            try:
                results.append(ray.get(ref))
            except Exception as exc:
                raise RunError(f"{describe(call)} failed on Ray: {_error_text(exc)}") from exc
        return results
    finally:
        if started_here:
            ray.shutdown()


def run_ray(
    plans: Sequence[CellPlan],
    store: ResultsStore,
    listener: Listener,
    *,
    address: str | None = None,
    gpus_per_cell: float | None = None,
    cpus_per_cell: int = 1,
    retry_failed: bool = False,
    ray_init: dict[str, Any] | None = None,
) -> list[CellResult]:
    """Submit every unfinished cell as a Ray task; record each result as it arrives."""
    from bench.engine.runner import (
        CellResult,
        cell_label,
        cell_of,
        heartbeats,
        record_outcome,
        run_settings,
        skipped_result,
    )

    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **(ray_init or {}))
    try:
        if gpus_per_cell is None:
            gpus_per_cell = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        task = ray.remote(num_cpus=cpus_per_cell, num_gpus=gpus_per_cell,
                          max_retries=TASK_RETRIES, retry_exceptions=False)(_train_cell)
        home = str(data_home())
        listener.on_matrix_start(len(plans))
        results: list[CellResult] = []
        pending: dict[Any, tuple[Any, str]] = {}
        for plan in plans:
            cell = cell_of(plan)
            run_id = store.claim(cell, settings=run_settings(plan),
                                 provenance={**provenance.collect(), "executor": "ray"},
                                 retry_failed=retry_failed)
            if run_id is None:
                results.append(skipped_result(store, cell, listener))
                continue
            plan.checkpoint_dir = subdir("runs", run_id)
            pending[task.remote(plan, home, cpus_per_cell)] = (cell, run_id)
        listener.notice(f"{len(pending)} cell(s) submitted to Ray, "
                        f"{sum(r.status == 'skipped' for r in results)} skipped")
        with heartbeats(store, {run_id for _, run_id in pending.values()}):
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                cell, run_id = pending.pop(ready[0])
                try:
                    outcome = ray.get(ready[0])
                except Exception as exc:  # the task's error, or its worker lost too often
                    message = _error_text(exc)
                    store.fail(run_id, message)
                    results.append(CellResult(cell, "failed", message))
                    listener.on_cell_end(cell_label(cell), "failed",
                                         f"{message} ({len(pending)} running or queued)")
                    continue
                for entry in outcome.history:
                    store.record_epoch(run_id, entry["epoch"], entry)
                record_outcome(store, run_id, outcome)
                scores = {ev.target: ev.metrics for ev in outcome.evaluations}
                results.append(CellResult(cell, "finished", f"best epoch {outcome.best_epoch}",
                                          scores))
                listener.on_cell_end(cell_label(cell), "finished",
                                     f"(best epoch {outcome.best_epoch} of {outcome.epochs}; "
                                     f"{len(pending)} running or queued)")
        return results
    finally:
        if started_here:
            ray.shutdown()
