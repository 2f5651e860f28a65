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
    assert norm.vmin <= min(shown) < norm.vmin + 1 and norm.vmax - 1 < max(shown) <= norm.vmax
    assert (norm.vmin, norm.vmax) != (0, 100)


def test_the_colour_range_tells_90_from_92():
    from matplotlib.colors import Normalize

    from bench.leaderboard.plots import colour_range

    norm = Normalize(*colour_range([90.0, 92.0, 91.3]))
    assert norm(92.0) - norm(90.0) == pytest.approx(1.0)
    assert colour_range([95.0, 95.0]) == (94.5, 95.5)
