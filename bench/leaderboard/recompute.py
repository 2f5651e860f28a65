"""Every score of a submission's records, recomputed from its predictions by bench's own code.

Point values come from the metric table the engine scores with (``bench.metrics``: each
row's ``point``), intervals from the leaderboard's bootstrap (``bench.leaderboard.intervals``),
so the check follows any change to either, and a metric added to the table is checked too.
A claimed value that differs from its recomputation is a problem at its records row, with
both values.

How close is equal: metrics of the labels alone (accuracy, precision, recall, F1, macro F1,
balanced accuracy, MCC) are recomputed to float noise. ECE and Brier also read the
probabilities, which the store keeps to 6 decimals while the scores were computed before
rounding: Brier may move by 5e-6 at most, ECE by 1e-6, and an image whose confidence lies
within rounding of one of ECE's bin edges may have sat in either bin: every such assignment
is tried.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bench.leaderboard.intervals import IntervalSettings, RunPredictions, bootstrap_cells
from bench.leaderboard.predictions import Pair, PublishedPredictions
from bench.leaderboard.submissions.problems import PREDICTIONS, RECOMPUTED, Collector, Problem
from bench.metrics import ECE_BINS, METRICS, Predictions, expected_calibration_error

FLOAT_NOISE = 1e-9
STORED_DECIMALS = 6  # what the store keeps of each probability
MAX_AMBIGUOUS = 10  # images near an ECE bin edge tried both ways; beyond, a bound is used
PROBABILITY_SUM = 1e-5  # five probabilities rounded to 6 decimals still sum to 1 within this


def _ece_range(confidence: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """The lowest and highest ECE the unrounded confidences could have given."""
    value = expected_calibration_error(confidence, correct)
    edges = np.arange(1, ECE_BINS) / ECE_BINS
    distance = np.abs(confidence[:, None] - edges[None, :])
    near = np.flatnonzero(distance.min(axis=1) <= 0.5 * 10.0**-STORED_DECIMALS + 1e-12)
    if len(near) == 0:
        return value, value
    if len(near) > MAX_AMBIGUOUS:  # moving an image between bins moves ECE by 2|gap|/n at most
        slack = 2 * np.abs(confidence[near] - correct[near]).sum() / len(confidence)
        return value - slack, value + slack
    nearest = edges[distance[near].argmin(axis=1)]
    values = []
    for sides in itertools.product((-1e-9, 1e-9), repeat=len(near)):
        moved = confidence.copy()
        moved[near] = nearest + np.array(sides)
        values.append(expected_calibration_error(moved, correct))
    return min(values), max(values)


def _describe(row: Mapping[str, Any]) -> str:
    return (f"{row['model']} trained on {row['source']} (seed {row['seed']}) tested on "
            f"{row['target']}")


def recompute_scores(
    rows: Sequence[Mapping[str, Any]],
    predictions: PublishedPredictions,
    pairs: Mapping[Pair, np.ndarray],
    records_file: str,
    settings: IntervalSettings | None = None,
) -> list[Problem]:
    """Compare each records row (``value`` parsed, ``line`` its row) with its recomputation.

    ``pairs``: the predictions' rows of each (run, target). Rows carrying an interval
    (``ci_low``, ``ci_high``) have it recomputed too, with ``settings``.
    """
    found = Collector(records_file, RECOMPUTED)
    in_file = Collector(predictions.path, PREDICTIONS)
    by_pair: dict[Pair, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_pair.setdefault((row["run_id"], row["target"]), []).append(row)
    for pair, claimed in sorted(by_pair.items()):
        index = pairs.get(pair)
        if index is None:
            found.add(min(r["line"] for r in claimed),
                      "no predictions of this row's run and target beside the records: its "
                      "scores cannot be recomputed (`bench run` stores test predictions; "
                      "publish from a store that holds them)", PREDICTIONS)
            continue
        _consistent(predictions, index, in_file)
        run = Predictions(predictions.label[index], predictions.predicted[index],
                          predictions.probabilities[index])
        for row in claimed:
            metric = row["metric"]
            if metric not in METRICS:
                continue  # a plugin's own metric: named by the caller as not recomputed
            value = float(METRICS[metric].point(run))
            if METRICS[metric].binned:
                low, high = _ece_range(run.confidence, run.correct)
            else:
                low = high = value
            tolerance = METRICS[metric].rounding or FLOAT_NOISE
            if not low - tolerance <= row["value"] <= high + tolerance:
                shown = f"{value!r}" if low == high else \
                    f"{value!r} (between {low!r} and {high!r} before rounding)"
                found.add(row["line"], f"{metric} of {_describe(row)} is {row['value']!r}; "
                                       f"recomputed from the predictions: {shown}")
    for pair, index in sorted(pairs.items()):
        if pair not in by_pair:
            in_file.add(int(predictions.line[index].min()),
                        f"predictions of run {pair[0]} on {pair[1]} have no scores in the "
                        "records")
    found_intervals = _recompute_intervals(rows, predictions, pairs, settings)
    return found.problems() + [Problem(records_file, line, message, topic=RECOMPUTED)
                               for line, message in found_intervals] + in_file.problems()


def _consistent(predictions: PublishedPredictions, index: np.ndarray, found: Collector) -> None:
    """Each row's probabilities sum to 1 and its predicted label is the most probable class."""
    probabilities = predictions.probabilities[index]
    chosen = probabilities[np.arange(len(index)), predictions.predicted[index]]
    not_top = chosen < probabilities.max(axis=1) - 10.0**-STORED_DECIMALS
    for line in predictions.line[index][not_top]:
        found.add(int(line), "the predicted label is not the most probable class")
    off = np.abs(probabilities.sum(axis=1) - 1) > PROBABILITY_SUM
    for line in predictions.line[index][off]:
        found.add(int(line), "the class probabilities do not sum to 1")


def _recompute_intervals(
    rows: Sequence[Mapping[str, Any]],
    predictions: PublishedPredictions,
    pairs: Mapping[Pair, np.ndarray],
    settings: IntervalSettings | None,
) -> list[tuple[int, str]]:
    """Each row's interval (the run's own: a bootstrap of its test images), recomputed."""
    import pandas as pd

    with_interval = [r for r in rows if r.get("ci") is not None and
                     (r["run_id"], r["target"]) in pairs]
    if not with_interval:
        return []
    settings = settings or IntervalSettings()
    found = []
    runs = pd.DataFrame(with_interval).drop_duplicates(["run_id", "target"])
    for run_id, run in runs.groupby("run_id", sort=True):
        cells = run.assign(model=run_id)[["model", "source", "target", "target_fingerprint",
                                         "run_id"]]
        stored = {pair: _run_predictions(predictions, pairs[pair])
                  for pair in zip(run["run_id"], run["target"], strict=True)}
        bootstrap = bootstrap_cells(cells, stored, settings)
        for row in (r for r in with_interval if r["run_id"] == run_id):
            interval = bootstrap.interval((run_id, row["source"], row["target"]), row["metric"])
            if interval is None:
                continue
            tolerance = (METRICS[row["metric"]].rounding if row["metric"] in METRICS
                         else 0.0) or FLOAT_NOISE
            if any(abs(a - b) > tolerance for a, b in zip(row["ci"], interval, strict=True)):
                found.append((row["line"], (
                    f"interval of {row['metric']} of {_describe(row)} is "
                    f"[{row['ci'][0]!r}, {row['ci'][1]!r}]; recomputed from the predictions "
                    f"({settings.describe().split(';')[0]}): [{interval[0]!r}, {interval[1]!r}]"
                )))
    return found


def _run_predictions(predictions: PublishedPredictions, index: np.ndarray) -> RunPredictions:
    return RunPredictions(tuple(predictions.key[index].tolist()), predictions.label[index],
                          predictions.predicted[index], predictions.probabilities[index])
