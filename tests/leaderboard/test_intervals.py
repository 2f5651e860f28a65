"""Intervals: stratified, seeded resamples that score as the stored scores of the drawn images."""

from __future__ import annotations

import numpy as np
import pytest
from prediction_fixtures import SUPPORT, TWO_BY_TWO, predictions

from bench.errors import DataError
from bench.leaderboard.intervals import IntervalSettings, resample_weights
from bench.metrics import evaluate_predictions, features, metrics_from_sums


def test_resamples_keep_every_class_count_and_score_as_the_drawn_images():
    paths, labels, probabilities = predictions(TWO_BY_TWO[3], "d1")
    weights = resample_weights(labels, 50, seed=7)
    assert np.array_equal(weights, resample_weights(labels, 50, seed=7))  # seeded
    assert not np.array_equal(weights, resample_weights(labels, 50, seed=8))
    for i, count in enumerate(SUPPORT.values()):
        assert (weights[:, labels == i].sum(axis=1) == count).all()  # stratified
    predicted = probabilities.argmax(1)
    replicates = metrics_from_sums(weights @ features(labels, predicted, probabilities),
                                   range(5))
    for b in (0, 17, 49):  # each resample scores as the stored scores of the drawn images
        drawn = np.repeat(np.arange(len(labels)), weights[b].astype(int))
        ev = evaluate_predictions("d1", "fp", [""] * len(drawn), labels[drawn],
                                  probabilities[drawn], predicted[drawn])
        for metric, value in ev.metrics.items():
            assert replicates[metric][b] == pytest.approx(value, abs=1e-12), metric
        assert replicates["recall:B"][b] == pytest.approx(ev.per_class["recall"]["B"])


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
