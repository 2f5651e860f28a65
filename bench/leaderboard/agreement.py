"""Do two boards rank the models alike? Kendall's τ between data sets, with a bootstrap interval.

The paper's claim for synthetic data is that a model's rank on it predicts its rank on real
data. For each pair of data sets (same-data-set layout: the models trained and tested on each)
or of targets (cross layout: every model x source row, the rows trained on either target left
out), τ-b compares the two columns' orders over the rows both have (1: the same order, 0:
unrelated, -1: reversed). A second table gives, per data set, the mean τ with the real data
sets (those no registry marks synthetic), the question the paper asks of synthetic data.

The interval says how far τ could move with other test images or other models:

- with stored test predictions for every cell of a pair, each resample takes each cell's
  replicate from the board's own bootstrap (test images resampled per target; with several
  seeds, the seeds' variation added as the intervals add it) and ranks again;
- otherwise (published figures, or scores without predictions), the rows are resampled:
  τ over a bootstrap sample of the models, which is what the choice of models could change.

All pairs share the draws, so a mean of τ over pairs has an interval too.
Seeded by the names involved: a board rebuilds to the same intervals.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from bench.errors import DataError
from bench.leaderboard.intervals import stable_seed
from bench.leaderboard.model import Board, Column, Row, Table, Value
from bench.leaderboard.tables import cells_of
from bench.metrics import title

if TYPE_CHECKING:
    from bench.leaderboard.display_names import Names
    from bench.leaderboard.intervals import Bootstrap
    from bench.leaderboard.model import ScoreGroup

Layout = Literal["same", "cross"]
Resampled = Literal["images", "models"]
MIN_ROWS = 3  # fewer rows in common: no τ worth showing
RESAMPLED = {
    "images": "the test images of each target (and the seeds' variation where a cell has "
              "several), from the stored predictions",
    "models": "the models (drawn with replacement, each with all its rows), as published "
              "figures or scores without predictions allow",
}


def kendall_tau_b(x: np.ndarray, y: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Kendall's τ-b of ``x`` and ``y`` along the last axis, vectorised over the leading axes.

    τ-b = Σ sign(x_i - x_j) sign(y_i - y_j) / sqrt(pairs untied in x · pairs untied in y), over
    i < j: scipy's ``kendalltau`` (variant b). ``counts`` (same shape as x, or broadcast) repeat
    rows, as a bootstrap sample does: a pair of rows counts c_i·c_j times, and the copies of a
    row, tied with each other in both, count in neither sum. NaN where one side is all ties.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    first, second = np.triu_indices(x.shape[-1], k=1)
    sx = np.sign(x[..., first] - x[..., second])
    sy = np.sign(y[..., first] - y[..., second])
    weight = 1.0 if counts is None else counts[..., first] * counts[..., second]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (weight * sx * sy).sum(axis=-1) / np.sqrt(
            (weight * sx**2).sum(axis=-1) * (weight * sy**2).sum(axis=-1))


@dataclass(frozen=True)
class Agreement:
    """τ between the rankings of two columns over the rows both have, and its replicates."""

    first: str  # data set (or target)
    second: str
    tau: float
    replicates: np.ndarray  # τ per resample (NaN where a resample ties every row)
    rows: int
    resampled: Resampled


def percentile(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """The percentile interval of the finite values; None where there are none."""
    values = values[np.isfinite(values)]
    if not len(values):
        return None, None
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _columns(group: ScoreGroup, layout: Layout, metric: str
             ) -> dict[str, dict[tuple[str, ...], tuple[float, tuple[str, str, str]]]]:
    """Per data set (target): row key -> (value in percent, the cell it comes from)."""
    frame = group.same if layout == "same" else group.cross
    out: dict[str, dict[tuple[str, ...], tuple[float, tuple[str, str, str]]]] = {}
    for (model, source, target, measured), value in cells_of(frame).items():
        if measured != metric or value.mean is None or (layout == "same") != (source == target):
            continue
        row = (model,) if layout == "same" else (model, source)
        out.setdefault(target, {})[row] = (value.mean, (model, source, target))
    return out


def agreements(
    group: ScoreGroup, names: Names, *, layout: Layout, metric: str,
    bootstrap: Bootstrap | None = None, resamples: int = 1000, seed: int = 0,
) -> list[Agreement]:
    """τ for every pair of data sets (or targets) with at least ``MIN_ROWS`` rows in common.

    Without predictions every pair uses the same draws of the models (each drawn model brings
    all its rows), so pairs can be averaged resample by resample.
    """
    columns = _columns(group, layout, metric)
    models = sorted({row[0] for rows in columns.values() for row in rows})
    rng = np.random.default_rng(stable_seed(seed, "agreement", layout, metric, *models))
    drawn = rng.integers(0, len(models), size=(resamples, len(models)))
    model_counts = np.stack([np.bincount(row, minlength=len(models)) for row in drawn])
    position = {model: i for i, model in enumerate(models)}
    found = []
    for first, second in itertools.combinations(names.order("dataset", columns), 2):
        rows = sorted(set(columns[first]) & set(columns[second]))
        if layout == "cross":  # a row trained on one of the two is that column's baseline
            rows = [row for row in rows if row[1] not in (first, second)]
        if len(rows) < MIN_ROWS:
            continue
        x, y = (np.array([columns[d][row][0] for row in rows]) for d in (first, second))
        draws = None
        if bootstrap is not None:
            draws = [bootstrap.get(columns[d][row][1], metric)
                     for d in (first, second) for row in rows]
        if draws is not None and all(d is not None for d in draws):
            stacked = np.stack(draws, axis=1)  # type: ignore[arg-type]
            taus = kendall_tau_b(stacked[:, : len(rows)], stacked[:, len(rows):])
            resampled: Resampled = "images"
        else:
            counts = model_counts[:, [position[row[0]] for row in rows]]
            taus, resampled = kendall_tau_b(x, y, counts), "models"
        found.append(Agreement(first, second, float(kendall_tau_b(x, y)), taus, len(rows),
                               resampled))
    return found


def _value(tau: float, replicates: np.ndarray, level: float) -> Value:
    low, high = percentile(replicates, level)
    return Value(tau if np.isfinite(tau) else None, ci_low=low, ci_high=high)


def pairs_table(found: Sequence[Agreement], names: Names, *, layout: Layout, metric: str,
                resamples: int, level: float) -> Table:
    """A row per pair of data sets: τ [low, high] and the number of rows ranked."""
    columns = (
        Column(key="tau", label="Kendall's τ", metric=metric, kind="correlation", better=None),
        Column(key="rows", label="Models" if layout == "same" else "Model x source rows",
               kind="count", better=None),
    )
    rows = tuple(
        Row(key=(a.first, a.second),
            labels=(names.label("dataset", a.first), names.label("dataset", a.second)),
            cells={"tau": _value(a.tau, a.replicates, level), "rows": Value(float(a.rows))})
        for a in found
    )
    where = ("trained and tested on each data set" if layout == "same" else
             "every model x source row tested on both targets, rows trained on either left out")
    how = sorted({a.resampled for a in found})
    notes = [
        f"Kendall's τ-b between the rankings of the models ({where}) by {title(metric)}: 1 the "
        "same order, 0 unrelated, -1 reversed.",
        f"[low, high]: {level * 100:g} % percentile bootstrap over "
        + " or ".join(RESAMPLED[h] for h in how) + f"; {resamples:,} resamples.",
    ]
    if len(how) > 1:
        notes.append("Pairs where some cell lacks stored predictions resample the models.")
    return Table(
        name=f"agreement-{layout}-{metric}",
        title=f"Rank agreement between {'data sets' if layout == 'same' else 'targets'} "
              f"({title(metric)})",
        index=("Data set", "Data set") if layout == "same" else ("Target", "Target"),
        index_keys=("first", "second"),
        columns=columns,
        rows=rows,
        notes=tuple(notes),
    )


def with_real_table(found: Sequence[Agreement], names: Names, *, layout: Layout, metric: str,
                    level: float) -> Table | None:
    """Per data set: the mean τ with the real data sets other than itself.

    Only over pairs resampled alike (all by images, or all by the same draws of the models),
    so the interval of the mean is the percentile interval of the mean of paired replicates.
    None when the registries mark no data set of the board synthetic, or all of them.
    """
    datasets = names.order("dataset", {d for a in found for d in (a.first, a.second)})
    real = [d for d in datasets if names.synthetic(d) is False]
    if not real or len(real) == len(datasets):
        return None
    by_pair = {frozenset((a.first, a.second)): a for a in found}
    rows = []
    for dataset in datasets:
        pairs = [by_pair.get(frozenset((dataset, other))) for other in real if other != dataset]
        pairs = [a for a in pairs if a is not None]
        if not pairs or len({a.resampled for a in pairs}) > 1:
            continue
        taus = np.array([a.tau for a in pairs])
        replicates = np.nanmean(np.stack([a.replicates for a in pairs]), axis=0)
        kind = "real" if dataset in real else "synthetic"
        rows.append(Row(
            key=(dataset, kind), labels=(names.label("dataset", dataset), kind),
            cells={"tau": _value(float(taus.mean()), replicates, level),
                   "pairs": Value(float(len(pairs)))},
        ))
    if not rows:
        return None
    return Table(
        name=f"agreement-with-real-{layout}-{metric}",
        title=f"Mean rank agreement with the real data sets ({title(metric)})",
        index=("Data set", "Kind"),
        index_keys=("dataset", "kind"),
        columns=(
            Column(key="tau", label="Mean τ with the real data sets", metric=metric,
                   kind="correlation", better=None),
            Column(key="pairs", label="Real data sets", kind="count", better=None),
        ),
        rows=tuple(rows),
        notes=(
            "Per data set, the mean of τ with each real data set other than itself: how well "
            "its ranking of the models predicts their ranking on real data. A real data set's "
            "row is the yardstick: how well real data sets predict one another.",
            f"[low, high]: {level * 100:g} % percentile interval of the mean over the same "
            "resamples as the pairs above.",
        ),
    )


def agreement_tables(group: ScoreGroup, names: Names, *, layout: Layout, metric: str,
                     bootstrap: Bootstrap | None = None, resamples: int = 1000,
                     level: float = 0.95) -> list[Table]:
    """The pairs table and, where the board mixes real and synthetic data, the summary."""
    found = agreements(group, names, layout=layout, metric=metric, bootstrap=bootstrap,
                       resamples=resamples)
    if not found:
        return []
    tables = [pairs_table(found, names, layout=layout, metric=metric, resamples=resamples,
                          level=level)]
    summary = with_real_table(found, names, layout=layout, metric=metric, level=level)
    return tables + ([summary] if summary is not None else [])


def agreement_boards(
    groups: Sequence[ScoreGroup], names: Names, *, layout: Layout, metrics: Sequence[str],
    uncertainty: Mapping[str, Bootstrap] | None = None, resamples: int = 1000,
    level: float = 0.95, version: str | None = None, date: str | None = None,
) -> list[Board]:
    """A board per comparable group holding the agreement tables of each metric."""
    from bench.leaderboard.boards import bench_version, context, today

    boards = []
    for group in groups:
        bootstrap = (uncertainty or {}).get(group.slug)
        tables = [table for metric in metrics
                  for table in agreement_tables(group, names, layout=layout, metric=metric,
                                                bootstrap=bootstrap, resamples=resamples,
                                                level=level)]
        if not tables:
            continue
        heading = (f"{group.slug}: published figures" if group.origin else
                   f"Leaderboard, protocol {group.protocol} ({group.protocol_hash})")
        boards.append(Board(
            title=f"{heading}, rank agreement",
            slug=f"{group.slug}-agreement",
            context=context(group, names, version=version or bench_version(),
                            date=date or today()),
            tables=tuple(tables),
            notes=group.notes,
        ))
    if not boards:
        raise DataError(
            f"no two {'data sets' if layout == 'same' else 'targets'} share {MIN_ROWS} or more "
            "ranked models, so there is no rank agreement to compute. Train the same models on "
            "more data sets, or add --cross for the targets of the cross-data-set results."
        )
    return boards
