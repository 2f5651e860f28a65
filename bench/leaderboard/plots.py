"""Figures: SOURCE x TARGET heat maps of a metric, per model and averaged, and confusion matrices.

Plotting is planned first (a list of jobs, cheap) and drawn second, so the command can show
progress over the drawing. Figures are built on matplotlib's Agg canvas directly, never through
pyplot, so nothing global changes in the process that calls this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import slugify
from bench.leaderboard.model import ScoreGroup
from bench.leaderboard.tables import aggregate
from bench.metrics import DEFAULT_METRIC, title

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.store import ResultsStore

FORMATS = ("png", "svg")
Matrix = list[list[float | None]]


@dataclass(frozen=True)
class PlotJob:
    stem: Path  # written as stem.png and stem.svg
    size: tuple[float, float]
    draw: Callable[[Figure], None]


def heatmap_matrix(
    group: ScoreGroup, metric: str, names: Names, models: Sequence[str] | None = None
) -> tuple[list[str], list[str], Matrix]:
    """Return sources, targets and the mean score in %, averaged over ``models`` if several.

    Each model's seeds are averaged first, then the models present in a cell are averaged.
    """
    frame = group.cross[group.cross["metric"] == metric]
    if models is not None:
        frame = frame[frame["model"].isin(models)]
    per_cell: dict[tuple[str, str], list[float]] = {}
    for (_model, source, target, _metric), value in aggregate(frame).items():
        if value.mean is not None:
            per_cell.setdefault((source, target), []).append(value.mean)
    sources = names.order("dataset", {source for source, _ in per_cell})
    targets = names.order("dataset", {target for _, target in per_cell})
    matrix: Matrix = [
        [
            sum(values) / len(values) if (values := per_cell.get((s, t))) else None
            for t in targets
        ]
        for s in sources
    ]
    return sources, targets, matrix


SCALES = ("auto", "0-100")  # the heat maps' colour scale: fitted to the board, or fixed
MIN_SPAN = 10.0  # points: the narrowest an automatic scale gets


def colour_range(values: Sequence[float], scale: str = "auto") -> tuple[float, float]:
    """The colour scale's ends: ``0-100``, or the data's range in whole points, at least 10.

    Scores of one board usually lie within a few points of each other: on a fixed 0-100 scale
    90 and 92 get the same colour, and on the data's own range a 1-point gap spans the whole
    map. Ten points or more, centred on the data and kept within 0-100, shows both.
    """
    import math

    if scale == "0-100":
        return 0.0, 100.0
    low, high = math.floor(min(values)), math.ceil(max(values))
    if high - low >= MIN_SPAN:
        return float(low), float(high)
    middle = (low + high) / 2
    low, high = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
    shift = max(0.0, -low) - max(0.0, high - 100.0)  # slide back inside 0-100
    return low + shift, high + shift


def _draw_heatmap(
    figure: Figure, matrix: Matrix, rows: Sequence[str], columns: Sequence[str],
    heading: str, scale_label: str, same: Sequence[tuple[int, int]] = (), scale: str = "auto",
) -> None:
    import matplotlib
    import numpy as np
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    colours = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")
    finite = data[np.isfinite(data)]
    norm = Normalize(*colour_range(finite.tolist(), scale)) if finite.size else \
        Normalize(0, 100)
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(data), cmap=colours, norm=norm)
    axes.set_xticks(range(len(columns)), labels=columns, rotation=35, ha="right")
    axes.set_yticks(range(len(rows)), labels=rows)
    axes.set_xlabel("Target (tested on)" + ("; boxed: the source's own data set" if same else ""))
    axes.set_ylabel("Source (trained on)")
    axes.set_title(heading, fontsize=10)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            value = data[i, j]
            text = "–" if np.isnan(value) else f"{value:.1f}"
            colour = "black" if np.isnan(value) or norm(value) > 0.6 else "white"
            axes.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    for i, j in same:  # tested where it was trained: not a cross-data-set score
        axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#d62728",
                                 linewidth=2.5, gid="same-dataset"))
    figure.colorbar(image, ax=axes, label=scale_label)


def _draw_confusion(
    figure: Figure, confusion: list[list[int]], labels: Sequence[str], heading: str
) -> None:
    import numpy as np

    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    recall = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    axes = figure.add_subplot()
    image = axes.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels=labels)
    axes.set_yticks(range(len(labels)), labels=labels)
    axes.set_xlabel("Predicted")
    axes.set_ylabel("True")
    axes.set_title(heading, fontsize=9)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            colour = "white" if recall[i, j] > 0.5 else "black"
            axes.text(j, i, str(int(counts[i, j])), ha="center", va="center", color=colour,
                      fontsize=8)
    figure.colorbar(image, ax=axes, label="fraction of the true class")


def heatmap_jobs(
    group: ScoreGroup, names: Names, out_dir: Path, metric: str = DEFAULT_METRIC,
    scale: str = "auto",
) -> list[PlotJob]:
    """Plan a heat map per model, and one averaged over the models (``scale``: SCALES)."""
    folder = Path(out_dir) / group.slug
    models = names.order("model", group.cross["model"].unique())
    jobs = []
    where = f"{group.protocol} ({group.protocol_hash})"
    for model in [*models, None]:
        sources, targets, matrix = heatmap_matrix(
            group, metric, names, None if model is None else [model]
        )
        if not matrix:
            continue
        label = "mean over models" if model is None else names.label("model", model)
        stem = folder / ("heatmap-mean" if model is None else f"heatmap-{slugify(model)}")

        def draw(figure: Figure, matrix: Matrix = matrix, sources: list[str] = sources,
                 targets: list[str] = targets, label: str = label) -> None:
            _draw_heatmap(
                figure, matrix,
                [names.label("dataset", s) for s in sources],
                [names.label("dataset", t) for t in targets],
                f"{title(metric)}, {label}\n{where}", f"{title(metric)} (%)",
                [(i, j) for i, s in enumerate(sources) for j, t in enumerate(targets) if s == t],
                scale,
            )

        side = 1.2 + 0.75 * max(len(sources), len(targets))
        jobs.append(PlotJob(stem, (side + 1.5, side), draw))
    return jobs


def confusion_jobs(
    group: ScoreGroup, names: Names, out_dir: Path, store: ResultsStore
) -> list[PlotJob]:
    """Plan a confusion matrix per run and target, from the counts the store keeps."""
    folder = Path(out_dir) / group.slug / "confusion"
    frame = group.cross
    targets = set(frame["target"])
    runs = frame[["run_id", "model", "source", "seed"]].drop_duplicates("run_id")
    jobs = []
    for run_id, model, source, seed in sorted(runs.itertuples(index=False),
                                              key=lambda r: (r[1], r[2], r[3])):
        for evaluation in store.evaluations(run_id):
            if evaluation["target"] not in targets:
                continue
            target = evaluation["target"]
            heading = (
                f"{names.label('model', model)} trained on {names.label('dataset', source)} "
                f"(seed {seed})\ntested on {names.label('dataset', target)}"
            )
            stem = folder / "--".join(
                [slugify(model), slugify(source), f"seed{seed}", slugify(target)]
            )

            def draw(figure: Figure, evaluation: dict[str, Any] = evaluation,
                     heading: str = heading) -> None:
                _draw_confusion(figure, evaluation["confusion"], evaluation["labels"], heading)

            side = 2.5 + 0.5 * len(evaluation["labels"])
            jobs.append(PlotJob(stem, (side + 1.2, side), draw))
    return jobs


def draw(job: PlotJob) -> list[Path]:
    """Draw one job on an Agg canvas and write it as PNG and SVG."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=job.size, layout="constrained")
    FigureCanvasAgg(figure)
    job.draw(figure)
    job.stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    # A fixed salt and no date keep SVG output identical from one run to the next.
    with matplotlib.rc_context({"svg.hashsalt": "bench", "svg.fonttype": "path"}):
        for fmt in FORMATS:
            path = job.stem.with_suffix(f".{fmt}")
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(path, format=fmt, dpi=150, metadata=metadata)
            written.append(path)
    return written
