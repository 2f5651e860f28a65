"""Adding a metric is one row: the row in CONTRIBUTING.md reaches every place metrics show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import invoke
from sklearn import metrics as skm

import bench
import bench.metrics

GUIDE = (Path(__file__).resolve().parents[2] / "CONTRIBUTING.md").read_text(encoding="utf-8")
ROW = re.search(r"```python\n# bench/metrics.py: one more row of METRICS\n(.*?)```", GUIDE,
                re.S).group(1)


def wide(*args: str):
    return invoke(*args, terminal_width=200)


@pytest.fixture
def kappa():
    row = bench.metrics.register(eval(ROW, vars(bench.metrics)))  # the row, as written
    yield row
    del bench.metrics.METRICS[row.name]


def test_the_guides_row_computes_kappa_both_ways_as_scikit_learn_does(kappa):
    assert list(bench.metrics.METRICS)[-1] == "kappa"
    rng = np.random.default_rng(0)
    labels = rng.choice(5, 400, p=[0.5, 0.3, 0.1, 0.07, 0.03])
    probabilities = rng.dirichlet(np.ones(5), 400)
    predicted = np.where(rng.random(400) < 0.7, labels, probabilities.argmax(1))
    expected = skm.cohen_kappa_score(labels, predicted)
    stored = bench.metrics.evaluate_predictions("t", "fp", [""] * 400, labels, probabilities,
                                                predicted)
    sums = bench.metrics.features(labels, predicted, probabilities).sum(axis=0)
    assert stored.metrics["kappa"] == pytest.approx(expected, abs=1e-12)
    assert bench.metrics.metrics_from_sums(sums, range(5))["kappa"][0] == pytest.approx(
        expected, abs=1e-12)


def test_a_metric_added_as_one_row_reaches_choices_scores_intervals_and_boards(
    kappa, predicted_store
):
    store = str(predicted_store)
    assert "brier, kappa)" in wide("leaderboard", "--help").output  # --metric's choices
    assert "brier, kappa;" in wide("compare", "--help").output
    missing = wide("leaderboard", "--store", store, "--metric", "kappa")
    assert missing.exit_code == 1 and "bench rescore" in " ".join(missing.output.split())

    assert wide("rescore", "--store", store).exit_code == 0
    results = bench.open_store(predicted_store)
    scores = results.scores()
    stored = scores[scores.metric == "kappa"]
    assert len(stored) == 10  # every (run, target)
    for row in stored.itertuples():
        predictions = results.predictions(row.run_id, row.target)
        expected = skm.cohen_kappa_score(predictions.label, predictions.predicted)
        assert row.value == pytest.approx(expected, abs=1e-6)

    result = wide("leaderboard", "--store", store, "--cross", "--ci", "--metric", "KAPPA",
                  "--resamples", "200", "--marks", "significance", "--format", "json")
    assert result.exit_code == 0, result.output
    (board,) = json.loads(result.output)
    table = board["tables"][0]
    assert {c["metric"] for c in table["columns"] if c.get("metric")} == {"kappa"}
    assert all(c["better"] == "higher" for c in table["columns"] if c.get("metric"))
    assert table["title"].endswith("(Cohen's kappa)")  # the row's title and abbreviation
    assert "Kappa = Cohen's kappa" in table["notes"][0]
    cells = [cell for row in table["rows"] for cell in row["cells"].values() if cell]
    assert len(cells) == 2 * 2 * 2  # models x sources x targets
    for cell in cells:
        assert cell["ci_low"] < cell["ci_high"]
        assert cell["ci_low"] <= cell["value"] <= cell["ci_high"]
    assert any(cell["mark"] == "best" for cell in cells)

    compare = wide("compare", "--store", store, "--models", "strong,weak", "--source", "d1",
                   "--target", "d1", "--metric", "kappa", "--resamples", "200", "--json")
    assert compare.exit_code == 0, compare.output
    (difference,) = json.loads(compare.output)["differences"]
    assert difference["metric"] == "kappa" and difference["value_a"] > difference["value_b"]
    assert difference["ci_low"] <= difference["difference"] <= difference["ci_high"]
