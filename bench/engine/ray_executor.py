"""Run work on Ray: cells of the matrix (:class:`RayExecutor`) or any calls (:func:`map_on_ray`).

Only the driver writes the results store (SQLite must not be shared over a network file
system). Workers read prepared data sets and write checkpoints under the data home, which
should be a shared file system on a multi-node cluster: then a cell whose worker dies is
retried elsewhere from its last epoch checkpoint, otherwise it restarts from scratch. Either
way it is recorded once, because only a task that returns is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bench.errors import BenchError, RunError
from bench.home import data_home

if TYPE_CHECKING:
    from bench.engine.plans import CellPlan, Claimed, Outcome, Result
    from bench.engine.run_display import Listener

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


@contextmanager
def ray_session(address: str | None, ray_init: dict[str, Any] | None = None) -> Iterator[Any]:
    """Connect to Ray (or start a local instance) unless connected already; yield ``ray``."""
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **(ray_init or {}))
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def _remote(ray: Any, function: Callable[..., Any], cpus: int, gpus: float | None) -> Any:
    """``function`` as a Ray task, asking for a GPU per call when the cluster has GPUs."""
    if gpus is None:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
    return ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=TASK_RETRIES,
                      retry_exceptions=False)(function)


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
    with ray_session(address) as ray:
        task = _remote(ray, function, cpus_per_call, gpus_per_call)
        refs = [task.remote(**call) for call in calls]
        results = []
        for call, ref in zip(calls, refs):
            try:
                results.append(ray.get(ref))
            except Exception as exc:
                raise RunError(f"{describe(call)} failed on Ray: {_error_text(exc)}") from exc
        return results


def _train_cell(plan: CellPlan, home: str, threads: int) -> Outcome:
    """What a Ray worker runs: the same function as the local executor, in the same data home."""
    import torch

    from bench.engine.dispatch import run_cell

    os.environ["BENCH_HOME"] = home
    torch.set_num_threads(threads)
    return run_cell(plan)


class RayExecutor:
    """Every claimed cell becomes a Ray task at once; outcomes are yielded as tasks end."""

    def __init__(self, *, address: str | None = None, gpus_per_cell: float | None = None,
                 cpus_per_cell: int = 1, ray_init: dict[str, Any] | None = None):
        self.address, self.gpus, self.cpus = address, gpus_per_cell, cpus_per_cell
        self.ray_init = ray_init

    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]:
        with ray_session(self.address, self.ray_init) as ray:
            task = _remote(ray, _train_cell, self.cpus, self.gpus)
            home = str(data_home())
            pending = {task.remote(item.plan, home, self.cpus): item for item in claimed}
            notice = next(iter(pending.values()), None)
            if notice is not None:
                listener_for(notice).notice(f"{len(pending)} cell(s) submitted to Ray")
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                item = pending.pop(ready[0])
                try:
                    yield item, ray.get(ready[0])
                except Exception as exc:  # the task's error, or its worker lost too often
                    yield item, RunError(_error_text(exc))
