"""Intervals, new metrics and calibration, checked against scikit-learn and naive loops."""

from __future__ import annotations

import numpy as np
import pytest
from prediction_fixtures import SUPPORT, TWO_BY_TWO, predictions
from sklearn import metrics as skm

from bench.engine.metrics import evaluate_predictions, expected_calibration_error
from bench.errors import DataError
from bench.leaderboard.intervals import (
    IntervalSettings,
    features,
    metrics_from_sums,
    resample_weights,
)


def naive_ece(confidence, correct, bins=15):
    total = 0.0
    for low, high in zip(np.linspace(0, 1, bins + 1)[:-1], np.linspace(0, 1, bins + 1)[1:]):
        inside = (confidence > low) & (confidence <= high)
        if low == 0:
            inside |= confidence == 0
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return total / len(confidence)


@pytest.mark.parametrize("target", ["d1", "d2"])
def test_new_metrics_match_scikit_learn_and_a_naive_ece(target):
    paths, labels, probabilities = predictions(TWO_BY_TWO[0], target)
    ev = evaluate_predictions(target, "fp", paths, labels, probabilities)
    predicted = probabilities.argmax(1)
    assert ev.metrics["mcc"] == pytest.approx(skm.matthews_corrcoef(labels, predicted))
    assert ev.metrics["brier"] == pytest.approx(
        skm.brier_score_loss(labels, probabilities, labels=range(5), scale_by_half=False))
    confidence = probabilities.max(1)
    assert ev.metrics["ece"] == pytest.approx(naive_ece(confidence, labels == predicted))
    assert ev.per_class["recall"]["B"] == pytest.approx(
        skm.recall_score(labels, predicted, labels=[4], average=None)[0])
    # A perfectly calibrated toy: confidence 0.75, right three times in four.
    assert expected_calibration_error(np.full(4, 0.75), np.array([1, 1, 1, 0])) == 0.0


def test_vectorised_metrics_equal_the_stored_scikit_learn_scores_on_every_class_set():
    rng = np.random.default_rng(3)
    for classes in ([0, 1, 2, 3, 4], [0, 2, 4], [1]):
        labels = rng.choice(classes, 120)
        probabilities = rng.dirichlet(np.ones(5) * 0.4, 120)
        ev = evaluate_predictions("t", "fp", [""] * 120, labels, probabilities)
        sums = features(labels, probabilities.argmax(1), probabilities).sum(0)
        vectorised = metrics_from_sums(sums, sorted(set(classes)))
        for metric, value in ev.metrics.items():
            assert vectorised[metric][0] == pytest.approx(value, abs=1e-12), metric
        for metric, per_class in ev.per_class.items():
            for letter, value in per_class.items():
                assert vectorised[f"{metric}:{letter}"][0] == pytest.approx(value, abs=1e-12)


def test_resamples_keep_every_class_count_and_equal_scikit_learn_on_the_drawn_images():
    paths, labels, probabilities = predictions(TWO_BY_TWO[3], "d1")
    weights = resample_weights(labels, 50, seed=7)
    assert np.array_equal(weights, resample_weights(labels, 50, seed=7))  # seeded
    assert not np.array_equal(weights, resample_weights(labels, 50, seed=8))
    for i, count in enumerate(SUPPORT.values()):
        assert (weights[:, labels == i].sum(axis=1) == count).all()  # stratified
    predicted = probabilities.argmax(1)
    replicates = metrics_from_sums(weights @ features(labels, predicted, probabilities),
                                   range(5))
    for b in (0, 17, 49):
        drawn = np.repeat(np.arange(len(labels)), weights[b].astype(int))
        y, p = labels[drawn], predicted[drawn]
        assert replicates["f1"][b] == pytest.approx(
            skm.f1_score(y, p, average="weighted", zero_division=0))
        assert replicates["mcc"][b] == pytest.approx(skm.matthews_corrcoef(y, p))
        assert replicates["recall:B"][b] == pytest.approx(
            skm.recall_score(y, p, labels=[4], average=None, zero_division=0)[0])
        assert replicates["ece"][b] == pytest.approx(
            naive_ece(probabilities.max(1)[drawn], y == p))


def test_bad_settings_are_clear_errors():
    with pytest.raises(DataError, match="--resamples must be at least 10"):
        IntervalSettings(resamples=3)
    with pytest.raises(DataError, match="--level must lie strictly between 0 and 1"):
        IntervalSettings(level=95)


def test_the_reliability_curve_weighs_up_to_the_stored_ece():
    from bench.leaderboard.reliability import reliability_curve

    paths, labels, probabilities = predictions(TWO_BY_TWO[4], "d1")
    ev = evaluate_predictions("d1", "fp", paths, labels, probabilities)
    correct = labels == probabilities.argmax(1)
    counts, confidence, accuracy = reliability_curve(probabilities.max(1), correct)
    filled = counts > 0
    assert counts.sum() == len(labels) and np.isnan(accuracy[~filled]).all()
    gap = (counts[filled] * np.abs(confidence[filled] - accuracy[filled])).sum() / len(labels)
    assert gap == pytest.approx(ev.metrics["ece"])
