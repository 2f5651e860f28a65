"""The metric table: both computations of every row agree with scikit-learn.

Each row of ``bench.metrics.METRICS`` is computed twice: from one run's predictions (stored)
and from sums over the test images (intervals, marks). Both are checked here against an
independent reference, scikit-learn where it has the metric, on random predictions with
balanced and imbalanced classes, a class missing from the test split, a one-class predictor
and a one-class test split. A row without a reference below fails the test: add one with it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

import bench
from bench.labels import CLASSES
from bench.metrics import (
    METRICS,
    Metric,
    evaluate_predictions,
    expected_calibration_error,
    features,
    metrics_from_sums,
    register,
    resolve_metrics,
)


def naive_ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    total = 0.0
    for low, high in zip(np.linspace(0, 1, bins + 1)[:-1], np.linspace(0, 1, bins + 1)[1:]):
        inside = (confidence > low) & (confidence <= high)
        if low == 0:
            inside |= confidence == 0
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return total / len(confidence)


def reference(labels, predicted, probabilities) -> dict[str, float]:
    """Each metric of the table by scikit-learn (ECE by a plain loop: it has none)."""
    present = sorted(set(labels.tolist()))
    weighted = {"labels": present, "average": "weighted", "zero_division": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class cases: scikit-learn warns, then answers
        out = {
            "accuracy": skm.accuracy_score(labels, predicted),
            "precision": skm.precision_score(labels, predicted, **weighted),
            "recall": skm.recall_score(labels, predicted, **weighted),
            "f1": skm.f1_score(labels, predicted, **weighted),
            "macro_f1": skm.f1_score(labels, predicted, labels=present, average="macro",
                                     zero_division=0),
            "balanced_accuracy": skm.balanced_accuracy_score(labels, predicted),
            "mcc": skm.matthews_corrcoef(labels, predicted),
            "ece": naive_ece(probabilities[np.arange(len(labels)), predicted],
                             labels == predicted),
            "brier": skm.brier_score_loss(labels, probabilities, labels=range(len(CLASSES))),
        }
        per_class = skm.precision_recall_fscore_support(labels, predicted, labels=present,
                                                        zero_division=0)
    for name, values in zip(("precision", "recall", "f1"), per_class[:3]):
        out.update({f"{name}:{CLASSES[i]}": v for i, v in zip(present, values)})
    return out


def case(name: str, seed: int, n: int = 300):
    """Labels, predictions and probabilities for one kind of test split and predictor."""
    rng = np.random.default_rng(seed)
    shares = {"balanced": None, "imbalanced": [0.5, 0.3, 0.12, 0.06, 0.02],
              "missing class": [0.5, 0, 0.3, 0, 0.2], "one-class predictor": None,
              "one-class split": [0, 0, 1, 0, 0]}[name]
    labels = rng.choice(len(CLASSES), size=n, p=shares)
    probabilities = rng.dirichlet(np.full(len(CLASSES), 0.5), size=n)
    right = rng.random(n) < 0.6  # better than chance, so the metrics are not all near zero
    probabilities[right] = probabilities[right][:, ::-1]
    probabilities[right, labels[right]] += 1.0
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    predicted = probabilities.argmax(axis=1)
    if name == "one-class predictor":
        predicted = np.full(n, 2)
    return labels, predicted, probabilities


CASES = [(name, seed) for name in ("balanced", "imbalanced", "missing class",
                                   "one-class predictor", "one-class split")
         for seed in (0, 1, 2)]


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_both_computations_of_every_row_agree_with_scikit_learn(name, seed):
    labels, predicted, probabilities = case(name, seed)
    expected = reference(labels, predicted, probabilities)
    assert set(METRICS) <= set(expected), "a row without a reference: add one above"
    stored = evaluate_predictions("t", "fp", [""] * len(labels), labels, probabilities,
                                  predicted)
    present = sorted(set(labels.tolist()))
    from_sums = metrics_from_sums(features(labels, predicted, probabilities).sum(axis=0),
                                  present)
    for metric in METRICS:
        assert stored.metrics[metric] == pytest.approx(expected[metric], abs=1e-12), metric
        assert from_sums[metric][0] == pytest.approx(expected[metric], abs=1e-12), metric
    for metric, values in stored.per_class.items():
        for letter, value in values.items():
            assert value == pytest.approx(expected[f"{metric}:{letter}"], abs=1e-12)
            assert from_sums[f"{metric}:{letter}"][0] == pytest.approx(value, abs=1e-12)
    assert set(from_sums) == set(METRICS) | {f"{m}:{CLASSES[i]}" for m in stored.per_class
                                             for i in present}


def test_stored_record_keeps_the_full_confusion_and_the_support_of_present_classes():
    labels, predicted, probabilities = case("missing class", 0)
    ev = evaluate_predictions("t", "fp", [""] * len(labels), labels, probabilities)
    assert ev.labels == ["L", "N", "B"]
    assert ev.support == {c: int((labels == CLASSES.index(c)).sum()) for c in "LNB"}
    assert np.array_equal(ev.confusion, skm.confusion_matrix(labels, predicted,
                                                             labels=range(5)))
    assert abs(ev.metrics["recall"] - ev.metrics["accuracy"]) < 1e-12  # so in the paper too
    # A perfectly calibrated toy: confidence 0.75, right three times in four.
    assert expected_calibration_error(np.full(4, 0.75), np.array([1, 1, 1, 0])) == 0.0


def test_metric_names_resolve_by_name_or_abbreviation_and_unknown_ones_list_the_known():
    assert resolve_metrics(["F1", "mf1", "balanced-accuracy"]) == [
        "f1", "macro_f1", "balanced_accuracy"]
    assert resolve_metrics(None) == ["accuracy", "precision", "recall", "f1"]
    assert resolve_metrics(["plugin_score"], present=["plugin_score"]) == ["plugin_score"]
    with pytest.raises(bench.UnknownNameError) as caught:
        resolve_metrics(["f2"])
    assert "Did you mean: f1" in str(caught.value)
    assert "balanced_accuracy" in str(caught.value)


def test_a_row_must_not_reuse_a_name_or_an_abbreviation():
    row = METRICS["f1"]
    with pytest.raises(ValueError, match="already in the table"):
        register(row)
    with pytest.raises(ValueError, match="already in the table"):
        register(Metric("f1_again", "f1", "F1 again", True, row.point, row.from_sums))
    with pytest.raises(ValueError, match="give terms and columns together"):
        register(Metric("half", "H", "half", True, row.point, row.from_sums, columns=2))
    assert "f1_again" not in METRICS and "half" not in METRICS
