"""Boards with intervals, per-class tables, reliability diagrams, and re-scoring a store."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest
from fixtures.cli import invoke
from leaderboard_fixtures import FIXED_DATE, FIXED_VERSION
from test_render import check_golden

import bench
import bench.leaderboard as lb


def board(*args: str):
    return invoke("leaderboard", *args)


def test_cross_ci_json_brackets_every_score_and_is_the_same_on_a_second_call(predicted_store):
    args = ("--store", str(predicted_store), "--cross", "--ci", "--format", "json")
    first, second = board(*args), board(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output  # seeded: same store, same intervals
    (data,) = json.loads(first.output)
    cells = [cell for row in data["tables"][0]["rows"] for cell in row["cells"].values()]
    assert len(cells) == 2 * 2 * 2 * 4  # models x sources x targets x the paper's metrics
    for cell in cells:
        assert cell["ci_low"] <= cell["value"] <= cell["ci_high"]
        assert cell["ci_high"] - cell["ci_low"] > 0
        low, high = re.fullmatch(r"[\d.]+ \[([\d.]+), ([\d.]+)\]( \(n=\d\))?",
                                 cell["text"]).groups()[:2]
        assert float(low) == pytest.approx(cell["ci_low"], abs=0.051)
        assert float(high) == pytest.approx(cell["ci_high"], abs=0.051)


def test_every_format_shows_the_interval(predicted_store):
    store = str(predicted_store)
    common = ("--store", store, "--cross", "--ci", "--metric", "f1", "--resamples", "200",
              "--models", "weak", "--sources", "d2")
    rows = list(csv.DictReader(io.StringIO(board(*common, "--format", "csv").output)))
    assert rows and all(float(r["ci_low"]) <= float(r["value"]) <= float(r["ci_high"])
                        for r in rows)
    for fmt in ("md", "latex", "html"):
        text = board(*common, "--format", fmt).output
        assert f"{float(rows[0]['value']):.1f}" in text and "95 % percentile bootstrap" in text
    terminal = board(*common)
    assert terminal.exit_code == 0 and "[" in terminal.output


def test_board_with_intervals_marks_and_per_class_matches_its_golden_file(predicted_store, names):
    store = bench.open_store(predicted_store)
    groups = lb.store_groups(store.scores(), names)
    uncertainty = lb.group_bootstraps(groups, store, lb.IntervalSettings(resamples=200))
    boards = lb.build_boards(groups, names, layouts=("cross",), metrics=["accuracy", "macro_f1"],
                             uncertainty=uncertainty, intervals=True, marks="significance",
                             per_class=True, date=FIXED_DATE, version=FIXED_VERSION)
    text = lb.render(boards, "md")
    check_golden("cross-ci.md", text)
    assert "Per class: precision and recall" in text and "B = basophil" in text


def test_per_class_without_intervals_shows_the_stored_per_class_recall(predicted_store):
    result = board("--store", str(predicted_store), "--per-class", "--models", "weak",
                   "--format", "json")
    tables = {t["name"]: t for t in json.loads(result.output)[0]["tables"]}
    (row, *_) = tables["per-class"]["rows"]
    stored = bench.open_store(predicted_store).scores()
    stored = stored[(stored.model == "weak") & (stored.source == row["source"])
                    & (stored.target == row["target"]) & (stored.metric == "recall")]
    recall_b = stored.per_class.iloc[0]["B"]
    assert row["cells"]["recall:B"]["value"] == pytest.approx(100 * recall_b, abs=1e-4)


def test_an_old_store_gains_the_new_metrics_with_rescore(predicted_store):
    with sqlite3.connect(predicted_store) as db:  # as a store from before these metrics
        db.execute("DELETE FROM scores WHERE metric IN ('mcc', 'ece', 'brier')")
        before = db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    missing = board("--store", str(predicted_store), "--metric", "mcc")
    assert missing.exit_code == 1 and "bench rescore" in " ".join(missing.output.split())
    result = invoke("rescore", "--store", str(predicted_store), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["runs"] == 5 and report["targets"] == 10 and not report["without_predictions"]
    store = bench.open_store(predicted_store)
    scores = store.scores()
    assert len(scores) == before + 10 * 3
    from bench.metrics import evaluate_predictions

    run_id = scores.run_id.iloc[0]
    rows = store.predictions(run_id, "d1")
    import numpy as np

    expected = evaluate_predictions("d1", "", rows.path, rows.label,
                                    np.array(rows.probabilities.tolist()))
    got = scores[(scores.run_id == run_id) & (scores.target == "d1")]
    for metric, value in zip(got.metric, got.value, strict=True):
        assert value == pytest.approx(expected.metrics[metric], abs=1e-5), metric
    assert board("--store", str(predicted_store), "--metric", "mcc").exit_code == 0


def test_plots_include_a_reliability_diagram_per_cell(predicted_store, tmp_path):
    out = tmp_path / "plots"
    result = board("--store", str(predicted_store), "--plots", str(out), "--models", "weak",
                   "--sources", "d1", "--targets", "d2", "--cross")
    assert result.exit_code == 0, result.output
    (diagram,) = out.glob("*/reliability/weak--d1--d2.png")
    assert diagram.stat().st_size > 1000


def test_intervals_on_a_published_board_are_refused(no_plugins):
    result = board("--reference", "zedda2024", "--ci")
    assert result.exit_code == 1 and "need the results store" in result.output


def test_ci_without_stored_predictions_says_why(store_path):
    result = board("--store", str(store_path), "--ci")
    assert result.exit_code == 1
    assert "none of the runs on this board has stored test predictions" in result.output


def test_a_summary_by_a_lower_is_better_metric_is_refused_and_ece_ranks_downwards(
    predicted_store,
):
    result = board("--store", str(predicted_store), "--metric", "ece", "--summary")
    assert result.exit_code == 1 and "Give --summary another metric" in result.output
    data = json.loads(board("--store", str(predicted_store), "--metric", "ece", "--cross",
                            "--json").output)
    cells = [(row["cells"]["d1/ece"]["value"], row["cells"]["d1/ece"]["mark"])
             for row in data[0]["tables"][0]["rows"]
             if row["source"] != "d1" and row["cells"]["d1/ece"]]
    assert min(cells)[1] == "best" and max(cells)[1] != "best"
