"""Generalisation summary (drop per source, mean rank per model) and --compare with the paper."""

from __future__ import annotations

import pytest
from leaderboard_fixtures import FIXED_DATE, FIXED_VERSION, Result, write_results

import bench
import bench.leaderboard as lb


def quick(scores, names):
    return lb.store_groups(scores, names, protocol="quick")[0]


def values(table, column_key):
    column = next(c for c in table.columns if c.key == column_key)
    return {row.labels[0]: row.value(column).mean for row in table.rows}


def test_drop_per_source_is_the_mean_over_models_of_baseline_minus_other_targets(scores, names):
    table = lb.drop_table(quick(scores, names).cross, "f1", names)
    # d1: alpha 90.7 - 60.5, beta 90.0 - 64.5, gamma 90.7 - 50.0 (seeds averaged first).
    expected_d1 = ((90.7 - 60.5) + (90.0 - 64.5) + (90.7 - 50.0)) / 3
    assert values(table, "drop")["d1"] == pytest.approx(expected_d1)
    # d2: only alpha has both its baseline and another target (gamma never tested on d1).
    assert values(table, "drop")["d2"] == pytest.approx(87.5 - (55.2 + 54.8 + 56.1) / 3)
    assert values(table, "models") == {"d1": 3.0, "d2": 1.0}


def test_mean_rank_uses_average_ranks_for_ties(scores, names):
    group = quick(scores, names)
    table = lb.rank_table(group.same, group.cross, "f1", names)
    # Same data set: d1 alpha = gamma = 90.7 (ranks 1.5 each), beta 3; d2 alpha = gamma (1.5).
    assert values(table, "same_rank") == {"alpha": 1.5, "beta": 3.0, "gamma": 1.5}
    # Cross: d1 -> d2: beta 64.5 (1), alpha 60.5 (2), gamma 50.0 (3); d2 -> d1: alpha (1).
    assert values(table, "cross_rank") == {"alpha": 1.5, "beta": 1.0, "gamma": 3.0}
    assert [row.labels[0] for row in table.rows] == ["beta", "alpha", "gamma"]


def test_compare_puts_ours_beside_the_paper_with_the_difference(tmp_path, no_plugins, names):
    store = bench.open_store(tmp_path / "r.sqlite")
    both = {"wbc-usid-b": "fb", "wbc-usid-c": "fc"}
    write_results(store, [
        Result("vgg19", "wbc-usid-b", 0, {"wbc-usid-b": 0.950, "wbc-usid-c": 0.700},
               fingerprints=both),
        Result("vgg19", "wbc-usid-b", 1, {"wbc-usid-b": 0.960, "wbc-usid-c": 0.720},
               fingerprints=both),
    ])
    (ours,) = lb.store_groups(store.scores(), names)
    paper = lb.reference_group("zedda2024", names)
    same = lb.compare_table(ours, paper, layout="same", metric="f1", names=names,
                            paper_name="zedda2024")
    row = same.rows[0]
    assert row.cells["wbc-usid-b/ours"].mean == pytest.approx(95.5)
    assert row.cells["wbc-usid-b/paper"].mean == pytest.approx(96.1)  # VGG-19 in Table 2
    assert row.cells["wbc-usid-b/delta"].mean == pytest.approx(-0.6)
    assert "wbc-usid-c/ours" not in row.cells  # never trained on C: no same-data-set cell
    cross = lb.compare_table(ours, paper, layout="cross", metric="f1", names=names,
                             paper_name="zedda2024")
    b_to_c = cross.rows[0].cells["wbc-usid-c/delta"].mean
    assert b_to_c == pytest.approx(71.0 - 76.1)  # Table 3: VGG-19 WBC-USID-B -> C
    board = lb.build_board(ours, names, layouts=("same",), metrics=["f1"], compare=paper,
                           date=FIXED_DATE, version=FIXED_VERSION)
    text = lb.render([board], "md")
    assert "| vgg19 | 95.5 ± 0.7 | 96.1 | -0.6 |" in text
    assert "Δ = ours − zedda2024" in text
