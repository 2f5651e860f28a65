"""Every metric bench computes, one row each: the only place a metric is defined.

A row (:class:`Metric`) gives the name scores are stored under, the header abbreviation, the
title, which way the metric improves, the range its values lie in, and two computations:

- ``point(p)``: the value on one run's test predictions (:class:`Predictions`), as
  scikit-learn defines it. The engine stores it; ``bench rescore`` recomputes it.
- ``from_sums(s)``: the same value from sums over the test images (:class:`Sums`), one per
  row of sums. A bootstrap resample is a weighted sum of per-image terms, so intervals and
  significance marks draw every metric from one matrix product. The sums are the confusion
  counts plus the metric's own ``terms`` (``columns`` values per image), if any.

The table and how the rest of bench reads it::

    METRICS                      name -> Metric, in display order; ``--metric`` accepts these
    PAPER_METRICS                the paper's four (Tables 2 and 3), the default of ``--metric``
    abbreviation(name), title(name), better(name)   any stored name; unknown ones pass through
    resolve_metrics(asked, present), missing_metrics_error(asked, present)   for ``--metric``
    register(metric)             add a row at run time (tests); bench's rows are in METRICS
    score_predictions(...), evaluate_predictions(...)   every point value, for the engine
    features(...), metrics_from_sums(sums, present)     every value from sums, for intervals

Add a metric (CONTRIBUTING.md): append one ``Metric(...)`` row to ``METRICS`` below; then
``bench rescore`` gives old stores its values. ``tests/core/test_metrics.py`` checks both
computations against scikit-learn. Weighted averages use the support of each class in the
target's test split; a target that lacks some of the five classes is scored on the classes it
has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

from bench.errors import DataError, UnknownNameError
from bench.labels import CLASSES

if TYPE_CHECKING:
    from bench.store import Evaluation

K = len(CLASSES)
ECE_BINS = 15
PER_CLASS = ("precision", "recall", "f1")  # stored per class too, keyed "recall:B" in sums


def sklearn_metrics():
    """scikit-learn's metrics module, imported on first use (the bootstrap never needs it)."""
    from sklearn import metrics

    return metrics


class Predictions:
    """One run's predictions on one target, with the per-class figures rows share."""

    def __init__(self, labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray):
        self.labels = np.asarray(labels, dtype=np.int64)
        self.predicted = np.asarray(predicted, dtype=np.int64)
        self.probabilities = np.asarray(probabilities, dtype=float).reshape(len(self.labels), K)

    @cached_property
    def present(self) -> list[int]:
        """The classes of the test split; averages run over these."""
        return sorted(set(self.labels.tolist()))

    @cached_property
    def _by_class(self) -> tuple[np.ndarray, ...]:
        return sklearn_metrics().precision_recall_fscore_support(
            self.labels, self.predicted, labels=self.present, zero_division=0)

    @property
    def per_class(self) -> dict[str, np.ndarray]:
        """Precision, recall and F1 of each present class (scikit-learn's)."""
        return dict(zip(PER_CLASS, self._by_class[:3], strict=True))

    @property
    def support(self) -> np.ndarray:
        return self._by_class[3]

    @cached_property
    def weights(self) -> np.ndarray:
        """Each present class's share of the test images (the paper's weighted average)."""
        return self.support / self.support.sum()

    @cached_property
    def confidence(self) -> np.ndarray:
        """The probability given to the predicted class."""
        return self.probabilities[np.arange(len(self.labels)), self.predicted]

    @property
    def correct(self) -> np.ndarray:
        return self.labels == self.predicted


class Sums:
    """Sums of per-image terms, one row per resample: confusion counts and each row's terms.

    ``precision``, ``recall`` and ``f1`` have a column per class (all five; 0 where a class
    is never true or never predicted); ``present`` lists the test split's classes.
    """

    def __init__(self, sums: np.ndarray, present: Sequence[int]):
        sums = np.atleast_2d(sums)
        self.present = list(present)
        self.confusion = sums[:, : K * K].reshape(-1, K, K)
        self.n = self.confusion.sum(axis=(1, 2))
        self.tp = np.diagonal(self.confusion, axis1=1, axis2=2)
        self.true = self.confusion.sum(axis=2)
        self.pred = self.confusion.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.per_class = {
                "precision": np.where(self.pred > 0, self.tp / self.pred, 0.0),
                "recall": np.where(self.true > 0, self.tp / self.true, 0.0),
                "f1": np.where(self.true + self.pred > 0,
                               2 * self.tp / (self.true + self.pred), 0.0),
            }
            self.weights = self.true[:, self.present] / self.n[:, None]
        self.terms = {name: sums[:, part] for name, part in _term_slices().items()}

    def weighted(self, name: str) -> np.ndarray:
        """The support-weighted mean of a per-class value over the present classes."""
        return (self.per_class[name][:, self.present] * self.weights).sum(axis=1)

    def macro(self, name: str) -> np.ndarray:
        return self.per_class[name][:, self.present].mean(axis=1)


@dataclass(frozen=True)
class Metric:
    """One metric: how it is named and shown, and its two computations (module docstring)."""

    name: str
    abbreviation: str
    title: str
    higher_is_better: bool
    point: Callable[[Predictions], float]
    from_sums: Callable[[Sums], np.ndarray]
    terms: Callable[[Predictions], np.ndarray] | None = None  # (images, columns), summed
    columns: int = 0  # how many values ``terms`` gives per image
    bounds: tuple[float, float] = (0.0, 1.0)  # the range of a stored value (submission checks)
    # Recomputed from probabilities stored to 6 decimals, a value may move by this much.
    rounding: float = 0.0
    binned: bool = False  # counts confidences in bins: rounding may move an image across an edge


def confidence_bins(confidence: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Bin index of each top-label confidence; bins are (i/M, (i+1)/M] as in Guo et al. 2017."""
    return np.clip(np.ceil(np.asarray(confidence) * bins).astype(np.int64) - 1, 0, bins - 1)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Mean over equal-width confidence bins of |accuracy - confidence|, weighted by bin size."""
    if len(confidence) == 0:
        return 0.0
    index = confidence_bins(confidence, bins)
    gap = np.bincount(index, weights=confidence, minlength=bins) - np.bincount(
        index, weights=np.asarray(correct, dtype=float), minlength=bins
    )
    return float(np.abs(gap).sum() / len(confidence))


def calibration_gaps(p: Predictions) -> np.ndarray:
    """Per image: confidence minus correctness, in the column of its confidence bin."""
    out = np.zeros((len(p.labels), ECE_BINS))
    out[np.arange(len(p.labels)), confidence_bins(p.confidence)] = p.confidence - p.correct
    return out


def brier_terms(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per image: squared distance of the probability vector to the one-hot truth (0 to 2)."""
    onehot = np.zeros_like(probabilities, dtype=float)
    onehot[np.arange(len(labels)), labels] = 1.0
    return ((probabilities - onehot) ** 2).sum(axis=1)


def mcc_from_sums(s: Sums) -> np.ndarray:
    """Matthews correlation from confusion counts (Gorodkin's multi-class form, scikit-learn's)."""
    covariance = s.tp.sum(axis=1) * s.n - (s.true * s.pred).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt((s.n**2 - (s.pred**2).sum(axis=1)) * (s.n**2 - (s.true**2).sum(axis=1)))
        return np.where(spread > 0, covariance / spread, 0.0)


# The paper's four first (Tables 2 and 3), then those that do not hide rare classes, then
# calibration. Weighted recall equals accuracy by construction; both are kept as the paper has.
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", "A", "accuracy", True,
           point=lambda p: sklearn_metrics().accuracy_score(p.labels, p.predicted),
           from_sums=lambda s: s.tp.sum(axis=1) / s.n),
    Metric("precision", "P", "weighted precision", True,
           point=lambda p: p.per_class["precision"] @ p.weights,
           from_sums=lambda s: s.weighted("precision")),
    Metric("recall", "R", "weighted recall", True,
           point=lambda p: p.per_class["recall"] @ p.weights,
           from_sums=lambda s: s.weighted("recall")),
    Metric("f1", "F1", "weighted F1", True,
           point=lambda p: p.per_class["f1"] @ p.weights,
           from_sums=lambda s: s.weighted("f1")),
    Metric("macro_f1", "mF1", "macro F1", True,
           point=lambda p: p.per_class["f1"].mean(),
           from_sums=lambda s: s.macro("f1")),
    Metric("balanced_accuracy", "BA", "balanced accuracy", True,
           point=lambda p: p.per_class["recall"].mean(),
           from_sums=lambda s: s.macro("recall")),
    Metric("mcc", "MCC", "Matthews correlation", True,
           point=lambda p: sklearn_metrics().matthews_corrcoef(p.labels, p.predicted),
           from_sums=mcc_from_sums, bounds=(-1.0, 1.0)),
    Metric("ece", "ECE", f"expected calibration error ({ECE_BINS} bins)", False,
           point=lambda p: expected_calibration_error(p.confidence, p.correct),
           from_sums=lambda s: np.abs(s.terms["ece"]).sum(axis=1) / s.n,
           terms=calibration_gaps, columns=ECE_BINS, rounding=1e-6, binned=True),
    Metric("brier", "Brier", "Brier score (x100, 0 to 200)", False,
           point=lambda p: brier_terms(p.labels, p.probabilities).mean(),
           from_sums=lambda s: s.terms["brier"][:, 0] / s.n,
           terms=lambda p: brier_terms(p.labels, p.probabilities)[:, None], columns=1,
           bounds=(0.0, 2.0), rounding=5e-6),
)}
PAPER_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1")
DEFAULT_METRIC = "f1"  # what boards rank and plot by, and what a run's summary shows
VALIDATION_METRICS = ("accuracy", "f1")  # recorded each epoch as val_<name> (early stopping)
SAME_BY_DEFINITION = ("recall", "accuracy")  # weighted recall equals accuracy: checked in records


def register(metric: Metric) -> Metric:
    """Add a row to the table; its name and abbreviation must be new."""
    taken = {m.abbreviation.lower(): m.name for m in METRICS.values()}
    if metric.name in METRICS or metric.abbreviation.lower() in taken:
        raise ValueError(f"metric {metric.name!r} ({metric.abbreviation}) is already in the table")
    if (metric.terms is None) != (metric.columns == 0):
        raise ValueError(f"metric {metric.name!r}: give terms and columns together")
    METRICS[metric.name] = metric
    return metric


def abbreviation(name: str) -> str:
    return METRICS[name].abbreviation if name in METRICS else name


def title(name: str) -> str:
    return METRICS[name].title if name in METRICS else name


def better(name: str) -> Literal["higher", "lower"]:
    """Which way a metric improves; calibration errors improve downwards."""
    return "lower" if name in METRICS and not METRICS[name].higher_is_better else "higher"


def resolve_metrics(requested: Sequence[str] | None, present: Iterable[str] = ()) -> list[str]:
    """Canonical metric names for ``--metric``; the paper's four when nothing is asked.

    Accepts names or header abbreviations in any case ("F1", "mf1"); metrics that a plugin's
    engine stored beyond the table are accepted by their stored name.
    """
    if not requested:
        return list(PAPER_METRICS)
    known = list(dict.fromkeys([*METRICS, *present]))
    lookup = {name.lower(): name for name in known}
    lookup.update({m.abbreviation.lower(): name for name, m in METRICS.items()})
    lookup.update({name.lower().replace("_", "-"): name for name in known})
    resolved = []
    for name in requested:
        key = name.strip().lower()
        if key not in lookup:
            raise UnknownNameError("metric", name, known)
        resolved.append(lookup[key])
    return list(dict.fromkeys(resolved))


def missing_metrics_error(asked: Iterable[str], present: Iterable[str]) -> DataError | None:
    """An error when a metric of the table is asked for but an older store never computed it."""
    absent = [m for m in asked if m in METRICS and m not in set(present)]
    if not absent:
        return None
    return DataError(
        f"the results store has no {', '.join(absent)} scores (computed by newer versions of "
        "bench). `bench rescore` computes them from the stored test predictions, no training "
        "needed."
    )


def score_predictions(
    labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray
) -> tuple[dict[str, float], dict[str, dict[str, float]], list[str], dict[str, int], list]:
    """Every metric of the table, per-class values, classes present, support and confusion.

    ``predicted`` is passed rather than derived so that re-scoring a store reproduces the
    labels recorded at test time exactly (stored probabilities are rounded).
    """
    p = Predictions(labels, predicted, probabilities)
    letters = [CLASSES[i] for i in p.present]
    per_class = {name: dict(zip(letters, map(float, values)))
                 for name, values in p.per_class.items()}
    confusion = sklearn_metrics().confusion_matrix(p.labels, p.predicted, labels=range(K))
    return (
        {name: float(metric.point(p)) for name, metric in METRICS.items()},
        per_class,
        letters,
        dict(zip(letters, map(int, p.support))),
        confusion.tolist(),
    )


def evaluate_predictions(
    target: str,
    split_fingerprint: str,
    paths: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    predicted: np.ndarray | None = None,
) -> Evaluation:
    """The store's record of a test: every metric from true labels and class probabilities."""
    from bench.store import Evaluation

    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=float)
    if predicted is None:
        predicted = probabilities.argmax(axis=1)
    metrics, per_class, letters, support, confusion = score_predictions(
        labels, predicted, probabilities
    )
    return Evaluation(
        target=target,
        split_fingerprint=split_fingerprint,
        metrics=metrics,
        per_class=per_class,
        labels=letters,
        support=support,
        confusion=confusion,
        predictions=[
            (path, int(y), int(p), row.tolist())
            for path, y, p, row in zip(paths, labels, predicted, probabilities)
        ],
    )


def _term_slices() -> dict[str, slice]:
    """Where each row's terms sit in a feature row, after the K x K confusion one-hot."""
    out, start = {}, K * K
    for metric in METRICS.values():
        if metric.terms is not None:
            out[metric.name] = slice(start, start + metric.columns)
            start += metric.columns
    return out


def features(labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per image: the one-hot (true, predicted) pair, then each row's terms, in table order."""
    p = Predictions(labels, predicted, probabilities)
    n = len(p.labels)
    parts = [np.zeros((n, K * K))]
    parts[0][np.arange(n), p.labels * K + p.predicted] = 1.0
    for metric in METRICS.values():
        if metric.terms is not None:
            parts.append(np.asarray(metric.terms(p), dtype=float).reshape(n, metric.columns))
    return np.concatenate(parts, axis=1)


def metrics_from_sums(sums: np.ndarray, present: Sequence[int]) -> dict[str, np.ndarray]:
    """Every metric of the table from summed features (rows: resamples), and per-class values.

    Per-class values are keyed ``"recall:B"``; classes absent from the test split are left
    out of the averages, as the stored scores leave them out.
    """
    s = Sums(sums, present)
    out = {name: np.asarray(metric.from_sums(s), dtype=float) for name, metric in METRICS.items()}
    for name, values in s.per_class.items():
        for i in s.present:
            out[f"{name}:{CLASSES[i]}"] = values[:, i]
    return out
