"""A synthetic results store for the site's tests, written through the real scoring and store code.

Two models, two sources, two targets and three stain severities of d2, with test predictions
(so intervals, cell pages and reliability diagrams exist) and the cost summary a run records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

import bench
from bench.leaderboard.intervals import stable_seed
from bench.metrics import evaluate_predictions
from bench.shifts.suite import load_suite
from bench.shifts.target_names import ShiftedName, shifted_fingerprint

SUPPORT = {"L": 30, "M": 20, "N": 40, "E": 10, "B": 4}
FINGERPRINTS = {"d1": "f1aaaa", "d2": "f2bbbb"}
PROTOCOL_HASH = "abcdef0123456789"


def fingerprint(target: str) -> str:
    if "~" not in target:
        return FINGERPRINTS[target]
    base, _, rest = target.partition("~")
    shift, _, level = rest.partition(":")
    return shifted_fingerprint(FINGERPRINTS[base], ShiftedName(base, shift, level), load_suite())


@dataclass(frozen=True)
class Run:
    model: str
    source: str
    seed: int
    accuracy: dict[str, float]  # share of test images right, per target
    train_seconds: float


def predictions(run: Run, target: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(SUPPORT.values())])
    paths = [f"{target.split('~')[0]}/{i:04d}.png" for i in range(len(labels))]
    rng = np.random.default_rng(stable_seed(run.model, run.source, run.seed, target))
    right = rng.random(len(labels)) < run.accuracy[target]
    predicted = np.where(right, labels, (labels + rng.integers(1, 5, len(labels))) % 5)
    confidence = rng.uniform(0.3, 0.99, len(labels))
    probabilities = np.tile(((1 - confidence) / 4)[:, None], (1, 5))
    probabilities[np.arange(len(labels)), predicted] = confidence
    return paths, labels, probabilities


def write_runs(store: bench.ResultsStore, runs: Iterable[Run]) -> None:
    for run in runs:
        cell = bench.Cell(run.model, run.source, run.seed, "quick", PROTOCOL_HASH,
                          FINGERPRINTS[run.source])
        run_id = store.claim(cell)
        assert run_id is not None
        evaluations = [evaluate_predictions(target, fingerprint(target), *predictions(run, target))
                       for target in run.accuracy]
        images = sum(SUPPORT.values())
        cost = {"wall_seconds": run.train_seconds + 3.5, "train_seconds": run.train_seconds,
                "train_images_per_second": round(400 / run.train_seconds, 3),
                "eval_images_per_second": 812.25,
                "evaluation": {t: {"images": images, "seconds": 0.1} for t in run.accuracy},
                "peak_memory": {"bytes": 734003200, "kind": "cpu-rss"}}
        store.finish(run_id, evaluations, epochs=3, best_epoch=2,
                     summary={"selection": "val_f1", "input_size": 16, "cost": cost,
                              "device_info": {"device": "cpu", "cpu": "a test CPU"}})


SHIFTED = {f"d2~stain:{level}": share for level, share in ((1, 0.8), (2, 0.7), (3, 0.55))}
RUNS = [
    Run("alpha", "d1", 0, {"d1": 0.92, "d2": 0.70, **SHIFTED}, 120.0),
    Run("alpha", "d1", 1, {"d1": 0.90, "d2": 0.72, **SHIFTED}, 130.0),
    Run("alpha", "d2", 0, {"d1": 0.66, "d2": 0.88}, 90.0),
    Run("beta", "d1", 0, {"d1": 0.60, "d2": 0.45, **SHIFTED}, 15.0),
    Run("beta", "d2", 0, {"d1": 0.50, "d2": 0.86}, 12.0),
]
