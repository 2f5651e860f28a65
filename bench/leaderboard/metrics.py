"""The metrics a leaderboard can show, their short headers, and how users name them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from bench.errors import DataError, UnknownNameError

# The paper's four first (Tables 2 and 3), then the ones that do not hide rare classes.
ABBREVIATIONS: dict[str, str] = {
    "accuracy": "A",
    "precision": "P",
    "recall": "R",
    "f1": "F1",
    "macro_f1": "mF1",
    "balanced_accuracy": "BA",
    "mcc": "MCC",
    "ece": "ECE",
    "brier": "Brier",
}
TITLES: dict[str, str] = {
    "accuracy": "accuracy",
    "precision": "weighted precision",
    "recall": "weighted recall",
    "f1": "weighted F1",
    "macro_f1": "macro F1",
    "balanced_accuracy": "balanced accuracy",
    "mcc": "Matthews correlation",
    "ece": "expected calibration error (15 bins)",
    "brier": "Brier score (x100, 0 to 200)",
}
LOWER_IS_BETTER = frozenset({"ece", "brier"})
KNOWN_METRICS: tuple[str, ...] = tuple(ABBREVIATIONS)
PAPER_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1")


def abbreviation(metric: str) -> str:
    return ABBREVIATIONS.get(metric, metric)


def title(metric: str) -> str:
    return TITLES.get(metric, metric)


def better(metric: str) -> Literal["higher", "lower"]:
    """Which way a metric improves; calibration errors improve downwards."""
    return "lower" if metric in LOWER_IS_BETTER else "higher"


def missing_metrics_error(asked: Iterable[str], present: Iterable[str]) -> DataError | None:
    """An error when a known metric is asked for but an older store never computed it."""
    absent = [m for m in asked if m in KNOWN_METRICS and m not in set(present)]
    if not absent:
        return None
    return DataError(
        f"the results store has no {', '.join(absent)} scores (computed by newer versions of "
        "bench). `bench rescore` computes them from the stored test predictions, no training "
        "needed."
    )


def resolve_metrics(requested: Sequence[str] | None, present: Iterable[str] = ()) -> list[str]:
    """Canonical metric names for ``--metric``; the paper's four when nothing is asked.

    Accepts names or header abbreviations in any case ("F1", "mf1"); metrics that a plugin's
    engine stored beyond the known ones are accepted by their stored name.
    """
    if not requested:
        return list(PAPER_METRICS)
    known = list(dict.fromkeys([*KNOWN_METRICS, *present]))
    lookup = {name.lower(): name for name in known}
    lookup.update({abbr.lower(): name for name, abbr in ABBREVIATIONS.items()})
    lookup.update({name.lower().replace("_", "-"): name for name in known})
    resolved = []
    for name in requested:
        key = name.strip().lower()
        if key not in lookup:
            raise UnknownNameError("metric", name, known)
        resolved.append(lookup[key])
    return list(dict.fromkeys(resolved))
