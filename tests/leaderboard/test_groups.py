"""Scores under different protocols or splits are never put in one table."""

from __future__ import annotations

import pytest
from leaderboard_fixtures import PROTOCOL_HASHES, Result, write_results

import bench
import bench.leaderboard as lb


def test_each_protocol_hash_gets_its_own_board_with_its_header(scores, names):
    groups = lb.store_groups(scores, names)
    assert [g.protocol for g in groups] == ["quick", "zedda2024"]
    assert [g.protocol_hash for g in groups] == [PROTOCOL_HASHES["quick"],
                                                 PROTOCOL_HASHES["zedda2024"]]
    boards = lb.build_boards(groups, names, metrics=["f1"], date="2025-01-01", version="0")
    text = lb.render(boards, "md")
    for group in groups:
        assert f"- Protocol: {group.protocol}, hash `{group.protocol_hash}`" in text
    # alpha's single zedda2024 run (95.0) is not averaged into its quick runs.
    assert "| alpha | 95.0 |"  # alone on its board: nothing to be best among in text


def test_a_data_set_with_two_split_fingerprints_splits_the_board(tmp_path, no_plugins, names):
    store = bench.open_store(tmp_path / "r.sqlite")
    old = {"d1": "f1aaaa", "d2": "f2bbbb"}
    new = {"d1": "f1aaaa", "d2": "f2cccc"}
    write_results(store, [
        Result("alpha", "d1", 0, {"d1": 0.9, "d2": 0.6}, fingerprints=old),
        Result("beta", "d1", 0, {"d1": 0.8, "d2": 0.7}, fingerprints=new),
        Result("beta", "d2", 0, {"d2": 0.85}, fingerprints=new),
    ])
    groups = lb.store_groups(store.scores(), names)
    assert len(groups) == 2
    for group in groups:
        fingerprints = dict(group.fingerprints)
        assert fingerprints["d1"] == "f1aaaa"
        frame = group.cross
        d2_prints = {*frame.loc[frame["target"] == "d2", "target_fingerprint"],
                     *frame.loc[frame["source"] == "d2", "source_fingerprint"]}
        assert d2_prints == {fingerprints["d2"]}  # one split of d2 per board
    assert len({g.slug for g in groups}) == 2
    # d1 -> d1 results do not depend on d2's split: both boards show them.
    for group in groups:
        assert set(group.same.loc[group.same["target"] == "d1", "model"]) == {"alpha", "beta"}


def test_a_run_tested_on_another_split_of_its_own_data_set_is_left_out_and_said(
    tmp_path, no_plugins, names
):
    store = bench.open_store(tmp_path / "r.sqlite")
    write_results(store, [
        Result("alpha", "d1", 0, {"d1": 0.9}, fingerprints={"d1": "f1aaaa"}),
    ])
    cell = bench.Cell("beta", "d1", 0, "quick", PROTOCOL_HASHES["quick"], "old-split")
    run_id = store.claim(cell)
    store.finish(run_id, [bench.Evaluation("d1", "f1aaaa", {"f1": 0.99}, ["L"], {"L": 1},
                                           [[1]])])
    (group,) = lb.store_groups(store.scores(), names)
    assert set(group.same["model"]) == {"alpha"}
    assert "trained and tested on different splits of d1" in group.notes[0]


def test_filters_accept_aliases_and_spellings_and_reject_unknown_names(scores, names):
    frame = lb.select(scores, names, models=["ALPHA"], sources=["d1"])
    assert set(frame["model"]) == {"alpha"} and set(frame["source"]) == {"d1"}
    with pytest.raises(bench.UnknownNameError) as caught:
        lb.select(scores, names, models=["alpah"])
    assert "Did you mean: alpha" in str(caught.value)


def test_protocol_filter_by_name_hash_and_unknown(scores, names):
    digest = PROTOCOL_HASHES["zedda2024"]
    assert set(lb.select(scores, names, protocol=digest[:6])["protocol"]) == {"zedda2024"}
    known = "Known protocols: cpu-small, knn, linear-probe, quick, zedda2024"
    with pytest.raises(bench.UnknownNameError, match=known):
        lb.select(scores, names, protocol="quik")
    only_quick = scores[scores["protocol"] == "quick"]
    with pytest.raises(bench.DataError, match="bench run --protocol zedda2024"):
        lb.select(only_quick, names, protocol="zedda2024")
