"""Reliability diagrams: accuracy against confidence in 15 bins, from stored probabilities.

One diagram per (model, source, target), pooling the test predictions of its seeds; the bars
are the accuracy of each confidence bin, with its number of images above it, the diagonal is
perfect calibration, and the title carries the expected calibration error the store keeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import slugify
from bench.leaderboard.model import ScoreGroup
from bench.leaderboard.plots import PlotJob
from bench.metrics import ECE_BINS, confidence_bins, expected_calibration_error

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.store import ResultsStore


def reliability_curve(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin: image count, mean confidence and accuracy (NaN where a bin is empty)."""
    index = confidence_bins(confidence, bins)
    counts = np.bincount(index, minlength=bins).astype(float)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(index, weights=correct.astype(float), minlength=bins) / counts
    return counts, mean_confidence, accuracy


def _draw(figure: Figure, confidence: np.ndarray, correct: np.ndarray, heading: str) -> None:
    counts, mean_confidence, accuracy = reliability_curve(confidence, correct)
    edges = np.linspace(0, 1, ECE_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    filled = counts > 0
    axes = figure.add_subplot()
    axes.bar(centres[filled], accuracy[filled], width=1 / ECE_BINS, edgecolor="#1f4e79",
             color="#6fa8dc", label="bin accuracy")
    # The gap ECE sums: between each bin's accuracy and its mean confidence, either way.
    axes.bar(centres[filled], np.abs(mean_confidence - accuracy)[filled],
             bottom=np.minimum(mean_confidence, accuracy)[filled], width=1 / ECE_BINS,
             facecolor="none", edgecolor="#cc0000", hatch="///", linewidth=0.5,
             label="gap to mean confidence")
    axes.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1,
              label="perfect calibration")
    for centre, height, count in zip(centres[filled], accuracy[filled], counts[filled],
                                     strict=True):  # how much each bar stands on
        axes.text(centre, height + 0.015, f"{int(count):,}", ha="center", va="bottom",
                  rotation=90, fontsize=6, color="#1f4e79", gid="bin-count")
    # Room above 1.0 for a full bar's edge and its count: nothing is cut at the frame.
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(0, 1.15)
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.set_xlabel("Confidence (top-class probability)")
    axes.set_ylabel("Accuracy")
    ece = expected_calibration_error(confidence, correct)
    axes.set_title(f"{heading}\nECE {100 * ece:.1f} % ({len(confidence)} images)", fontsize=9)
    axes.legend(loc="upper left", fontsize=7)


def reliability_jobs(
    group: ScoreGroup, names: Names, out_dir: Path, store: ResultsStore
) -> list[PlotJob]:
    """Plan a reliability diagram per (model, source, target) with stored predictions."""
    from bench.leaderboard.intervals import split_predictions

    folder = Path(out_dir) / group.slug / "reliability"
    runs = group.cross[["run_id", "model", "source", "target"]].drop_duplicates()
    predictions = split_predictions(store.prediction_arrays(sorted(set(runs["run_id"]))))
    jobs = []
    for (model, source, target), rows in runs.groupby(["model", "source", "target"], sort=True):
        found = [predictions[(r, target)] for r in rows["run_id"] if (r, target) in predictions]
        if not found:
            continue
        confidence = np.concatenate(
            [p.probabilities[np.arange(len(p.labels)), p.predicted] for p in found]
        )
        correct = np.concatenate([p.predicted == p.labels for p in found])
        heading = (f"{names.label('model', model)} trained on {names.label('dataset', source)}"
                   f", tested on {names.label('dataset', target)}")
        if len(found) > 1:
            heading += f" ({len(found)} seeds pooled)"

        def draw(figure: Figure, confidence: np.ndarray = confidence,
                 correct: np.ndarray = correct, heading: str = heading) -> None:
            _draw(figure, confidence, correct, heading)

        stem = folder / "--".join([slugify(model), slugify(source), slugify(target)])
        jobs.append(PlotJob(stem, (4.6, 4.2), draw))
    return jobs
