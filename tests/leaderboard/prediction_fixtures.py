"""Stores with known test predictions, written through the real scoring and store code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

import bench
from bench.leaderboard.intervals import stable_seed
from bench.metrics import evaluate_predictions

# An imbalanced test split, as in blood: few basophils (B) and eosinophils (E).
SUPPORT = {"L": 40, "M": 30, "N": 60, "E": 15, "B": 5}
FINGERPRINTS = {"d1": "f1aaaa", "d2": "f2bbbb"}


@dataclass(frozen=True)
class Predicted:
    """One finished run: the share of correct test predictions per target."""

    model: str
    source: str
    seed: int
    accuracy: dict[str, float]
    protocol: str = "quick"


def test_split(target: str) -> tuple[list[str], np.ndarray]:
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(SUPPORT.values())])
    return [f"{target}/{i:04d}.png" for i in range(len(labels))], labels


def predictions(run: Predicted, target: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Paths, labels and probabilities: ``accuracy`` of the images right, confidences drawn."""
    paths, labels = test_split(target)
    rng = np.random.default_rng(stable_seed(run.model, run.source, run.seed, target))
    right = rng.random(len(labels)) < run.accuracy[target]
    predicted = np.where(right, labels, (labels + rng.integers(1, 5, len(labels))) % 5)
    confidence = rng.uniform(0.35, 0.99, len(labels))
    probabilities = np.tile(((1 - confidence) / 4)[:, None], (1, 5))
    probabilities[np.arange(len(labels)), predicted] = confidence
    return paths, labels, probabilities


def write_predicted(store: bench.ResultsStore, runs: Iterable[Predicted],
                    protocol_hash: str = "abcdef0123456789",
                    fingerprints: dict[str, str] | None = None) -> list[str]:
    fingerprints = fingerprints or FINGERPRINTS
    ids = []
    for run in runs:
        cell = bench.Cell(run.model, run.source, run.seed, run.protocol, protocol_hash,
                          fingerprints[run.source])
        run_id = store.claim(cell)
        assert run_id is not None
        evaluations = [
            evaluate_predictions(target, fingerprints[target], *predictions(run, target))
            for target in run.accuracy
        ]
        store.finish(run_id, evaluations, epochs=3, best_epoch=2,
                     summary={"selection": "val_f1"})
        ids.append(run_id)
    return ids


# Two models x two sources x two targets; "strong" has two seeds trained on d1.
TWO_BY_TWO = [
    Predicted("strong", "d1", 0, {"d1": 0.92, "d2": 0.70}),
    Predicted("strong", "d1", 1, {"d1": 0.90, "d2": 0.72}),
    Predicted("strong", "d2", 0, {"d1": 0.66, "d2": 0.88}),
    Predicted("weak", "d1", 0, {"d1": 0.60, "d2": 0.45}),
    Predicted("weak", "d2", 0, {"d1": 0.50, "d2": 0.86}),
]
