"""Rank agreement between data sets: Kendall's τ-b equal to scipy's, with bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures.cli import invoke
from prediction_fixtures import Predicted, write_predicted
from scipy import stats

import bench
import bench.leaderboard as lb
from bench.leaderboard.agreement import kendall_tau_b
from bench.leaderboard.reference import reference_rows


@pytest.mark.parametrize("seed", range(5))
def test_tau_b_equals_scipys_with_ties_and_with_repeated_rows(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, 9).astype(float)  # ties on both sides
    y = rng.integers(0, 4, 9).astype(float)
    assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)
    counts = rng.integers(0, 3, 9)
    counts[:2] = 1  # at least two rows drawn
    repeated = stats.kendalltau(np.repeat(x, counts), np.repeat(y, counts)).statistic
    assert kendall_tau_b(x, y, counts.astype(float)) == pytest.approx(repeated)


def test_reference_agreement_gives_tau_with_an_interval_for_every_pair():
    result = invoke("leaderboard", "--reference", "zedda2024", "--agreement", "--format", "json")
    assert result.exit_code == 0, result.output
    (board,) = json.loads(result.stdout)
    pairs, with_real = board["tables"]
    f1 = {}
    for row in reference_rows("zedda2024", "same"):
        f1.setdefault(row.source, {})[row.model] = row.values["f1"]
    datasets = list(f1)
    assert len(pairs["rows"]) == len(datasets) * (len(datasets) - 1) // 2 == 15
    for row in pairs["rows"]:
        first, second = row["labels"]
        models = sorted(f1[first])
        expected = stats.kendalltau([f1[first][m] for m in models],
                                    [f1[second][m] for m in models]).statistic
        cell = row["cells"]["tau"]
        assert cell["value"] == pytest.approx(expected, abs=1e-4)
        assert -1 <= cell["ci_low"] <= cell["ci_high"] <= 1
        assert row["cells"]["rows"]["value"] == 7
    kinds = {row["labels"][0]: row["labels"][1] for row in with_real["rows"]}
    assert kinds["WBC-USID-B"] == kinds["WBC-USID-C"] == "synthetic"
    assert kinds["Raabin"] == "real"
    assert "over the models" in " ".join(pairs["notes"])
    again = invoke("leaderboard", "--reference", "zedda2024", "--agreement", "--format", "json")
    assert again.stdout == result.stdout  # seeded: the same intervals every time


def test_agreement_from_predictions_resamples_the_test_images(tmp_path, names):
    path = tmp_path / "agree.sqlite"
    skill = {"m1": 0.9, "m2": 0.8, "m3": 0.7, "m4": 0.6}
    write_predicted(bench.open_store(path), [
        Predicted(model, source, 0, {source: value - (0.05 if source == "d2" else 0)})
        for model, value in skill.items() for source in ("d1", "d2")
    ])
    board_set = lb.make_boards(lb.BoardRequest(agreement=True, metrics=["accuracy"]),
                               store_path=path, names=names)
    (table,) = board_set.boards[0].tables  # no registry marks a data set synthetic here
    (row,) = table.rows
    tau = row.cells["tau"]
    assert tau.mean == pytest.approx(1.0)  # the same order on both
    assert tau.ci_low is not None and tau.ci_low < 1.0 <= tau.ci_high + 1e-12
    assert "test images of each target" in " ".join(table.notes)
    csv = board_set.render("csv")
    assert "agreement-same-accuracy" in csv


def test_agreement_needs_three_models_in_common(tmp_path, names):
    path = tmp_path / "two.sqlite"
    write_predicted(bench.open_store(path), [
        Predicted(model, "d1", 0, {"d1": 0.8, "d2": 0.6}) for model in ("m1", "m2")])
    result = invoke("leaderboard", "--store", str(path), "--agreement", "--cross")
    assert result.exit_code == 1 and "3 or more ranked models" in result.output
