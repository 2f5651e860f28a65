"""Rank tiers (--marks tiers): all-pairs paired tests with Holm, in every format."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from fixtures.cli import invoke

import bench
from bench.leaderboard.ranking import beats, holm, rank_intervals, tiers
from bench.leaderboard.recipe import CellDraws
from bench.metrics import evaluate_predictions

IMAGES = 500
LABELS = np.repeat(np.arange(5), IMAGES // 5)
PATHS = [f"t/{i:04d}.png" for i in range(IMAGES)]


def predicted_at(accuracy: float, seed: int) -> np.ndarray:
    """Predicted labels: ``accuracy`` of the images right (exactly), the rest one class off."""
    rng = np.random.default_rng(seed)
    wrong = rng.choice(IMAGES, round((1 - accuracy) * IMAGES), replace=False)
    predicted = LABELS.copy()
    predicted[wrong] = (LABELS[wrong] + 1) % 5
    return predicted


def write(store: bench.ResultsStore, model: str, seed: int, predicted: np.ndarray) -> None:
    run_id = store.claim(bench.Cell(model, "d1", seed, "quick", "abcdef0123456789", "f1aaaa"))
    probabilities = np.full((IMAGES, 5), 0.1)
    probabilities[np.arange(IMAGES), predicted] = 0.6
    store.finish(run_id, [evaluate_predictions("d2", "f2bbbb", PATHS, LABELS, probabilities)],
                 epochs=1, best_epoch=1, summary={"selection": "val_f1"})


@pytest.fixture
def tiered(tmp_path, no_plugins):
    """A and B differ on 1 image of 500 in every seed; C is 10 points below; 3 seeds each."""
    path = tmp_path / "tiers.sqlite"
    store = bench.open_store(path)
    for seed in range(3):
        a = predicted_at(0.80 + 0.01 * seed, seed)
        b = a.copy()
        right = np.flatnonzero(a == LABELS)
        b[right[0]] = (LABELS[right[0]] + 1) % 5  # one image of 500 turned wrong
        write(store, "a", seed, a)
        write(store, "b", seed, b)
        write(store, "c", seed, predicted_at(0.70 + 0.01 * seed, 100 + seed))
    return path


def tier_board(path, fmt: str) -> str:
    result = invoke("leaderboard", "--store", str(path), "--cross", "--metric",
                    "accuracy", "--marks", "tiers", "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_image_of_500_shares_a_tier_and_a_ten_point_gap_does_not(tiered):
    (board,) = json.loads(tier_board(tiered, "json"))
    (table,) = board["tables"]
    cells = {row["model"]: row["cells"]["d2/accuracy"] for row in table["rows"]}
    assert cells["a"]["value"] - cells["b"]["value"] == pytest.approx(100 / 500 * 1, abs=1e-9)
    assert cells["a"]["value"] - cells["c"]["value"] == pytest.approx(10, abs=1e-9)
    assert (cells["a"]["tier"], cells["b"]["tier"], cells["c"]["tier"]) == (1, 1, 2)
    assert (cells["a"]["mark"], cells["b"]["mark"], cells["c"]["mark"]) == (
        "best", "not_worse", None)
    assert cells["a"]["rank_interval"] == cells["b"]["rank_interval"] == [1, 2]
    assert cells["c"]["rank_interval"] == [3, 3]
    assert cells["c"]["text"].endswith("T2 (3)") and cells["a"]["text"].endswith("T1 (1–2)")
    assert table["marks"] == "tiers"
    assert board["context"]["intervals"].startswith("the recipe: 3 seeds per cell")


@pytest.mark.parametrize("fmt", ["md", "html", "latex", "csv"])
def test_every_format_shows_the_tiers(tiered, fmt):
    text = tier_board(tiered, fmt)
    if fmt == "csv":
        rows = {r["model"]: r for r in csv.DictReader(io.StringIO(text))}
        assert (rows["a"]["tier"], rows["c"]["tier"]) == ("1", "2")
        assert (rows["c"]["rank_low"], rows["c"]["rank_high"]) == ("3", "3")
        return
    assert "T2 (3)" in text and "rank tier" in text
    assert tier_board(tiered, fmt) == text  # a pure function of the predictions: rebuilt alike


def test_tiers_are_sequential_and_rank_intervals_count_the_significant_wins():
    # m0 beats m2 and m3; m1 beats m3 only; m2 and m3 are not told apart.
    beaten = np.zeros((4, 4), bool)
    beaten[0, 2] = beaten[0, 3] = beaten[1, 3] = True
    assert tiers(beaten) == [1, 1, 2, 2]
    assert rank_intervals(beaten) == [(1, 2), (1, 3), (2, 4), (3, 4)]


def test_all_pairs_holm_compares_every_pair_once():
    rng = np.random.default_rng(0)
    cells = [CellDraws.from_seeds(np.array([0.8, 0.81, 0.79]) + shift,
                                  0.8 + shift + rng.normal(0, 0.005, (3, 400)))
             for shift in (0.0, 0.001, -0.2)]
    beaten = beats(cells)
    assert beaten[0, 2] and beaten[1, 2] and not beaten[0, 1] and not beaten[1, 0]
    assert not beaten[2].any()
    lower = beats(cells, higher_is_better=False)  # calibration errors: lower wins
    assert lower[2, 0] and lower[2, 1]
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
