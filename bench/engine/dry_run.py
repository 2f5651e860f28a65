"""What `bench run --dry-run` prints: each cell's fate in the store, its time and disk here.

The runner resolves the matrix and passes its ``cell_of``, so a dry run sees exactly the cells
a run would claim; one training step per model is measured on this device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bench.engine.job_cost import human_bytes, human_duration, long_job_warning
from bench.engine.plans import changed_settings

if TYPE_CHECKING:
    from bench.engine.plans import CellPlan
    from bench.engine.run_display import Listener
    from bench.store import Cell, ResultsStore


@dataclass
class CellEstimate:
    """One cell of a dry run: what a run would do with it, for how long, on how much disk."""

    run_id: str
    model: str
    source: str
    seed: int
    status: str  # new, finished, resumable, failed, running (in another process)
    detail: str
    epochs: int  # epochs left to train (at most: early stopping may end sooner)
    seconds: float = 0.0
    checkpoint_bytes: int = 0


@dataclass
class MatrixEstimate:
    """The cells of a `bench run`, and what training them costs on this device."""

    cells: list[CellEstimate]
    max_epochs: int
    device: str
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> measure_cell

    @property
    def seconds(self) -> float:
        return sum(cell.seconds for cell in self.cells)

    @property
    def checkpoint_bytes(self) -> int:
        return sum(cell.checkpoint_bytes for cell in self.cells)

    @property
    def training(self) -> list[CellEstimate]:
        return [cell for cell in self.cells if cell.epochs > 0]

    def summary(self) -> str:
        steps = "; ".join(f"{model}: {human_duration(m['seconds_per_batch'])} a batch"
                          for model, m in self.measured.items() if "error" not in m)
        return (f"{len(self.training)} of {len(self.cells)} cells to train, at most "
                f"{self.max_epochs} epochs each: about {human_duration(self.seconds)} on "
                f"{self.device} (measured here{': ' + steps if steps else ''}); checkpoints "
                f"{human_bytes(self.checkpoint_bytes)} (best.pt + last.pt per cell)")

    def warning(self) -> str | None:
        return long_job_warning(self.seconds, self.device, "this run",
                                "A GPU (--device cuda), fewer cells or --epochs cut it.")

    def rows(self) -> list[dict[str, Any]]:
        return [{**asdict(cell), "time": human_duration(cell.seconds) if cell.epochs else "-",
                 "disk": human_bytes(cell.checkpoint_bytes) if cell.epochs else "-"}
                for cell in self.cells]


def _state(store: ResultsStore, cell: Cell, max_epochs: int, retry_failed: bool,
           settings: dict[str, Any] | None = None) -> tuple[str, str, int]:
    """What a run would do with ``cell``: its status, why, and how many epochs it trains."""
    from bench.runs import INTERRUPTED, shown_status

    run = store.run(cell.id)
    if run is None:
        return "new", "trains from the start", max_epochs
    done = len(run["epoch_log"])
    status = shown_status(run)
    if status == "finished":
        return "finished", "kept (a new target is tested from its best checkpoint)", 0
    if status == "running":
        return "running", "running in another process: left to it", 0
    left = max(max_epochs - done, 0)
    if status == INTERRUPTED:
        return "resumable", f"resumes after epoch {done} (its process died)", left
    if retry_failed:
        return "failed", f"runs again (--retry-failed): {run.get('error')}", left
    changed = changed_settings(run["settings"], settings or {}) if settings else []
    if changed:
        return "failed", f"runs again ({', '.join(changed)}): {run.get('error')}", left
    return "failed", f"skipped unless --retry-failed: {run.get('error')}", 0


def _split_sizes(name: str) -> dict[str, int]:
    from bench.data import load_prepared
    from bench.shifts.dataset import open_target

    counts = open_target(name, load_prepared).counts()
    return {split: sum(per_class.get(split, 0) for per_class in counts.values())
            for split in ("train", "val", "test")}


def estimate_plans(plans: Sequence[CellPlan], store: ResultsStore,
                   cell_of: Callable[[CellPlan], Cell], *, retry_failed: bool = False
                   ) -> MatrixEstimate:
    """Each plan's status in ``store`` and, for those that would train, time and disk.

    ``cell_of`` is the runner's: a plan's cell as a run claims it. One training step per model
    is measured here (``measure_cell``); nothing is claimed.
    """
    from bench.engine import training

    max_epochs = plans[0].protocol.training.max_epochs if plans else 0
    device = str(training.resolve_device(plans[0].device)) if plans else "cpu"
    estimate = MatrixEstimate([], max_epochs, device)
    sizes: dict[str, dict[str, int]] = {}
    embedded: set[str] = set()  # embedding entries an earlier probe cell makes
    for plan in plans:
        cell = cell_of(plan)
        status, detail, epochs = _state(store, cell, max_epochs, retry_failed, plan.settings())
        entry = CellEstimate(cell.id, plan.model, plan.source, plan.seed, status, detail, epochs)
        estimate.cells.append(entry)
        if not epochs:
            continue
        if plan.protocol.is_probe:
            _estimate_probe(plan, entry, estimate, embedded)
            continue
        if plan.model not in estimate.measured:
            try:
                estimate.measured[plan.model] = training.measure_cell(plan)
            except Exception as exc:  # noqa: BLE001 - the cell itself will fail, with its reason
                estimate.measured[plan.model] = {"error": f"{type(exc).__name__}: {exc}"}
        measured = estimate.measured[plan.model]
        if "error" in measured:
            entry.detail += f"; its step could not be measured ({measured['error']})"
            continue
        batch = plan.protocol.training.batch_size
        for name in {plan.source, *plan.targets}:
            sizes.setdefault(name, _split_sizes(name))
        source = sizes[plan.source]
        train_batches = source["train"] // batch if source["train"] > batch else 1
        val_batches = math.ceil(source["val"] / (2 * batch))
        test_batches = sum(math.ceil(sizes[t]["test"] / (2 * batch)) for t in plan.targets)
        entry.seconds = (epochs * (train_batches * measured["seconds_per_batch"]
                                   + val_batches * measured["seconds_per_test_batch"])
                         + test_batches * measured["seconds_per_test_batch"])
        entry.checkpoint_bytes = int(measured["checkpoint_bytes"])
        estimate.device = measured["device"]
    return estimate


def _estimate_probe(plan: CellPlan, entry: CellEstimate, estimate: MatrixEstimate,
                    embedded: set[str]) -> None:
    """A probe's time is its backbone passes over images not embedded yet; a head is small."""
    from bench.engine import probe

    try:
        missing = {key: count for key, count in probe.missing_embeddings(plan).items()
                   if key not in embedded}
        if missing and plan.model not in estimate.measured:
            estimate.measured[plan.model] = probe.measure_probe(plan)
    except Exception as exc:  # noqa: BLE001 - the cell itself will fail, with its reason
        entry.detail += f"; its backbone could not be measured ({type(exc).__name__}: {exc})"
        return
    embedded.update(missing)
    measured = estimate.measured.get(plan.model, {})
    if missing and "seconds_per_batch" in measured:
        batches = sum(math.ceil(count / measured["batch_size"]) for count in missing.values())
        entry.seconds = batches * measured["seconds_per_batch"]
        estimate.device = measured["device"]
    entry.detail += (f"; embeds {sum(missing.values())} images" if missing
                     else "; every embedding cached: 0 backbone passes")
    width = measured.get("embedding_width", 0)
    entry.checkpoint_bytes = probe.head_bytes(plan, width, _split_sizes(plan.source)["train"])


def warn_before_long_run(plans: Sequence[CellPlan], store: ResultsStore, listener: Listener,
                         cell_of: Callable[[CellPlan], Cell], *, retry_failed: bool = False
                         ) -> MatrixEstimate | None:
    """In a real run on a CPU, the long-job warning, before the first cell trains.

    On a GPU nothing is measured: the warning is for the machine where a job takes days.
    """
    from bench.engine.training import resolve_device
    from bench.errors import BenchError

    try:
        if not plans or resolve_device(plans[0].device).type != "cpu":
            return None
    except BenchError:
        return None  # the cells fail with this reason themselves
    estimate = estimate_plans(plans, store, cell_of, retry_failed=retry_failed)
    warning = estimate.warning()
    if warning:
        listener.notice(warning)
    return estimate
