"""`bench compare` as a function: two models on one source and target, paired per image.

The paired bootstrap comes from the board's own resamples (``intervals``), McNemar's exact test
from the stored predictions of each pair of seeds (``paired``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.leaderboard.boards import store_groups
from bench.leaderboard.groups import empty_store_error, resolve_filter
from bench.leaderboard.intervals import IntervalSettings, group_bootstraps, split_predictions
from bench.leaderboard.paired import McNemar, bootstrap_p, mcnemar_exact
from bench.metrics import METRICS

if TYPE_CHECKING:
    from bench.leaderboard.names import Names
    from bench.store import ResultsStore


@dataclasses.dataclass(frozen=True)
class MetricDifference:
    metric: str
    value_a: float  # percent, mean over seeds (as the boards show it)
    value_b: float
    difference: float  # A - B, percent
    ci_low: float
    ci_high: float
    p_value: float  # paired bootstrap, two-sided


@dataclasses.dataclass(frozen=True)
class SeedPair:
    seed_a: int
    seed_b: int
    run_a: str
    run_b: str
    images: int
    mcnemar: McNemar


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Two models on one source and target, paired on the same test images."""

    model_a: str
    model_b: str
    source: str
    target: str
    protocol: str
    protocol_hash: str
    level: float
    resamples: int
    differences: tuple[MetricDifference, ...]
    pairs: tuple[SeedPair, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data; percentages to 4 decimals, as boards round them.

        So the output does not churn on float noise (BLAS summing in another order); the
        p-values are exact functions of counts and stay as computed.
        """
        data = dataclasses.asdict(self)
        for row in data["differences"]:
            for key in ("value_a", "value_b", "difference", "ci_low", "ci_high"):
                row[key] = round(row[key], 4)
        return data


def _pair_runs(runs_a: Sequence[tuple[int, str]], runs_b: Sequence[tuple[int, str]]
               ) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """Pair runs by equal seed; without a common seed, in seed order."""
    seeds_b = dict(runs_b)
    common = [(a, (a[0], seeds_b[a[0]])) for a in sorted(runs_a) if a[0] in seeds_b]
    return common or list(zip(sorted(runs_a), sorted(runs_b)))


def compare_models(
    store: ResultsStore, names: Names, model_a: str, model_b: str, source: str, target: str, *,
    protocol: str | None = None, metrics: Sequence[str] = (),
    settings: IntervalSettings | None = None,
) -> Comparison:
    """Paired bootstrap difference of each metric, and McNemar's exact test per seed pair."""
    settings = settings or IntervalSettings()
    frame = store.scores()
    if frame.empty:
        raise empty_store_error(store.path)
    a, b = resolve_filter([model_a, model_b], frame["model"], "model", names)
    if a == b:
        raise DataError(f"--models names {a} twice; give two different models.")
    datasets = [*frame["source"], *frame["target"]]
    source, target = resolve_filter([source, target], datasets, "dataset", names)
    groups = [
        g for g in store_groups(frame, names, protocol=protocol, models=[a, b], sources=[source],
                                targets=[target])
        if {a, b} <= set(g.cross["model"])
    ]
    if not groups:
        raise DataError(f"no results of both {a} and {b} trained on {source} and tested on "
                        f"{target} under one protocol and split; `bench leaderboard --cross "
                        f"--sources {source} --targets {target}` shows what there is.")
    if len(groups) > 1:
        listing = ", ".join(f"{g.protocol} ({g.protocol_hash[:8]})" for g in groups)
        raise DataError(f"both models have results under several protocols or splits "
                        f"({listing}); choose one with --protocol.")
    group = groups[0]
    bootstrap = group_bootstraps([group], store, settings)[group.slug]
    key_a, key_b = (a, source, target), (b, source, target)
    missing = [m for m, k in ((a, key_a), (b, key_b)) if k not in bootstrap.replicates]
    if missing:
        raise DataError(f"no stored test predictions for {', '.join(missing)} on {target}; "
                        "a paired comparison needs them. Re-run those cells with this bench.")
    chosen = list(metrics) or [m for m in METRICS if bootstrap.get(key_a, m) is not None]
    stored = group.cross[group.cross["metric"].isin(chosen)]
    means = stored.groupby(["model", "metric"])["value"].mean().to_dict()
    tail = (1 - settings.level) / 2
    differences = []
    for metric in chosen:
        rep_a, rep_b = bootstrap.get(key_a, metric), bootstrap.get(key_b, metric)
        if rep_a is None or rep_b is None:
            raise DataError(f"no metric {metric!r} for both models; known here: "
                            + ", ".join(sorted(bootstrap.replicates[key_a])))
        delta = rep_a - rep_b
        low, high = np.quantile(delta, [tail, 1 - tail])
        # Boards show stored scores; per-class ones are only in the predictions.
        value_a = means.get((a, metric), float(np.mean(rep_a)))
        value_b = means.get((b, metric), float(np.mean(rep_b)))
        differences.append(MetricDifference(
            metric, 100 * value_a, 100 * value_b, 100 * (value_a - value_b),
            100 * float(low), 100 * float(high), bootstrap_p(delta),
        ))
    runs = group.cross[["model", "seed", "run_id"]].drop_duplicates()
    seeds = {m: [(int(s), r) for _, s, r in runs[runs["model"] == m].itertuples(index=False)
                 if r in bootstrap.runs[(m, source, target)]] for m in (a, b)}
    predictions = split_predictions(store.prediction_arrays([r for v in seeds.values()
                                                          for _, r in v]))
    pairs = []
    for (seed_a, run_a), (seed_b, run_b) in _pair_runs(seeds[a], seeds[b]):
        pa, pb = predictions[(run_a, target)], predictions[(run_b, target)]
        pairs.append(SeedPair(seed_a, seed_b, run_a, run_b, len(pa.labels), mcnemar_exact(
            pa.predicted == pa.labels, pb.predicted == pb.labels)))
    return Comparison(a, b, source, target, group.protocol, group.protocol_hash,
                      settings.level, settings.resamples, tuple(differences), tuple(pairs))
