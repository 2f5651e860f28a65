"""`bench demo`: generate, train, test and render, end to end on tiny settings."""

from __future__ import annotations

from fixtures.cli import invoke

import bench


def test_demo_trains_on_the_complex_level_and_tests_on_both(bench_home, tmp_path):
    out = tmp_path / "demo"
    result = invoke("demo", "--train", "60", "--test", "20", "--epochs", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    board = (out / "leaderboard.md").read_text()
    assert "| resnet18 | demo-c |" in board  # timm:resnet18, labelled by its timm name
    assert "demo-b F1" in board and "demo-c F1" in board
    assert list(out.glob("*/heatmap-*.png"))
    scores = bench.open_store().scores()
    assert set(scores.target) == {"demo-b", "demo-c"}
    assert set(scores.source) == {"demo-c"}
    again = invoke("demo", "--train", "60", "--test", "20", "--epochs", "1", "--out", str(out))
    assert again.exit_code == 0 and "already finished" in again.output
