"""Whether a submission's predictions are of the right images, with their true labels.

Each run must predict every test image of each target's split, once, with its label.

The split comes from a shipped label manifest or the data set prepared here
(``bench.leaderboard.truth``); where neither has it, the check is listed as not made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from bench.labels import CLASSES
from bench.leaderboard.predictions import Pair, PublishedPredictions
from bench.leaderboard.submissions.problems import PREDICTIONS, Collector, Problem
from bench.leaderboard.truth import TestSplit, find_test_split

SHOWN_KEYS = 3  # image keys a message names before "and N more"


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    return shown + (f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else "")


def check_coverage(
    predictions: PublishedPredictions,
    pairs: Mapping[Pair, np.ndarray],
    fingerprints: Mapping[str, str],
) -> list[Problem]:
    """Problems of each (run, target)'s images; ``fingerprints``: target -> split fingerprint."""
    found = Collector(predictions.path, PREDICTIONS)
    unchecked = []
    splits: dict[str, TestSplit | str] = {}
    first_run: dict[str, tuple[str, np.ndarray]] = {}
    for (run_id, target), rows in sorted(pairs.items()):
        keys = predictions.key[rows]
        line = int(predictions.line[rows].min())
        if len(set(keys.tolist())) != len(keys):
            twice = sorted(k for k, n in Counter(keys.tolist()).items() if n > 1)
            found.add(line, f"run {run_id} on {target}: images predicted more than once: "
                            f"{_keys(twice)}")
            continue
        if target not in fingerprints:
            continue  # predictions without records: named where records and predictions meet
        if target not in splits:
            splits[target] = find_test_split(target, fingerprints[target])
        split = splits[target]
        if isinstance(split, str):
            # Without the split, runs must at least agree with each other on the images.
            first = first_run.setdefault(target, (run_id, rows))
            if first[0] != run_id and not _same_images(predictions, first[1], rows):
                found.add(line, f"runs {first[0]} and {run_id} were tested on different "
                                f"images (or labels) of {target}")
            continue
        _against_split(predictions, run_id, target, rows, split, found)
    for target, split in sorted(splits.items()):
        if isinstance(split, str):
            unchecked.append(Problem(predictions.path, 0, f"image keys and true labels of "
                                                          f"{target}: {split}",
                                     severity="unchecked"))
    return found.problems() + unchecked


def _same_images(predictions: PublishedPredictions, a: np.ndarray, b: np.ndarray) -> bool:
    return (np.array_equal(predictions.key[a], predictions.key[b])
            and np.array_equal(predictions.label[a], predictions.label[b]))


def _against_split(predictions: PublishedPredictions, run_id: str, target: str,
                   rows: np.ndarray, split: TestSplit, found: Collector) -> None:
    line = int(predictions.line[rows].min())
    keys = predictions.key[rows].tolist()
    missing = sorted(set(split.labels) - set(keys))
    if missing:
        found.add(line, f"run {run_id} on {target}: {len(missing)} of the "
                        f"{len(split.labels)} test images of its split ({split.where}) have no "
                        f"prediction: {_keys(missing)}")
    for key, label, at in zip(keys, predictions.label[rows].tolist(),
                              predictions.line[rows].tolist(), strict=True):
        truth = split.labels.get(key)
        if truth is None:
            found.add(int(at), f"{key} is not a test image of {target} ({split.where})")
        elif truth != label:
            found.add(int(at), f"{key} of {target} is labelled {CLASSES[label]}; its true "
                               f"label is {CLASSES[truth]} ({split.where})")
