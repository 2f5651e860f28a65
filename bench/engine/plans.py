"""What travels between the runner and an executor: a cell's plan in, its outcome out.

Plans name everything by string (model, data sets, protocol), so an executor can ship them to
another process or machine; outcomes carry the scores back to the runner, which alone writes
the results store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.protocols import Protocol
from bench.store import Cell, Evaluation


@dataclass
class CellPlan:
    """Everything one training needs, by name, so it can run in another process."""

    model: str
    source: str
    targets: list[str]
    seed: int
    protocol: Protocol
    checkpoint_dir: Path
    device: str = "auto"
    workers: int = 0
    pretrained: bool = True
    weights: str | None = None
    init: str = ""  # "pretrained", "scratch" or "weights:<sha>"; "" until the runner sets it

    def settings(self) -> dict[str, Any]:
        """What the store records as the run's settings.

        A failed run keeps those it failed under until it is claimed again.
        """
        return {
            "protocol_version": self.protocol.version,
            "protocol_recipe": self.protocol.recipe,
            "protocol_source": self.protocol.source,
            "targets": self.targets,
            "device": self.device,
            "workers": self.workers,
            "batch_size": self.protocol.training.batch_size,
            "pretrained": self.pretrained,
            "weights": self.weights,
            "init": self.init,
        }


# Settings that can remove the cause of a failure: a cell that failed under other values of
# them runs again without --retry-failed (another device, workers, batch size, weights file).
RETRY_SETTINGS = ("device", "workers", "batch_size", "weights", "pretrained", "init")


def changed_settings(failed_under: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``"device cuda -> cpu"`` for each retry setting the new command changes."""
    return [f"{key} {failed_under.get(key)} -> {now.get(key)}" for key in RETRY_SETTINGS
            if key in failed_under and failed_under[key] != now.get(key)]


@dataclass
class Outcome:
    """A trained cell: its test on every target, and how training went."""

    evaluations: list[Evaluation]
    epochs: int
    best_epoch: int
    history: list[dict[str, float]]
    checkpoint: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class Claimed:
    """A plan whose cell this process holds in the store, under ``run_id``."""

    plan: CellPlan
    cell: Cell
    run_id: str

    @property
    def label(self) -> str:
        return cell_label(self.cell)


@dataclass
class CellResult:
    """What became of one cell in this invocation: finished, failed or skipped, and why."""

    cell: Cell
    status: str  # finished, failed, skipped
    detail: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # target -> metric -> v


# What an executor yields for each cell it was given: the cell, and its outcome or its error.
Result = tuple[Claimed, "Outcome | BenchError"]


def cell_label(cell: Cell) -> str:
    return f"{cell.model} on {cell.source} (seed {cell.seed})"
