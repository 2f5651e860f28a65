"""Scores of one model on one target, computed with scikit-learn as the paper reports them.

Weighted averages use the support of each class in the target's test split. A target that lacks
some of the five classes is scored on the classes it has; which ones is recorded with the score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm

from bench.labels import CLASSES
from bench.store import Evaluation


def evaluate_predictions(
    target: str,
    split_fingerprint: str,
    paths: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
) -> Evaluation:
    """Every stored metric from true labels and predicted class probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = probabilities.argmax(axis=1)
    present = sorted(set(labels.tolist()))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, predicted, labels=present, zero_division=0
    )
    weights = support / support.sum()
    letters = [CLASSES[i] for i in present]
    scores = {
        "accuracy": skm.accuracy_score(labels, predicted),
        "precision": float(precision @ weights),
        "recall": float(recall @ weights),
        "f1": float(f1 @ weights),
        "macro_f1": float(f1.mean()),
        "balanced_accuracy": float(recall.mean()),
    }
    per_class = {
        name: dict(zip(letters, map(float, values)))
        for name, values in (("precision", precision), ("recall", recall), ("f1", f1))
    }
    confusion = skm.confusion_matrix(labels, predicted, labels=range(len(CLASSES)))
    return Evaluation(
        target=target,
        split_fingerprint=split_fingerprint,
        metrics={k: float(v) for k, v in scores.items()},
        per_class=per_class,
        labels=letters,
        support=dict(zip(letters, map(int, support))),
        confusion=confusion.tolist(),
        predictions=[
            (path, int(y), int(p), row.tolist())
            for path, y, p, row in zip(paths, labels, predicted, probabilities)
        ],
    )
