"""Data and helpers for the leaderboard tests: small stores written through the store API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

import bench
from bench.leaderboard import Names
from bench.leaderboard.reference import paper_order
from bench.plugins import discover
from bench.registry import build_registries

FIXED_DATE = "2025-01-31"
FIXED_VERSION = "9.9.9"
FINGERPRINTS = {"d1": "f1aaaa", "d2": "f2bbbb"}


@dataclass
class Result:
    """One finished run: f1 per target (a fraction); the other metrics derive from it."""

    model: str
    source: str
    seed: int
    f1: dict[str, float]
    protocol: str = "quick"
    fingerprints: dict[str, str] = field(default_factory=lambda: dict(FINGERPRINTS))


def metrics_from(f1: float) -> dict[str, float]:
    def clip(v: float) -> float:
        return min(1.0, max(0.0, v))

    return {
        "accuracy": clip(f1 + 0.004),
        "precision": clip(f1 + 0.01),
        "recall": clip(f1 + 0.004),
        "f1": f1,
        "macro_f1": clip(f1 - 0.02),
        "balanced_accuracy": clip(f1 - 0.01),
    }


# Fixed hashes rather than the built-in protocols' own, so that editing a protocol file does
# not churn the golden files; the names still let `--protocol quick` find them.
PROTOCOL_HASHES = {"quick": "abcdef0123456789", "zedda2024": "0123456789abcdef"}


def write_results(store: bench.ResultsStore, results: Iterable[Result]) -> None:
    for result in results:
        cell = bench.Cell(
            model=result.model, source=result.source, seed=result.seed,
            protocol=result.protocol, protocol_hash=PROTOCOL_HASHES[result.protocol],
            split_fingerprint=result.fingerprints[result.source],
        )
        run_id = store.claim(cell)
        assert run_id is not None
        evaluations = []
        for target, f1 in result.f1.items():
            correct = round(f1 * 20)
            confusion = [[correct if i == j else 0 for j in range(5)] for i in range(5)]
            for i in range(5):
                confusion[i][(i + 1) % 5] = 20 - correct
            evaluations.append(bench.Evaluation(
                target=target,
                split_fingerprint=result.fingerprints[target],
                metrics=metrics_from(f1),
                labels=list(bench.CLASSES),
                support=dict.fromkeys(bench.CLASSES, 20),
                confusion=confusion,
            ))
        store.finish(run_id, evaluations)


# Protocol "quick": alpha has three seeds everywhere; beta two seeds and never trained on d2;
# gamma one seed and never tested on d1 when trained on d2. Protocol "zedda2024": alpha only.
STANDARD = [
    Result("alpha", "d1", 0, {"d1": 0.901, "d2": 0.612}),
    Result("alpha", "d1", 1, {"d1": 0.913, "d2": 0.598}),
    Result("alpha", "d1", 2, {"d1": 0.907, "d2": 0.605}),
    Result("alpha", "d2", 0, {"d1": 0.552, "d2": 0.871}),
    Result("alpha", "d2", 1, {"d1": 0.548, "d2": 0.879}),
    Result("alpha", "d2", 2, {"d1": 0.561, "d2": 0.875}),
    Result("beta", "d1", 0, {"d1": 0.880, "d2": 0.640}),
    Result("beta", "d1", 1, {"d1": 0.920, "d2": 0.650}),
    Result("gamma", "d1", 0, {"d1": 0.907, "d2": 0.500}),
    Result("gamma", "d2", 0, {"d2": 0.875}),
    Result("alpha", "d1", 0, {"d1": 0.950, "d2": 0.700}, protocol="zedda2024"),
]


def names_with(*specs: object, monkeypatch: pytest.MonkeyPatch) -> Names:
    """Names backed by an in-process plugin that registers ``specs`` (models and data sets)."""

    class Plugin:
        @bench.hookimpl
        def register_models(self):
            return [s for s in specs if isinstance(s, bench.ModelSpec)]

        @bench.hookimpl
        def register_datasets(self):
            return [s for s in specs if isinstance(s, bench.DatasetSpec)]

    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "datasets,models,generators")
    registries = build_registries(discover(extra={"test-plugin": Plugin()}))
    assert not registries.problems, registries.problems
    return Names(registries, paper_order=paper_order())
