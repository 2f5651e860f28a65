"""Intervals and tests over the recipe: Welch's t when seeds dominate, bootstrap when images do."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench.leaderboard.recipe import CellDraws, bootstrap_p, difference, estimate


def fixed_images(points: list[float], resamples: int = 500) -> CellDraws:
    """Seeds whose scores do not move with the test images: only the seeds vary."""
    points_array = np.array(points)
    return CellDraws.from_seeds(points_array, np.repeat(points_array[:, None], resamples, 1))


def test_without_test_noise_the_recipe_difference_is_welchs_t_test():
    a, b = [0.91, 0.88, 0.93], [0.86, 0.87, 0.83, 0.85]
    result = difference(fixed_images(a), fixed_images(b), 0.95)
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert result.unit == "recipe"
    assert result.value == pytest.approx(np.mean(a) - np.mean(b))
    assert result.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    interval = welch.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), rel=1e-9)
    assert result.df == pytest.approx(welch.df, rel=1e-9)


def test_without_test_noise_the_recipe_interval_is_students_t_over_seeds():
    seeds = [0.91, 0.88, 0.93]
    result = estimate(fixed_images(seeds), 0.95)
    expected = stats.t.interval(0.95, 2, loc=np.mean(seeds), scale=stats.sem(seeds))
    assert (result.low, result.high) == pytest.approx(expected, rel=1e-9)
    assert result.unit == "recipe" and result.seeds == 3


def test_identical_seeds_leave_the_test_images_variation_alone():
    rng = np.random.default_rng(0)
    image = 0.9 + rng.normal(0, 0.01, 2000)
    cell = CellDraws.from_seeds(np.full(3, 0.9), np.tile(image, (3, 1)))
    assert cell.unshared == pytest.approx(0, abs=1e-12)  # the seeds share all of it
    result = estimate(cell, 0.95)
    half = 1.959964 * image.std(ddof=1)
    assert (result.low, result.high) == pytest.approx((0.9 - half, 0.9 + half), rel=1e-6)


def test_the_decomposition_finds_the_shared_and_the_unshared_test_variance():
    rng = np.random.default_rng(1)
    resamples, k = 20000, 3
    shared = rng.normal(0, 0.02, resamples)  # images every seed finds hard
    own = rng.normal(0, 0.01, (k, resamples))  # each seed's own mistakes
    cell = CellDraws.from_seeds(np.array([0.9, 0.91, 0.92]), 0.9 + shared + own)
    assert cell.unshared == pytest.approx(0.01**2 / k, rel=0.05)
    assert cell.image.var() - cell.unshared == pytest.approx(0.02**2, rel=0.05)


def test_one_seed_is_about_the_trained_model_by_the_percentile_bootstrap():
    rng = np.random.default_rng(2)
    a = CellDraws.from_seeds(np.array([0.9]), 0.9 + rng.normal(0, 0.01, (1, 999)))
    b = CellDraws.from_seeds(np.array([0.85]), 0.85 + rng.normal(0, 0.01, (1, 999)))
    one = estimate(a, 0.95)
    assert one.unit == "model"
    assert (one.low, one.high) == pytest.approx(tuple(np.quantile(a.image, [0.025, 0.975])))
    result = difference(a, b, 0.95)
    assert result.unit == "model"
    assert result.p_value == bootstrap_p(a.image - b.image)
    three = fixed_images([0.9, 0.91, 0.92], 999)
    assert difference(three, b, 0.95).unit == "model"  # one side with one seed: the models


def test_an_interval_stays_within_the_metrics_range():
    result = estimate(fixed_images([0.999, 0.98, 1.0]), 0.95, bounds=(0.0, 1.0))
    assert result.high == 1.0 and result.low < 0.99
