"""Heat maps and confusion matrices are written as PNG and SVG from real matplotlib figures."""

from __future__ import annotations

import pytest

import bench
import bench.leaderboard as lb
from bench.leaderboard.plots import confusion_jobs, draw, heatmap_jobs, heatmap_matrix


def test_heatmap_matrix_averages_seeds_then_models_and_keeps_gaps(scores, names):
    (group,) = lb.store_groups(scores, names, protocol="quick")
    sources, targets, matrix = heatmap_matrix(group, "f1", names)
    assert sources == ["d1", "d2"] and targets == ["d1", "d2"]
    assert matrix[0][1] == pytest.approx((60.5 + 64.5 + 50.0) / 3)
    assert matrix[1][0] == pytest.approx((55.2 + 54.8 + 56.1) / 3)  # alpha only
    _, _, beta = heatmap_matrix(group, "f1", names, ["beta"])
    assert beta == [[pytest.approx(90.0), pytest.approx(64.5)]]  # beta never trained on d2


def test_plots_are_written_as_png_and_svg(scores, names, store_path, tmp_path):
    (group,) = lb.store_groups(scores, names, protocol="quick", models=["gamma"])
    store = bench.open_store(store_path)
    jobs = heatmap_jobs(group, names, tmp_path) + confusion_jobs(group, names, tmp_path, store)
    # gamma's heat map and the mean; gamma's runs: d1 tested on d1 and d2, d2 tested on d2.
    assert len(jobs) == 2 + 3
    written = [path for job in jobs for path in draw(job)]
    assert len(written) == 10
    for path in written:
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if path.suffix == ".png" else b"<svg" in head
    names_written = sorted(p.name for p in written if p.suffix == ".png")
    assert names_written == [
        "gamma--d1--seed0--d1.png", "gamma--d1--seed0--d2.png", "gamma--d2--seed0--d2.png",
        "heatmap-gamma.png", "heatmap-mean.png",
    ]
    assert (tmp_path / group.slug / "confusion" / "gamma--d1--seed0--d1.svg").is_file()
