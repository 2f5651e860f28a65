"""Testing a finished run on more targets: its best checkpoint, no training, scores added.

A cell trained with ``--target a`` and asked again with ``--target a,b`` is tested on ``b``
from the ``best.pt`` it kept; the scores it has for ``a`` stay as they are. `bench evaluate`
(:mod:`bench.engine.finished_cells`) does the same for any finished cells on any prepared target.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.engine.run_display import Listener
from bench.errors import RunError
from bench.protocols import Protocol, from_recipe
from bench.store import Evaluation, ResultsStore


def run_protocol(run: dict) -> Protocol:
    """The protocol a run was trained under, rebuilt from the recipe it recorded."""
    settings = run.get("settings") or {}
    if "protocol_recipe" not in settings:
        raise RunError(f"run {run['id']} recorded no protocol recipe; pass the protocol")
    return from_recipe(run["protocol"], settings.get("protocol_version", ""),
                       settings["protocol_recipe"], f"the recipe of run {run['id']}")


def missing_targets(store: ResultsStore, run_id: str, targets: Sequence[str],
                    fingerprints: dict[str, str] | None = None) -> list[str]:
    """Targets a run has no scores for (or scores of another split of that data set)."""
    have = store.evaluated_targets(run_id)
    fingerprints = fingerprints or {}
    return [t for t in targets if t not in have
            or (t in fingerprints and fingerprints[t] != have[t])]


def evaluate_checkpoint(
    store: ResultsStore,
    run_id: str,
    targets: Sequence[str],
    *,
    protocol: Protocol | None = None,
    device: str = "auto",
    workers: int = 0,
    listener: Listener | None = None,
) -> list[Evaluation]:
    """Test finished run ``run_id`` on ``targets`` from its best checkpoint; record the scores.

    ``protocol`` defaults to the one the run recorded; it must have the run's hash. Scores of
    the run's other targets are kept (:meth:`ResultsStore.add_evaluations`).
    """
    from bench.engine.plans import CellPlan
    from bench.engine.training import test_trained

    run = store.run(run_id)
    if run is None or run["status"] != "finished":
        state = "does not exist" if run is None else f"is {run['status']}"
        raise RunError(f"run {run_id} {state}: only a finished run can be tested again")
    protocol = protocol or run_protocol(run)
    if protocol.hash != run["protocol_hash"]:
        raise RunError(f"run {run_id} was trained under protocol hash {run['protocol_hash']}, "
                       f"not {protocol.hash}: its model cannot be tested under another recipe")
    checkpoint = Path(run["checkpoint"] or "")
    if not checkpoint.is_file():
        raise RunError(
            f"the best checkpoint of run {run_id} ({checkpoint}) is gone, so it cannot be "
            f"tested on {', '.join(targets)} without training again. Restore the file, or train "
            f"under another seed (--seeds)."
        )
    # A fine-tuned model is all in its checkpoint; a probe's head needs its backbone again.
    settings = (run.get("settings") or {}) if protocol.is_probe else {}
    plan = CellPlan(model=run["model"], source=run["source"], targets=list(targets),
                    seed=int(run["seed"]), protocol=protocol, checkpoint_dir=checkpoint.parent,
                    device=device, workers=workers, pretrained=bool(settings.get("pretrained")),
                    weights=settings.get("weights"), init=run.get("init") or "")
    if listener is not None:
        listener.notice(f"testing {run['model']} on {run['source']} (seed {run['seed']}) on "
                        f"{', '.join(targets)} from its best checkpoint")
    if protocol.is_probe:
        from bench.engine.probe import test_probe

        evaluations = test_probe(plan, checkpoint, listener)
    else:
        evaluations = test_trained(plan, checkpoint, listener)
    store.add_evaluations(run_id, evaluations)
    return evaluations

