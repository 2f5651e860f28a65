"""The benchmark matrix: resolve names, plan cells, claim them, record what executors return.

The runner alone writes the results store; executors only train. That keeps SQLite off network
file systems and lets every executor share one claim/skip/record loop.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bench import provenance
from bench.engine.plans import (
    CellPlan,
    CellResult,
    Claimed,
    Outcome,
    cell_label,
    changed_settings,
)
from bench.engine.request import RunRequest
from bench.engine.selection import ALL, DatasetChoice, expand, open_dataset
from bench.errors import BenchError, RunError
from bench.home import subdir
from bench.host import get_registries
from bench.protocols import overrides_text
from bench.store import Cell, ResultsStore, StoreError, open_store
from bench.weights import initialisation

if TYPE_CHECKING:
    from bench.engine.dry_run import MatrixEstimate
    from bench.engine.executors import Executor
    from bench.engine.run_display import Listener

def plan_matrix(request: RunRequest, listener: Listener) -> list[CellPlan]:
    """Resolve every name and check every data set before any training starts."""
    from bench.engine.options import check_one_architecture, preflight

    preflight(request)  # values, seeds, device, weights: before any name is resolved
    registries = get_registries()
    concrete_models = [s.name for s in registries.models if s.resolve_argument is None]
    choice = DatasetChoice.here()
    models = expand("models", request.models, {ALL: concrete_models})
    check_one_architecture(request.weights, models)
    sources, targets = choice.resolve(request.sources), choice.resolve(request.targets)
    for notice in choice.notices({"--source": request.sources, "--target": request.targets},
                                 {*sources, *targets}):
        listener.notice(notice)
    for name in dict.fromkeys([*sources, *targets]):
        open_dataset(name)  # raises with the prepare command for an explicitly named data set
    if not models or not sources or not targets:
        missing = "models" if not models else "sources" if not sources else "targets"
        raise RunError(
            f"nothing to run: no {missing}. Prepare a data set first "
            f"(`bench datasets list` shows them and how) or generate the demo (`bench demo`)."
        )
    # Last, as it may go to the network: every cheaper mistake is reported first.
    if request.pretrained and not request.weights:
        from bench.models import ensure_pretrained_weights

        for model in models:
            ensure_pretrained_weights(registries.models.get(model))
    runs_home = subdir("runs")
    init = initialisation(request.pretrained, request.weights)  # the file is hashed once
    # Each number of shots is a recipe of its own (training.shots is in the protocol hash).
    recipes = [request.protocol.with_overrides(training={"shots": shots})
               for shots in request.shots] or [request.protocol]
    return [
        CellPlan(
            model=model, source=source, targets=targets, seed=int(seed),
            protocol=recipe, checkpoint_dir=runs_home,  # the run id is added later
            device=request.device, workers=request.workers, pretrained=request.pretrained,
            weights=request.weights, init=init,
        )
        for model in models for source in sources for recipe in recipes
        for seed in request.seeds
    ]


def cell_of(plan: CellPlan) -> Cell:
    """The cell a plan trains: its id covers the recipe (hash) and the initialisation."""
    plan.init = plan.init or initialisation(plan.pretrained, plan.weights)
    return Cell(plan.model, plan.source, plan.seed, plan.protocol.name, plan.protocol.hash,
                open_dataset(plan.source).fingerprint, plan.init,
                overrides_text(plan.protocol.overrides()))


@contextmanager
def heartbeats(store: ResultsStore, run_ids: Collection[str], every: float = 30.0
               ) -> Iterator[None]:
    """Tell other processes (and machines) that these cells are alive while they train.

    ``run_ids`` may grow while it runs: cells claimed later are beaten for too.
    """
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            for run_id in list(run_ids):
                store.heartbeat(run_id)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class _Recording:
    """Forwards events to the display and records each epoch in the store as it ends."""

    def __init__(self, listener: Listener, store: ResultsStore, run_id: str):
        self._listener, self._store, self._run_id = listener, store, run_id

    def on_epoch(self, epoch: int, values: dict[str, float]) -> None:
        self._store.record_epoch(self._run_id, epoch, values)
        self._listener.on_epoch(epoch, values)

    def on_history(self, history: list[dict[str, float]]) -> None:
        """A resumed cell's epochs: rewrite their rows (one lost to a kill comes back)."""
        for entry in history:
            values = {key: value for key, value in entry.items() if key != "epoch"}
            self._store.record_epoch(self._run_id, int(entry["epoch"]), values)
        self._listener.on_history(history)

    def __getattr__(self, name: str):
        return getattr(self._listener, name)


def _skipped(store: ResultsStore, cell: Cell, listener: Listener) -> CellResult:
    """Why a cell was not claimed: finished, failed before, or running elsewhere."""
    existing = store.run(cell.id) or {}
    detail = {
        "finished": "already finished",
        "failed": f"{FAILED_BEFORE} under the same settings (use --retry-failed): "
                  f"{existing.get('error')}",
    }.get(existing.get("status", "running"), RUNNING_ELSEWHERE)
    listener.on_cell_end(cell_label(cell), "skipped", detail)
    return CellResult(cell, "skipped", detail)


RUNNING_ELSEWHERE = "running in another process"
FAILED_BEFORE = "failed before"


def skipped_as_failed(results: Sequence[CellResult]) -> list[CellResult]:
    """Cells left alone because they failed before under the settings given again."""
    return [r for r in results if r.status == "skipped" and r.detail.startswith(FAILED_BEFORE)]


def _cause_removed(store: ResultsStore, cell: Cell, plan: CellPlan, listener: Listener) -> bool:
    """Whether a cell that failed before failed under settings this command changes."""
    existing = store.run(cell.id)
    if not existing or existing["status"] != "failed":
        return False
    changed = changed_settings(existing["settings"], plan.settings())
    if changed:
        listener.notice(f"{cell_label(cell)} failed before ({existing.get('error')}); "
                        f"running it again as the settings changed: {', '.join(changed)}")
    return bool(changed)


def settle_unclaimed(store: ResultsStore, plan: CellPlan, cell: Cell,
                     listener: Listener) -> CellResult:
    """A cell this process did not claim: test a finished one on the targets it lacks.

    Otherwise it is skipped (finished with every target, failed before, running elsewhere).
    """
    from bench.engine.best_checkpoint import evaluate_checkpoint, missing_targets

    existing = store.run(cell.id) or {}
    if existing.get("status") != "finished":
        return _skipped(store, cell, listener)
    fingerprints = {name: open_dataset(name).fingerprint for name in plan.targets}
    missing = missing_targets(store, cell.id, plan.targets, fingerprints)
    if not missing:
        return _skipped(store, cell, listener)
    try:
        evaluations = evaluate_checkpoint(store, cell.id, missing, protocol=plan.protocol,
                                          device=plan.device, workers=plan.workers,
                                          listener=listener)
    except BenchError as exc:  # the run keeps its other scores; this request is not met
        listener.on_cell_end(cell_label(cell), "failed", str(exc))
        return CellResult(cell, "failed", str(exc))
    detail = f"tested on {', '.join(missing)} (trained before)"
    listener.on_cell_end(cell_label(cell), "finished", detail)
    return CellResult(cell, "finished", detail, {ev.target: ev.metrics for ev in evaluations})


def incomplete_notice(results: Sequence[CellResult]) -> str | None:
    """What to tell a process that left cells to others: the matrix is not complete yet."""
    elsewhere = [r for r in results if r.status == "skipped" and r.detail == RUNNING_ELSEWHERE]
    if not elsewhere:
        return None
    cells = ", ".join(cell_label(r.cell) for r in elsewhere[:3])
    more = " ..." if len(elsewhere) > 3 else ""
    return (f"matrix not complete: {len(elsewhere)} cell(s) {RUNNING_ELSEWHERE} ({cells}{more}); "
            f"give the same command again once they are done to get every score")


def _record(store: ResultsStore, claimed: Claimed, outcome: Outcome) -> CellResult:
    # Every epoch's row goes in with the scores, in one transaction: whatever an executor
    # recorded live (or lost to a kill between checkpoint and store) is complete at the end.
    store.finish(claimed.run_id, outcome.evaluations, epochs=outcome.epochs,
                 best_epoch=outcome.best_epoch, checkpoint=outcome.checkpoint,
                 summary={**outcome.summary, "history": outcome.history},
                 history=outcome.history)
    scores = {ev.target: ev.metrics for ev in outcome.evaluations}
    return CellResult(claimed.cell, "finished", f"best epoch {outcome.best_epoch}", scores)


def run_plans(plans: Sequence[CellPlan], store: ResultsStore, listener: Listener,
              executor: Executor, *, retry_failed: bool = False,
              provenance_extra: dict[str, Any] | None = None) -> list[CellResult]:
    """Claim each cell, hand it to the executor, record its outcome: the one bookkeeping loop."""
    results: list[CellResult] = []
    held: set[str] = set()
    run_provenance = {**provenance.collect(), **(provenance_extra or {})}

    def claim() -> Iterator[Claimed]:
        for plan in plans:
            cell = cell_of(plan)
            retry = retry_failed or _cause_removed(store, cell, plan, listener)
            run_id = store.claim(cell, settings=plan.settings(), provenance=run_provenance,
                                 retry_failed=retry)
            if run_id is None:
                results.append(settle_unclaimed(store, plan, cell, listener))
                continue
            plan.checkpoint_dir = subdir("runs", run_id)
            held.add(run_id)
            yield Claimed(plan, cell, run_id)

    listener.on_matrix_start(len(plans))
    with heartbeats(store, held), _failing_held_cells(store, held):
        for claimed, outcome in executor.run(
                claim(), lambda c: _Recording(listener, store, c.run_id)):
            held.discard(claimed.run_id)
            if isinstance(outcome, Outcome):
                results.append(_record(store, claimed, outcome))
                listener.on_cell_end(claimed.label, "finished",
                                     f"(best epoch {outcome.best_epoch} of {outcome.epochs})")
            else:
                store.fail(claimed.run_id, str(outcome))
                results.append(CellResult(claimed.cell, "failed", str(outcome)))
                listener.on_cell_end(claimed.label, "failed", str(outcome))
    return results


@contextmanager
def _failing_held_cells(store: ResultsStore, held: set[str]) -> Iterator[None]:
    """Record the cells in hand as failed when an unexpected error ends the matrix.

    Otherwise they would stay `running` (shown as interrupted, resumed into the same error).
    A kill, Ctrl-C, an error of the machine (a full disk: an OSError; the store itself) or one
    bench names (Slurm refusing a job: a setting to fix) leaves them as they are, to resume
    once it is fixed.
    """
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, (OSError, StoreError, BenchError)):
            for run_id in list(held):
                store.fail(run_id, f"{type(exc).__name__}: {exc} (an error bench did not "
                                   f"expect: `bench --debug run ...` shows where)")
        raise


def run_benchmark(request: RunRequest, listener: Listener | None = None,
                  store: ResultsStore | None = None) -> list[CellResult]:
    """Plan the matrix and run every cell that is not finished yet."""
    from bench.engine.executors import executor_spec, resolve_options
    from bench.engine.run_display import QuietListener

    listener = listener or QuietListener()
    store = store or open_store()
    plans = plan_matrix(request, listener)
    spec = executor_spec(request.executor)
    options = resolve_options(spec.name, request.executor_options)
    if spec.trains_here:
        from bench.engine.dry_run import warn_before_long_run

        warn_before_long_run(plans, store, listener, cell_of, retry_failed=request.retry_failed)
    provenance_extra = {"executor": spec.name, **({"executor_options": options} if options else {})}
    try:
        return run_plans(plans, store, listener, spec.build(options),
                         retry_failed=request.retry_failed, provenance_extra=provenance_extra)
    finally:
        listener.close()


def dry_run(request: RunRequest, listener: Listener | None = None,
            store: ResultsStore | None = None) -> MatrixEstimate:
    """`bench run --dry-run`: the matrix resolved as a run resolves it, costed, not run."""
    from bench.engine.dry_run import estimate_plans
    from bench.engine.run_display import QuietListener

    plans = plan_matrix(request, listener or QuietListener())
    return estimate_plans(plans, store or open_store(read_only=True), cell_of,
                          retry_failed=request.retry_failed)


def result_rows(results: Sequence[CellResult]) -> list[dict[str, Any]]:
    """One plain record per cell (the cell's key, status, detail, scores per target)."""
    rows = []
    for result in results:
        rows.append({**asdict(result.cell), "run_id": result.cell.id, "status": result.status,
                     "detail": result.detail, "scores": result.scores})
    return rows
