"""Confidence intervals: a stratified, seeded, vectorised bootstrap over stored test predictions.

Every metric of the table (``bench.metrics``) is a function of a few sums over the test
images (the confusion counts and the metrics' own per-image terms), so one resample is one row
of a count matrix ``W`` (resamples x images) and all resamples of a run are one matrix product
``W @ features``. Images are resampled within each class (the class counts of the test split
stay fixed), and ``W`` depends only on the target's test split and the seed, so every run
tested on a target sees the same resamples: differences between two models are paired by
construction.

A class whose test images are all right or all wrong (a model never wrong on basophils, or
one that predicts a single class) resamples to the same counts every time; the bootstrap
alone would give it a zero-width interval. ``boundary_counts`` lets such a class move, by
the Jeffreys posterior of an outcome not seen in its n images.

Per cell and metric the result is a ``recipe.CellDraws``: each seed's score and the replicates
of their mean. The interval is over the test images for one seed (this trained model) and over
the recipe for several (``recipe``: the seeds' spread plus the test variation they share).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.leaderboard.recipe import RECIPE_SEEDS, TEST_SEEDS, CellDraws, Estimate, estimate
from bench.metrics import METRICS, K, features, metrics_from_sums

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.model import ScoreGroup
    from bench.store import ResultsStore

CellKey = tuple[str, str, str]  # (model, source, target)
RUNS_PER_PRODUCT = 8  # runs whose features share one matrix product (speed against memory)


@dataclass(frozen=True)
class IntervalSettings:
    """How intervals are drawn; the same settings on the same store give the same intervals."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if self.resamples < 10:
            raise DataError(f"--resamples must be at least 10 (got {self.resamples}); "
                            "1,000 is the usual choice.")
        if not 0 < self.level < 1:
            raise DataError(f"--level must lie strictly between 0 and 1 (got {self.level}); "
                            "0.95 gives 95 % intervals.")

    def describe(self, units: Iterable[str] = ("model",)) -> str:
        """What the intervals of a table are, for the units (``recipe.Unit``) its cells have."""
        level = f"{self.level * 100:g} %"
        parts = []
        if "recipe" in units:
            parts.append(
                f"cells of several seeds: {level} interval over the recipe, mean ± t·√(s²/k + C) "
                "(s² the variance of the k seeds' scores, C the test-image variation the seeds "
                "share, from the bootstrap; t with k - 1 degrees of freedom)")
        if "model" in units:
            parts.append(
                f"{'cells of one seed' if parts else 'one seed per cell'}: {level} percentile "
                f"bootstrap over the test images ({self.resamples:,} resamples stratified by "
                "class), about this trained model, not the recipe")
        return "; ".join(parts)


def stable_seed(*parts: object) -> int:
    """A seed from names, identical on every machine and Python (hash() is salted per process)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def resample_weights(labels: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Counts (resamples x images): how often each image is drawn, within its own class."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    weights = np.zeros((resamples, len(labels)))
    rows = np.arange(resamples)[:, None]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        draws = rng.integers(0, len(members), size=(resamples, len(members)))
        counts = np.bincount((rows * len(members) + draws).ravel(),
                             minlength=resamples * len(members))
        weights[:, members] = counts.reshape(resamples, len(members))
    return weights


def boundary_counts(labels: np.ndarray, predicted: np.ndarray, resamples: int, seed: int
                    ) -> np.ndarray:
    """Confusion-count changes (resamples x K*K) for classes all right or all wrong.

    Resampling such a class (5 basophils all right, or a model that predicts one class, so
    every other class is all wrong) always gives the same recall, so the bootstrap would claim
    the model can never do otherwise there. Per such class of n images, each resample turns M
    of them to the outcome never seen, M ~ Binomial(n, q) with q ~ Beta(1/2, n + 1/2), the
    Jeffreys posterior of the rate of an outcome not seen in n trials (Brown, Cai and DasGupta
    2001): all right, M become errors spread evenly over the other classes; all wrong, M of
    the errors (drawn in proportion to where they went) become right. Seeded by the class and
    its counts, not by the run: two runs alike in that class move alike, so their paired
    difference there stays zero (as McNemar would have it).
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    out = np.zeros((resamples, K * K))
    for label in (int(c) for c in np.unique(labels)):
        guesses = predicted[labels == label]
        n, right = len(guesses), int((guesses == label).sum())
        if 0 < right < n:
            continue
        counts = np.bincount(guesses, minlength=K)
        rng = np.random.default_rng(stable_seed(seed, "boundary", label, *counts.tolist()))
        moved = rng.binomial(n, rng.beta(0.5, n + 0.5, resamples))
        others = [c for c in range(K) if c != label]
        if right == n:  # all right: some become errors
            out[:, label * K + label] -= moved
            out[:, [label * K + c for c in others]] += rng.multinomial(
                moved, [1 / len(others)] * len(others))
        else:  # all wrong: some become right
            out[:, label * K + label] += moved
            out[:, [label * K + c for c in others]] -= np.array(
                [rng.multivariate_hypergeometric(counts[others], m) for m in moved.tolist()])
    return out


@dataclass(frozen=True)
class RunPredictions:
    paths: tuple[str, ...]
    labels: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray


def split_predictions(arrays: Mapping[str, Any]) -> dict[tuple[str, str], RunPredictions]:
    """Per (run, target): the stored predictions (``ResultsStore.prediction_arrays``)."""
    out = {}
    keys = list(zip(arrays["run_id"], arrays["target"], strict=True))
    start = 0
    for stop in range(1, len(keys) + 1):  # rows come sorted: each (run, target) is one slice
        if stop == len(keys) or keys[stop] != keys[start]:
            out[keys[start]] = RunPredictions(
                tuple(arrays["path"][start:stop]), arrays["label"][start:stop],
                arrays["predicted"][start:stop], arrays["probabilities"][start:stop],
            )
            start = stop
    return out


def replicate_runs(runs: Sequence[RunPredictions], weights: np.ndarray, seed: int
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per metric: each run's score (runs,) and its values on the resamples (runs, resamples).

    ``runs`` were tested on the same images, in the same order; ``weights`` are the resamples
    of those images (``resample_weights``) and ``seed`` the one they were drawn with.
    """
    present = sorted(set(runs[0].labels.tolist()))
    points: dict[str, list[float]] = {}
    replicates: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(runs), RUNS_PER_PRODUCT):
        chunk = runs[start:start + RUNS_PER_PRODUCT]
        tables = [features(run.labels, run.predicted, run.probabilities) for run in chunk]
        width = tables[0].shape[1]
        every = weights @ np.concatenate(tables, axis=1)  # one product for several runs
        for index, (run, table) in enumerate(zip(chunk, tables, strict=True)):
            sums = every[:, index * width:(index + 1) * width]
            sums[:, : K * K] += boundary_counts(run.labels, run.predicted, len(weights), seed)
            point = metrics_from_sums(table.sum(axis=0), present)
            for metric, values in metrics_from_sums(sums, present).items():
                points.setdefault(metric, []).append(float(point[metric][0]))
                replicates.setdefault(metric, []).append(values)
    return ({m: np.array(v) for m, v in points.items()},
            {m: np.stack(v) for m, v in replicates.items()})


@dataclass
class Bootstrap:
    """Per cell and metric: the seeds' scores and the paired replicates of their mean."""

    settings: IntervalSettings
    draws: dict[CellKey, dict[str, CellDraws]] = field(default_factory=dict)
    runs: dict[CellKey, tuple[str, ...]] = field(default_factory=dict)

    def cell(self, key: CellKey, metric: str) -> CellDraws | None:
        return self.draws.get(key, {}).get(metric)

    def get(self, key: CellKey, metric: str) -> np.ndarray | None:
        """Replicates of the cell's score (fractions), None without predictions.

        Over the test images, and with several seeds their spread added
        (``CellDraws.replicates``); paired across the cells of a target.
        """
        cell = self.cell(key, metric)
        return None if cell is None else cell.replicates(stable_seed(self.settings.seed, *key,
                                                                     metric))

    def estimate(self, key: CellKey, metric: str) -> Estimate | None:
        """The cell's interval: this trained model (one seed) or the recipe (several)."""
        cell = self.cell(key, metric)
        if cell is None:
            return None
        return estimate(cell, self.settings.level, bounds(metric))

    def interval(self, key: CellKey, metric: str) -> tuple[float, float] | None:
        """The interval of a cell's metric, as fractions; None without predictions."""
        found = self.estimate(key, metric)
        return None if found is None else (found.low, found.high)

    def unit_text(self) -> str:
        """What the board's intervals and marks are about, for its header."""
        seeds = sorted({len(runs) for runs in self.runs.values()})
        if not seeds:
            return ""
        several = [k for k in seeds if k >= RECIPE_SEEDS]
        if not several:
            return ("this trained model: one seed per cell, so each interval covers the test "
                    "images only, not the recipe (another seed scores differently); "
                    f"significance marks and tiers need {TEST_SEEDS} seeds")
        counts = ", ".join(map(str, several))
        text = (f"the recipe: {counts} seeds per cell, each interval over the seeds and the "
                "test images")
        if 1 in seeds:
            text += "; this trained model where a cell has one seed (n=1)"
        return text


def bounds(metric: str) -> tuple[float, float]:
    """The range a metric's values lie in (the table's; per-class values are fractions)."""
    return METRICS[metric].bounds if metric in METRICS else (0.0, 1.0)


def bootstrap_cells(
    frame: pd.DataFrame,
    predictions: Mapping[tuple[str, str], RunPredictions],
    settings: IntervalSettings | None = None,
) -> Bootstrap:
    """Bootstrap every (model, source, target) cell of a score frame that has predictions."""
    settings = settings or IntervalSettings()
    result = Bootstrap(settings)
    runs = frame[["model", "source", "target", "target_fingerprint", "run_id"]].drop_duplicates()
    per_run: dict[tuple[str, str], tuple[dict[str, float], dict[str, np.ndarray]]] = {}
    for (target, fingerprint), rows in runs.groupby(["target", "target_fingerprint"], sort=True):
        ids = sorted({r for r in rows["run_id"] if (r, target) in predictions})
        if not ids:
            continue
        reference = predictions[(ids[0], target)]
        seed = stable_seed(settings.seed, target, fingerprint)
        weights = resample_weights(reference.labels, settings.resamples, seed)
        for run_id in ids:
            run = predictions[(run_id, target)]
            if run.paths != reference.paths or not np.array_equal(run.labels, reference.labels):
                raise DataError(
                    f"runs {ids[0]} and {run_id} were tested on different images of {target} "
                    "under the same split fingerprint; the store is inconsistent. Re-run one "
                    "of them (`bench run --retry-failed` after removing it) or leave it out."
                )
        points, replicates = replicate_runs([predictions[(r, target)] for r in ids], weights,
                                            seed)
        for index, run_id in enumerate(ids):
            per_run[(run_id, target)] = ({m: float(v[index]) for m, v in points.items()},
                                         {m: v[index] for m, v in replicates.items()})
    cells = runs.groupby(["model", "source", "target"], sort=True)["run_id"]
    for (model, source, target), ids in cells:
        have = sorted({r for r in ids if (r, target) in per_run})
        if not have:
            continue
        key = (str(model), str(source), str(target))
        result.runs[key] = tuple(have)
        seeds = [per_run[(r, target)] for r in have]
        metrics = set.intersection(*(set(points) for points, _ in seeds))
        result.draws[key] = {
            metric: CellDraws.from_seeds(np.array([points[metric] for points, _ in seeds]),
                                         np.stack([reps[metric] for _, reps in seeds]))
            for metric in sorted(metrics)
        }
    return result


def group_bootstraps(
    groups: Iterable[ScoreGroup], store: ResultsStore, settings: IntervalSettings, *,
    required: bool = True,
) -> dict[str, Bootstrap]:
    """One bootstrap per comparable group (keyed by its slug), from the store's predictions.

    ``required``: a store without any predictions is an error (intervals were asked for).
    """
    groups = list(groups)
    ids = sorted({r for group in groups for r in group.cross["run_id"]})
    predictions = split_predictions(store.prediction_arrays(ids))
    if ids and not predictions and required:
        raise DataError(
            "none of the runs on this board has stored test predictions, and intervals and "
            "significance marks are computed from them. `bench run` stores them; results "
            "written without them can only show point estimates."
        )
    return {group.slug: bootstrap_cells(group.cross, predictions, settings) for group in groups}
