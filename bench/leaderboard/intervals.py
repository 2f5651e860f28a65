"""Confidence intervals: a stratified, seeded, vectorised bootstrap over stored test predictions.

Every metric of the table (``bench.metrics``) is a function of a few sums over the test
images (the confusion counts and the metrics' own per-image terms), so one resample is one row
of a count matrix ``W`` (resamples x images) and all resamples of a run are one matrix product
``W @ features``.
Images are resampled within each class (the class counts of the test split stay fixed), and
``W`` depends only on the target's test split and the seed, so every run tested on a target
sees the same resamples: differences between two models are paired by construction.

With several seeds per cell the bootstrap is hierarchical: each resample draws the seeds with
replacement, then scores each drawn seed on the same resampled test images, and averages. The
interval thus holds training variation (seeds) and test sampling (images) together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.metrics import features, metrics_from_sums

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.model import ScoreGroup
    from bench.store import ResultsStore

CellKey = tuple[str, str, str]  # (model, source, target)


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

    def describe(self) -> str:
        return (f"{self.level * 100:g} % percentile bootstrap interval, {self.resamples:,} "
                "resamples of the test images stratified by class; with several seeds the seeds "
                "are resampled too (hierarchical bootstrap); it replaces ± std")


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


@dataclass
class Bootstrap:
    """Replicates per cell and metric (fractions), all drawn from the same test resamples."""

    settings: IntervalSettings
    replicates: dict[CellKey, dict[str, np.ndarray]] = field(default_factory=dict)
    runs: dict[CellKey, tuple[str, ...]] = field(default_factory=dict)

    def get(self, key: CellKey, metric: str) -> np.ndarray | None:
        return self.replicates.get(key, {}).get(metric)

    def interval(self, key: CellKey, metric: str) -> tuple[float, float] | None:
        """The percentile interval of a cell's metric, as fractions; None without predictions."""
        values = self.get(key, metric)
        if values is None:
            return None
        tail = (1 - self.settings.level) / 2
        low, high = np.quantile(values, [tail, 1 - tail])
        return float(low), float(high)


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


def bootstrap_cells(
    frame: pd.DataFrame,
    predictions: Mapping[tuple[str, str], RunPredictions],
    settings: IntervalSettings | None = None,
) -> Bootstrap:
    """Bootstrap every (model, source, target) cell of a score frame that has predictions."""
    settings = settings or IntervalSettings()
    result = Bootstrap(settings)
    runs = frame[["model", "source", "target", "target_fingerprint", "run_id"]].drop_duplicates()
    per_run: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (target, fingerprint), rows in runs.groupby(["target", "target_fingerprint"], sort=True):
        ids = sorted({r for r in rows["run_id"] if (r, target) in predictions})
        if not ids:
            continue
        reference = predictions[(ids[0], target)]
        weights = resample_weights(reference.labels, settings.resamples,
                                   stable_seed(settings.seed, target, fingerprint))
        present = sorted(set(reference.labels.tolist()))
        for run_id in ids:
            run = predictions[(run_id, target)]
            if run.paths != reference.paths or not np.array_equal(run.labels, reference.labels):
                raise DataError(
                    f"runs {ids[0]} and {run_id} were tested on different images of {target} "
                    "under the same split fingerprint; the store is inconsistent. Re-run one "
                    "of them (`bench run --retry-failed` after removing it) or leave it out."
                )
            sums = weights @ features(run.labels, run.predicted, run.probabilities)
            per_run[(run_id, target)] = metrics_from_sums(sums, present)
    cells = runs.groupby(["model", "source", "target"], sort=True)["run_id"]
    for (model, source, target), ids in cells:
        have = sorted({r for r in ids if (r, target) in per_run})
        if not have:
            continue
        key = (str(model), str(source), str(target))
        result.runs[key] = tuple(have)
        result.replicates[key] = combine_seeds(
            [per_run[(r, target)] for r in have], settings, stable_seed(settings.seed, *key)
        )
    return result


def combine_seeds(
    runs: Sequence[Mapping[str, np.ndarray]], settings: IntervalSettings, seed: int
) -> dict[str, np.ndarray]:
    """Hierarchical step: per resample, draw the seeds with replacement and average them."""
    if len(runs) == 1:
        return dict(runs[0])
    draw = np.random.default_rng(seed).integers(0, len(runs), size=(settings.resamples,
                                                                      len(runs)))
    columns = np.arange(settings.resamples)
    metrics = set.intersection(*(set(run) for run in runs))
    out = {}
    for metric in sorted(metrics):
        stacked = np.stack([run[metric] for run in runs])  # seeds x resamples
        out[metric] = stacked[draw, columns[:, None]].mean(axis=1)
    return out


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
