"""Fine-tune or probe: what every executor runs for one claimed cell, in whichever process."""

from __future__ import annotations

from bench.engine.plans import CellPlan, Outcome
from bench.engine.run_display import Listener


def run_cell(plan: CellPlan, listener: Listener | None = None) -> Outcome:
    """Fine-tune the plan's model, or fit a probe on its frozen embeddings, as its protocol says."""
    if plan.protocol.is_probe:
        from bench.engine.probe import fit_probe

        return fit_probe(plan, listener)
    from bench.engine import training

    return training.train_and_evaluate(plan, listener)
