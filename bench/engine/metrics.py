"""Scores of one model on one target, computed with scikit-learn as the paper reports them.

Weighted averages use the support of each class in the target's test split. A target that lacks
some of the five classes is scored on the classes it has; which ones is recorded with the score.
Beside the paper's four, the store keeps metrics that do not hide rare classes (macro F1,
balanced accuracy, Matthews correlation, per-class precision and recall) and two measures of
calibration (expected calibration error over 15 bins, multi-class Brier score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.labels import CLASSES
from bench.store import Evaluation

ECE_BINS = 15


def confidence_bins(confidence: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Bin index of each top-label confidence; bins are (i/M, (i+1)/M] as in Guo et al. 2017."""
    return np.clip(np.ceil(np.asarray(confidence) * bins).astype(np.int64) - 1, 0, bins - 1)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Mean over equal-width confidence bins of |accuracy - confidence|, weighted by bin size."""
    if len(confidence) == 0:
        return 0.0
    index = confidence_bins(confidence, bins)
    gap = np.bincount(index, weights=confidence, minlength=bins) - np.bincount(
        index, weights=np.asarray(correct, dtype=float), minlength=bins
    )
    return float(np.abs(gap).sum() / len(confidence))


def brier_terms(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per image: squared distance of the probability vector to the one-hot truth (0 to 2)."""
    onehot = np.zeros_like(probabilities, dtype=float)
    onehot[np.arange(len(labels)), labels] = 1.0
    return ((probabilities - onehot) ** 2).sum(axis=1)


def score_predictions(
    labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray
) -> tuple[dict[str, float], dict[str, dict[str, float]], list[str], dict[str, int], list]:
    """Metrics, per-class values, classes present, support and confusion from predictions.

    ``predicted`` is passed rather than derived so that re-scoring a store reproduces the
    labels recorded at test time exactly (stored probabilities are rounded).
    """
    from sklearn import metrics as skm  # here: the bootstrap needs only the helpers above

    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=float).reshape(len(labels), len(CLASSES))
    present = sorted(set(labels.tolist()))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, predicted, labels=present, zero_division=0
    )
    weights = support / support.sum()
    letters = [CLASSES[i] for i in present]
    confidence = probabilities[np.arange(len(labels)), predicted]
    scores = {
        "accuracy": skm.accuracy_score(labels, predicted),
        "precision": float(precision @ weights),
        "recall": float(recall @ weights),
        "f1": float(f1 @ weights),
        "macro_f1": float(f1.mean()),
        "balanced_accuracy": float(recall.mean()),
        "mcc": skm.matthews_corrcoef(labels, predicted),
        "ece": expected_calibration_error(confidence, labels == predicted),
        "brier": float(brier_terms(labels, probabilities).mean()),
    }
    per_class = {
        name: dict(zip(letters, map(float, values)))
        for name, values in (("precision", precision), ("recall", recall), ("f1", f1))
    }
    confusion = skm.confusion_matrix(labels, predicted, labels=range(len(CLASSES)))
    return (
        {k: float(v) for k, v in scores.items()},
        per_class,
        letters,
        dict(zip(letters, map(int, support))),
        confusion.tolist(),
    )


def evaluate_predictions(
    target: str,
    split_fingerprint: str,
    paths: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    predicted: np.ndarray | None = None,
) -> Evaluation:
    """Every stored metric from true labels and predicted class probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=float)
    if predicted is None:
        predicted = probabilities.argmax(axis=1)
    metrics, per_class, letters, support, confusion = score_predictions(
        labels, predicted, probabilities
    )
    return Evaluation(
        target=target,
        split_fingerprint=split_fingerprint,
        metrics=metrics,
        per_class=per_class,
        labels=letters,
        support=support,
        confusion=confusion,
        predictions=[
            (path, int(y), int(p), row.tolist())
            for path, y, p, row in zip(paths, labels, predicted, probabilities)
        ],
    )
