"""`bench evaluate`: finished cells tested on more targets from their best checkpoints.

The cells are found in the store by what they are (model, source, seed, protocol), so every
finished run of them is tested; targets resolve as `bench run`'s do, so any target a run can
name (`all`, `all+generated`, a list) can be evaluated on later without training again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from bench.engine.best_checkpoint import evaluate_checkpoint, missing_targets
from bench.engine.run_display import Listener
from bench.engine.selection import (
    ALL,
    DatasetChoice,
    expand,
    keywords_in,
    open_dataset,
    prepared_targets,
)
from bench.errors import BenchError, DataError, RunError
from bench.host import get_registries
from bench.store import ResultsStore

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class EvaluateRequest:
    """What `bench evaluate` asks for: trained cells by name, and the targets to test them on."""

    models: Sequence[str]
    sources: Sequence[str]
    targets: Sequence[str] = ("all",)
    seeds: Sequence[int] | None = None  # None: every seed that has a finished run
    protocol: str | None = None  # stored name, hash prefix, built-in name or file; None: any
    force: bool = False  # test again on targets that have scores (they are replaced)
    device: str = "auto"
    workers: int = 0


@dataclass
class EvaluationResult:
    """What became of one finished run: tested on some targets, or skipped, and why."""

    run_id: str
    model: str
    source: str
    seed: int
    protocol: str
    protocol_hash: str
    status: str  # finished, failed, skipped
    detail: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # target -> metric -> v

    @property
    def label(self) -> str:
        return f"{self.model} on {self.source} (seed {self.seed})"


def train_command(model: str, source: str, seed: int | None, protocol: str | None) -> str:
    """The `bench run` command that trains a cell evaluate found no finished run of."""
    command = f"bench run --model {model} --source {source}"
    if seed is not None:
        command += f" --seed {seed}"
    return command + (f" --protocol {protocol}" if protocol else "")


def _finished_runs(store: ResultsStore, protocol: str | None) -> pd.DataFrame:
    from bench.leaderboard.groups import filter_protocol

    runs = store.runs("finished")
    if protocol and not runs.empty:
        try:
            runs = filter_protocol(runs, protocol)
        except DataError:  # no run under it: every cell asked for is reported as untrained
            runs = runs.iloc[0:0]
    return runs


def select_runs(request: EvaluateRequest, store: ResultsStore, listener: Listener) -> list[dict]:
    """The finished runs a request names; a named cell without one is an error saying how."""
    from bench.engine.options import check_names

    for option, values in (("--model", request.models), ("--source", request.sources),
                           ("--target", request.targets)):
        check_names(option, values)
    registries = get_registries()
    models = expand("models", request.models,
                     {ALL: [s.name for s in registries.models if s.resolve_argument is None]})
    choice = DatasetChoice.here()
    sources = choice.resolve(request.sources)
    runs = _finished_runs(store, request.protocol)
    selected, missing = [], []
    for model in models:
        for source in sources:
            rows = runs[(runs["model"] == model) & (runs["source"] == source)]
            try:  # runs on an older split of the source belong to another board
                rows = rows[rows["split_fingerprint"] == open_dataset(source).fingerprint]
            except DataError:
                pass  # the source is gone: its runs can still be tested
            if request.seeds is None:
                if rows.empty:
                    missing.append((model, source, None))
                selected += rows.to_dict("records")
                continue
            for seed in request.seeds:
                seeded = rows[rows["seed"] == int(seed)]
                if seeded.empty:
                    missing.append((model, source, int(seed)))
                selected += seeded.to_dict("records")
    if missing:
        lines = [f"{model} on {source}" + ("" if seed is None else f" (seed {seed})")
                 + f": `{train_command(model, source, seed, request.protocol)}`"
                 for model, source, seed in missing]
        named = not keywords_in([*request.models, *request.sources])  # no `all`: each one asked
        message = ("no finished run, so nothing to test, for " + "; ".join(lines[:5])
                   + (f"; and {len(lines) - 5} more" if len(lines) > 5 else ""))
        if named or not selected:
            raise RunError(message + ". Train each with the command given, then evaluate again.")
        listener.notice(message)
    return selected


def evaluate_cells(request: EvaluateRequest, listener: Listener | None = None,
                   store: ResultsStore | None = None) -> list[EvaluationResult]:
    """Test the best checkpoints of finished cells on targets, recording scores as a run does.

    Nothing is trained. Targets resolve as `bench run`'s do; a target a run has scores for
    (on the same split) is skipped unless ``force``.
    """
    from bench.engine.options import check_device, check_value
    from bench.engine.run_display import QuietListener
    from bench.store import open_store

    listener = listener or QuietListener()
    check_value("--workers", request.workers)
    check_device(request.device)
    store = store or open_store()
    try:
        targets, fingerprints = prepared_targets(request.targets, listener)
        runs = select_runs(request, store, listener)
        listener.on_matrix_start(len(runs))
        return [_evaluate_run(store, run, targets, fingerprints, request, listener)
                for run in runs]
    finally:
        listener.close()


def _evaluate_run(store: ResultsStore, run: dict, targets: Sequence[str],
                  fingerprints: dict[str, str], request: EvaluateRequest,
                  listener: Listener) -> EvaluationResult:
    result = EvaluationResult(run["id"], run["model"], run["source"], int(run["seed"]),
                              run["protocol"], run["protocol_hash"], "skipped")
    wanted = list(targets) if request.force else missing_targets(store, run["id"], targets,
                                                                 fingerprints)
    if not wanted:
        result.detail = "already tested on every target (--force tests again)"
    else:
        try:
            evaluations = evaluate_checkpoint(store, run["id"], wanted, device=request.device,
                                              workers=request.workers, listener=listener)
        except BenchError as exc:  # its other scores stay; the next run is still tested
            result.status, result.detail = "failed", str(exc)
        else:
            result.status = "finished"
            result.detail = f"tested on {', '.join(wanted)} (no training)"
            result.scores = {ev.target: ev.metrics for ev in evaluations}
    listener.on_cell_end(result.label, result.status, result.detail)
    return result


def result_rows(results: Sequence[EvaluationResult]) -> list[dict]:
    """One plain record per run (its key, status, detail, scores per target)."""
    return [asdict(result) for result in results]
