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


def test_heat_maps_box_the_same_data_set_cells_and_fit_the_colours_to_the_scores(scores, names,
                                                                                 tmp_path):
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    (group,) = lb.store_groups(scores, names, protocol="quick", models=["gamma"])
    job = next(job for job in heatmap_jobs(group, names, tmp_path)
               if job.stem.name == "heatmap-gamma")
    figure = Figure()
    job.draw(figure)
    axes = figure.axes[0]
    boxes = [patch for patch in axes.patches
             if isinstance(patch, Rectangle) and patch.get_gid() == "same-dataset"]
    assert sorted(box.get_xy() for box in boxes) == [(-0.5, -0.5), (0.5, 0.5)]  # d1-d1, d2-d2
    _, _, matrix = heatmap_matrix(group, "f1", names, ["gamma"])
    shown = [value for row in matrix for value in row if value is not None]
    norm = axes.images[0].norm
    assert norm.vmin <= min(shown) and max(shown) <= norm.vmax
    assert norm.vmax - norm.vmin >= 10 and (norm.vmin, norm.vmax) != (0, 100)
    fixed = next(job for job in heatmap_jobs(group, names, tmp_path, scale="0-100")
                 if job.stem.name == "heatmap-gamma")
    figure = Figure()
    fixed.draw(figure)
    assert (figure.axes[0].images[0].norm.vmin, figure.axes[0].images[0].norm.vmax) == (0, 100)


def test_the_colour_range_tells_90_from_92_without_a_gap_spanning_the_map():
    from matplotlib.colors import Normalize

    from bench.leaderboard.plots import colour_range

    norm = Normalize(*colour_range([90.0, 92.0, 91.3]))
    assert norm(92.0) - norm(90.0) == pytest.approx(0.2)  # two points of a ten-point scale
    assert colour_range([95.0, 96.0]) == (90.0, 100.0)  # kept within 0-100
    assert colour_range([2.1, 3.4]) == (0.0, 10.0)  # an error rate (ECE) near 0
    assert colour_range([40.2, 95.0]) == (40.0, 95.0)  # a wide board keeps its own range
    assert colour_range([90.0, 92.0], "0-100") == (0.0, 100.0)


def test_reliability_bars_show_their_counts_and_a_full_bar_is_not_cut():
    import numpy as np
    from matplotlib.figure import Figure

    from bench.leaderboard.reliability import _draw

    confidence = np.array([0.99] * 40 + [0.55] * 7 + [0.31] * 3)
    correct = np.array([True] * 40 + [True] * 4 + [False] * 3 + [True, False, False])
    figure = Figure()
    _draw(figure, confidence, correct, "a model")
    axes = figure.axes[0]
    counts = sorted(int(text.get_text()) for text in axes.texts if text.get_gid() == "bin-count")
    assert counts == [3, 7, 40]
    assert axes.get_ylim()[1] > 1.0 and axes.get_xlim()[1] > 1.0  # the bar at 1.0 keeps its edge
