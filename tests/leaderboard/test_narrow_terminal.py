"""A leaderboard on a narrow terminal: split between data sets, never squeezed to nothing."""

from __future__ import annotations

import re

import pytest
from fixtures.cli import invoke
from rich.console import Console

import bench.cli.leaderboard as leaderboard_cli
from bench.leaderboard.reference import reference_rows


@pytest.mark.parametrize("width", [80, 160])
def test_the_published_board_fits_the_terminal_with_every_figure(width, monkeypatch):
    monkeypatch.setattr(leaderboard_cli, "console",
                        Console(force_terminal=True, width=width, color_system=None))
    result = invoke("leaderboard", "--reference", "zedda2024")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if line.startswith("│")]  # table bodies, not the header
    shown = re.findall(r"\d+\.\d", "\n".join(rows))
    published = [f"{value:.1f}" for row in reference_rows("zedda2024", "same")
                 for value in row.values.values()]
    assert sorted(shown) == sorted(published)  # every figure once, none cut
    parts = re.findall(r"Same data set: .*\((\d) of (\d)\)", result.stdout)
    assert len(parts) > 1  # the paper's 24 score columns fit neither width in one table
    assert result.stdout.count("┃ Model") == len(parts)  # each part repeats the label column
