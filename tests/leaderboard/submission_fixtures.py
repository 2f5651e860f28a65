"""A store as a third party's would be on WBC-USID: the real test splits (from the label
manifests the package ships), the published fingerprints, a shifted target, the real `quick`
protocol, and test predictions scored by the engine's own code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

import bench
from bench.leaderboard.intervals import stable_seed
from bench.leaderboard.truth import derived_fingerprint, shipped_split
from bench.metrics import evaluate_predictions
from bench.protocols import load_protocol, overrides_text
from bench.shifts.target_names import parse_name

SHIFTED = "wbc-usid-b~blur:2"
TARGETS = ("wbc-usid-b", "wbc-usid-c", SHIFTED)
IMAGES_PER_TARGET = 1000


def split_images(target: str) -> tuple[list[str], np.ndarray, str]:
    """The keys, true labels and split fingerprint of a target's test split."""
    base = target.partition("~")[0]
    split = shipped_split(base)
    assert split is not None
    keys = sorted(split.labels)
    fingerprint = split.fingerprint if base == target else derived_fingerprint(
        split.fingerprint, parse_name(target))
    return keys, np.array([split.labels[k] for k in keys]), fingerprint


@dataclass(frozen=True)
class Submitted:
    """One run: the share of test images it gets right on each target."""

    model: str
    source: str
    seed: int
    accuracy: dict[str, float]


def predicted(run: Submitted, target: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Keys, labels and full-precision probabilities (not rounded: the store rounds them)."""
    keys, labels, _ = split_images(target)
    rng = np.random.default_rng(stable_seed(run.model, run.source, run.seed, target))
    right = rng.random(len(labels)) < run.accuracy[target]
    predicted = np.where(right, labels, (labels + rng.integers(1, 5, len(labels))) % 5)
    logits = rng.normal(0, 1, (len(labels), 5))
    logits[np.arange(len(labels)), predicted] += rng.uniform(0.5, 6, len(labels))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return keys, labels, probabilities.astype(np.float32).astype(float)


COST = {
    "device_info": {"device": "cuda", "cpu": "AMD EPYC 7B13", "cores": 16, "threads": 16,
                    "gpu": "NVIDIA H100 80GB HBM3", "torch": "2.4.1", "cuda": "12.4",
                    "amp": True, "channels_last": True, "compile": "none"},
    "cost": {"wall_seconds": 754.2, "train_images_per_second": 2210.5, "train_seconds": 600.0,
             "eval_images_per_second": 5100.0, "peak_memory": {"bytes": 3 * 2**30,
                                                               "kind": "cuda-allocated"}},
}


def write_submitted(store: bench.ResultsStore, runs: Iterable[Submitted], *,
                    epochs: int | None = None, cost: bool = True) -> list[str]:
    """The runs under `quick`; ``epochs``: with ``--epochs`` overriding its recipe."""
    recipe = load_protocol("quick").with_overrides(training={"max_epochs": epochs})
    ids = []
    for run in runs:
        cell = bench.Cell(run.model, run.source, run.seed, recipe.name, recipe.hash,
                          split_images(run.source)[2],
                          overrides=overrides_text(recipe.overrides()))
        run_id = store.claim(cell)
        assert run_id is not None
        evaluations = []
        for target in run.accuracy:
            keys, labels, probabilities = predicted(run, target)
            evaluation = evaluate_predictions(target, split_images(target)[2], keys, labels,
                                              probabilities)
            evaluation.seconds = 0.2
            evaluations.append(evaluation)
        summary = {"selection": "val_f1"}
        if cost:
            summary |= {"device_info": COST["device_info"],
                        "cost": {**COST["cost"], "evaluation": {
                            t: {"images": IMAGES_PER_TARGET, "seconds": 0.2}
                            for t in run.accuracy}}}
        store.finish(run_id, evaluations, epochs=4, best_epoch=3, summary=summary)
        ids.append(run_id)
    return ids


# Two models x two sources (one seed), each tested on both levels and on a shifted target.
TWO_BY_TWO = [
    Submitted(model, source, 0, {"wbc-usid-b": base + (0.05 if source == "wbc-usid-b" else 0),
                                 "wbc-usid-c": base - 0.1 + (0.05 if source == "wbc-usid-c"
                                                            else 0),
                                 SHIFTED: base - 0.2})
    for model, base in (("alpha", 0.9), ("beta", 0.8))
    for source in ("wbc-usid-b", "wbc-usid-c")
]
