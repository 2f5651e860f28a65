"""Paired comparisons and significance marks: McNemar equals scipy, Holm, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures.cli import invoke
from prediction_fixtures import Predicted, write_predicted
from scipy import stats

import bench
import bench.leaderboard as lb
from bench.leaderboard.mcnemar import mcnemar_exact
from bench.leaderboard.ranking import holm
from bench.leaderboard.recipe import bootstrap_p


@pytest.mark.parametrize("only_a, only_b", [(0, 0), (3, 0), (7, 12), (56, 17), (400, 351)])
def test_mcnemar_exact_equals_scipys_binomial_test(only_a, only_b):
    correct_a = np.array([1] * only_a + [0] * only_b + [1] * 5 + [0] * 4, bool)
    correct_b = np.array([0] * only_a + [1] * only_b + [1] * 5 + [0] * 4, bool)
    result = mcnemar_exact(correct_a, correct_b)
    assert (result.only_a, result.only_b) == (only_a, only_b)
    expected = 1.0 if only_a + only_b == 0 else stats.binomtest(
        only_a, only_a + only_b, 0.5).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-9)


def test_holm_adjusts_step_down_and_bootstrap_p_never_reaches_zero():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == [0.5]
    assert bootstrap_p(np.ones(999)) == pytest.approx(2 / 1000)
    assert bootstrap_p(np.zeros(100)) == 1.0


def test_compare_prints_the_paired_difference_and_mcnemar_equal_to_scipy(predicted_store):
    result = invoke("compare", "--store", str(predicted_store), "--models", "strong,weak",
                    "--source", "d2", "--target", "d1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    store = bench.open_store(predicted_store)
    runs = store.runs().set_index("model")
    a = store.predictions(runs.loc["strong"].query("source == 'd2'")["id"].iloc[0], "d1")
    b = store.predictions(runs.loc["weak"].query("source == 'd2'")["id"].iloc[0], "d1")
    right_a, right_b = a.label == a.predicted, b.label == b.predicted
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    (pair,) = data["pairs"]
    assert (pair["mcnemar"]["only_a"], pair["mcnemar"]["only_b"]) == (only_a, only_b)
    assert pair["mcnemar"]["p_value"] == pytest.approx(
        stats.binomtest(only_a, only_a + only_b).pvalue, rel=1e-9)
    accuracy = next(d for d in data["differences"] if d["metric"] == "accuracy")
    assert accuracy["difference"] == pytest.approx(100 * (right_a.mean() - right_b.mean()),
                                                   abs=1e-4)
    assert accuracy["ci_low"] < accuracy["difference"] < accuracy["ci_high"]
    assert {d["metric"] for d in data["differences"]} >= {"macro_f1", "mcc", "ece", "brier"}
    table = invoke("compare", "--store", str(predicted_store), "--models", "strong,weak",
                   "--source", "d2", "--target", "d1", "--metric", "f1,recall:B")
    assert table.exit_code == 0, table.output
    assert "McNemar" in table.output and "+" in table.output


def test_compare_refuses_bad_input_clearly(predicted_store):
    store = str(predicted_store)
    one = invoke("compare", "--store", store, "--models", "strong", "--source", "d1",
                 "--target", "d1")
    assert one.exit_code == 2 and "exactly two names" in one.output
    unknown = invoke("compare", "--store", store, "--models", "strong,weka", "--source", "d1",
                     "--target", "d1")
    assert unknown.exit_code == 1 and "Did you mean: weak" in unknown.output


def test_significance_marks_bold_the_best_and_the_indistinguishable(tmp_path, names):
    path = tmp_path / "marks.sqlite"
    write_predicted(bench.open_store(path), [
        Predicted(model, "d1", seed, {"d2": accuracy})
        for model, accuracy in (("best", 0.80), ("close", 0.78), ("poor", 0.40))
        for seed in range(3)  # marks need three seeds per cell
    ])
    store = bench.open_store(path)
    groups = lb.store_groups(store.scores(), names)
    uncertainty = lb.group_bootstraps(groups, store, lb.IntervalSettings(resamples=400))
    (board,) = lb.build_boards(groups, names, layouts=("cross",), metrics=["accuracy"],
                               uncertainty=uncertainty, marks="significance")
    table = board.tables[0]
    cells = {row.key[0]: row.cells["d2/accuracy"] for row in table.rows}
    top, other = sorted(["best", "close"], key=lambda m: -cells[m].mean)  # as drawn
    assert cells[top].mean - cells[other].mean < 5 < cells[other].mean - cells["poor"].mean
    marks = {model: value.mark for model, value in cells.items()}
    assert marks == {top: "best", other: "not_worse", "poor": None}
    assert table.marks == "significance"
    md = lb.render([board], "md")
    assert "Holm-corrected over the column's pairs" in md and "not significantly worse" in md
    assert "Intervals: the recipe: 3 seeds per cell" in md
    assert "Underlined" not in md
    (paper,) = lb.build_boards(groups, names, layouts=("cross",), metrics=["accuracy"])
    assert {row.key[0]: row.cells["d2/accuracy"].mark for row in paper.tables[0].rows} == {
        top: "best", other: "second", "poor": None}  # the paper's marks stay the default


def test_compare_json_matches_its_golden_file(predicted_store):
    from test_render import check_golden

    result = invoke("compare", "--store", str(predicted_store), "--models", "strong,weak",
                    "--source", "d1", "--target", "d1", "--resamples", "200", "--json")
    assert result.exit_code == 0, result.output
    check_golden("compare.json", result.output)
    data = json.loads(result.output)
    assert [(p["seed_a"], p["seed_b"]) for p in data["pairs"]] == [(0, 0)]  # paired by seed


def test_a_p_value_at_the_bootstraps_floor_reads_as_below_it(predicted_store):
    from bench.leaderboard.render.paired_terminal import bootstrap_p_text

    assert bootstrap_p_text(2 / 1001, 1000) == "< 0.002"  # 1,000 resamples cannot say less
    assert bootstrap_p_text(2 / 201, 200) == "< 0.01"
    assert bootstrap_p_text(0.0345, 1000) == "0.0345"
    args = ["compare", "--store", str(predicted_store), "--models", "strong,weak", "--source",
            "d2", "--target", "d1", "--metric", "accuracy"]
    data = json.loads(invoke(*args, "--json").output)
    (accuracy,) = data["differences"]
    assert accuracy["p_value"] == pytest.approx(2 / 1001)  # strong beats weak in every resample
    table = invoke(*args)
    assert "< 0.002" in table.output and "  0.002 " not in table.output


def test_with_one_seed_marks_stay_the_papers_and_the_board_says_why(predicted_store, names):
    store = bench.open_store(predicted_store)
    groups = lb.store_groups(store.scores(), names, models=["weak"])
    uncertainty = lb.group_bootstraps(groups, store, lb.IntervalSettings(resamples=200))
    (board,) = lb.build_boards(groups, names, layouts=("cross",), metrics=["f1"],
                               uncertainty=uncertainty, marks="significance", intervals=True)
    (table,) = board.tables
    assert {v.mark for row in table.rows for v in row.cells.values()} <= {"best", "second", None}
    text = " ".join(lb.render([board], "md").split())
    assert "need at least 3 seeds per cell" in text
    assert "Intervals: this trained model: one seed per cell" in text
    assert "about this trained model, not the recipe" in text
    data = json.loads(lb.render([board], "json"))[0]
    assert data["context"]["intervals"].startswith("this trained model")
    cells = [c for row in data["tables"][0]["rows"] for c in row["cells"].values() if c]
    assert {c["ci_unit"] for c in cells} == {"this trained model"}
    assert "this trained model" in lb.render([board], "csv")
    for fmt in ("html", "latex"):
        assert "this trained model" in lb.render([board], fmt)
