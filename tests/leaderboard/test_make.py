"""One entry point from results to boards: the CLI, the demo and a notebook get the same board."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench
from bench.leaderboard import BoardRequest, from_store, make_boards, publish_checked


def test_a_notebook_gets_the_clis_board_in_one_call(store_path: Path) -> None:
    cli_text = invoke("leaderboard", "--cross", "--store", str(store_path),
                      "--format", "md", "--date", "2026-01-01").output
    board_set = from_store(store_path, cross=True, date="2026-01-01")
    assert board_set.render("md") == cli_text
    assert board_set.groups and all(board.tables for board in board_set.boards)


def test_publishing_and_plots_come_from_the_same_board_set(store_path: Path,
                                                           tmp_path: Path) -> None:
    board_set = make_boards(BoardRequest(metrics=["f1"], date="2026-01-01"),
                            store=bench.open_store(store_path))
    # The fixture's protocols are not built in: unofficial.
    publication = publish_checked(board_set, tmp_path / "boards", unofficial=True)
    assert {path.suffix for path in publication.written} >= {".md", ".csv", ".gz"}
    assert board_set.plot_jobs(tmp_path / "plots")  # heat maps per group at least


def test_protocol_filter_and_reference_board_exclude_each_other() -> None:
    with pytest.raises(bench.DataError, match="--protocol filters the results store"):
        BoardRequest(reference="zedda2024", protocol="quick")
