"""Stored scores are scikit-learn's, computed as the paper reports them."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from bench.engine.metrics import evaluate_predictions


def random_predictions(n: int, classes: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.choice(classes, size=n)
    probabilities = rng.dirichlet(np.ones(5), size=n)
    return labels, probabilities


def test_weighted_metrics_match_scikit_learn_and_recall_equals_accuracy():
    labels, probabilities = random_predictions(200, [0, 1, 2, 3, 4])
    predicted = probabilities.argmax(1)
    ev = evaluate_predictions("t", "fp", [f"{i}.png" for i in range(200)], labels, probabilities)
    assert ev.metrics["accuracy"] == skm.accuracy_score(labels, predicted)
    for name, function in (("precision", skm.precision_score), ("recall", skm.recall_score),
                           ("f1", skm.f1_score)):
        expected = function(labels, predicted, average="weighted", zero_division=0)
        assert abs(ev.metrics[name] - expected) < 1e-12
    assert abs(ev.metrics["macro_f1"] - skm.f1_score(labels, predicted, average="macro")) < 1e-12
    assert abs(ev.metrics["balanced_accuracy"]
               - skm.balanced_accuracy_score(labels, predicted)) < 1e-12
    assert abs(ev.metrics["recall"] - ev.metrics["accuracy"]) < 1e-12
    assert np.array_equal(np.array(ev.confusion), skm.confusion_matrix(labels, predicted))
    assert sum(ev.support.values()) == 200


def test_a_target_without_some_classes_is_scored_on_the_classes_it_has():
    labels, probabilities = random_predictions(100, [0, 2, 4], seed=1)
    ev = evaluate_predictions("t", "fp", [""] * 100, labels, probabilities)
    assert ev.labels == ["L", "N", "B"]
    assert set(ev.per_class["f1"]) == {"L", "N", "B"}
    predicted = probabilities.argmax(1)
    expected = skm.f1_score(labels, predicted, labels=[0, 2, 4], average="weighted",
                            zero_division=0)
    assert abs(ev.metrics["f1"] - expected) < 1e-12
    assert abs(ev.metrics["recall"] - ev.metrics["accuracy"]) < 1e-12
    assert len(ev.confusion) == 5  # the full label space, so boards can sum matrices
