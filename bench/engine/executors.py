"""Executors turn claimed plans into outcomes; the runner does all the bookkeeping.

An executor is anything with ``run(claimed, listener_for)``: it pulls claimed plans from the
iterator (the runner claims each cell only when it is pulled, so a sequential executor never
holds a cell it is not about to train) and yields ``(claimed, outcome or error)`` as each ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from bench.engine.plans import CellPlan, Claimed, Outcome
from bench.engine.progress import Listener
from bench.errors import BenchError

Result = tuple[Claimed, "Outcome | BenchError"]


class Executor(Protocol):
    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]: ...


def run_cell(plan: CellPlan, listener: Listener | None = None) -> Outcome:
    """Fine-tune the plan's model, or fit a probe on its frozen embeddings, as its protocol says."""
    if plan.protocol.is_probe:
        from bench.engine.probe import fit_probe

        return fit_probe(plan, listener)
    from bench.engine import training

    return training.train_and_evaluate(plan, listener)


class LocalExecutor:
    """One cell after another in this process, with live progress and per-epoch records."""

    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]:
        for item in claimed:
            try:
                yield item, run_cell(item.plan, listener_for(item))
            except BenchError as exc:  # a cell's own failure: recorded, the matrix goes on
                yield item, exc
