"""What a cell page shows, from the test predictions of a board cell's runs (seeds pooled).

A cell here is a board cell: one model trained on one source, tested on one target, over every
seed the board averages. Counts are summed over the seeds, per-class scores averaged over them
(as the board averages its scores), and the reliability diagram pools their predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bench.labels import CLASSES
from bench.leaderboard.intervals import RunPredictions
from bench.leaderboard.reliability import reliability_curve
from bench.metrics import PER_CLASS, expected_calibration_error

K = len(CLASSES)


@dataclass(frozen=True)
class Misclassified:
    run_id: str
    seed: int
    path: str  # the image key in the split manifest
    true: str
    predicted: str
    confidence: float  # the predicted class's probability, 0 to 1


@dataclass(frozen=True)
class CellDetail:
    model: str
    source: str
    target: str
    runs: tuple[tuple[str, int], ...]  # (run id, seed) with predictions
    classes: tuple[str, ...]  # present in the target's test split
    confusion: np.ndarray  # K x K, rows true, columns predicted, summed over seeds
    support: dict[str, int]  # test images per class (one seed's split)
    per_class: dict[tuple[str, str], tuple[float, float | None]]  # (metric, class) -> mean, std
    bins: tuple[np.ndarray, np.ndarray, np.ndarray]  # images, mean confidence, accuracy per bin
    ece: float  # of the pooled predictions
    misclassified: tuple[Misclassified, ...]  # every one, most confident first
    images: int  # test images per seed


def confusion_of(run: RunPredictions) -> np.ndarray:
    return np.bincount(run.labels * K + run.predicted, minlength=K * K).reshape(K, K)


def per_class_scores(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of every class (0 where undefined, as scikit-learn's default)."""
    tp = np.diag(confusion).astype(float)
    true = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return dict(zip(PER_CLASS, (  # precision, recall, F1
            np.where(predicted > 0, tp / predicted, 0.0),
            np.where(true > 0, tp / true, 0.0),
            np.where(true + predicted > 0, 2 * tp / (true + predicted), 0.0),
        ), strict=True))


def cell_detail(model: str, source: str, target: str, runs: Sequence[tuple[str, int]],
                predictions: Mapping[tuple[str, str], RunPredictions]) -> CellDetail | None:
    """The cell's figures, or None when none of its runs kept test predictions."""
    found = [(run_id, seed, predictions[(run_id, target)]) for run_id, seed in runs
             if (run_id, target) in predictions]
    if not found:
        return None
    matrices = [confusion_of(run) for _, _, run in found]
    first = found[0][2]
    present = sorted(set(first.labels.tolist()))
    classes = tuple(CLASSES[i] for i in present)
    per_run = [per_class_scores(matrix) for matrix in matrices]
    per_class = {}
    for metric in PER_CLASS:
        for i in present:
            values = [100 * scores[metric][i] for scores in per_run]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else None
            per_class[(metric, CLASSES[i])] = (float(np.mean(values)), std)
    confidence = np.concatenate([run.probabilities[np.arange(len(run.labels)), run.predicted]
                                 for _, _, run in found])
    correct = np.concatenate([run.predicted == run.labels for _, _, run in found])
    wrong = []
    for run_id, seed, run in found:
        top = run.probabilities[np.arange(len(run.labels)), run.predicted]
        for index in np.flatnonzero(run.predicted != run.labels):
            wrong.append(Misclassified(run_id, seed, run.paths[index],
                                       CLASSES[run.labels[index]], CLASSES[run.predicted[index]],
                                       float(top[index])))
    wrong.sort(key=lambda m: (-m.confidence, m.path, m.seed))
    support = np.bincount(first.labels, minlength=K)
    return CellDetail(
        model=model, source=source, target=target,
        runs=tuple((run_id, seed) for run_id, seed, _ in found),
        classes=classes,
        confusion=sum(matrices),
        support={CLASSES[i]: int(support[i]) for i in present},
        per_class=per_class,
        bins=reliability_curve(confidence, correct),
        ece=expected_calibration_error(confidence, correct),
        misclassified=tuple(wrong),
        images=len(first.labels),
    )
