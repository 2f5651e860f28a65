"""Paired comparisons on the same test images: bootstrap differences, McNemar, Holm.

Two models tested on one target share its bootstrap resamples (see ``intervals``), so the
difference of their replicates is the paired bootstrap of the difference. McNemar's exact test
looks only at the images where exactly one of the two is right.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.leaderboard.intervals import Bootstrap, IntervalSettings
from bench.leaderboard.model import Row, Table
from bench.leaderboard.tables import displayed

if TYPE_CHECKING:
    from bench.leaderboard.names import Names
    from bench.store import ResultsStore

DEFAULT_ALPHA = 0.05


def bootstrap_p(difference: np.ndarray) -> float:
    """Two-sided p-value of "no difference" from paired replicates of a difference.

    Twice the smaller tail beyond zero, with the +1 correction so that a finite number of
    resamples never claims p = 0 (Davison and Hinkley 1997).
    """
    difference = np.asarray(difference)
    tails = min(int((difference <= 0).sum()), int((difference >= 0).sum()))
    return min(1.0, 2 * (tails + 1) / (len(difference) + 1))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), in the order given."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclasses.dataclass(frozen=True)
class McNemar:
    only_a: int  # images A classifies correctly and B does not
    only_b: int
    p_value: float


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """Exact McNemar test: the discordant pairs are Binomial(n, 1/2) under no difference.

    Computed with integers (no floating-point tail sums), so it equals the binomial test.
    """
    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((~correct_a & correct_b).sum())
    n, low = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return McNemar(only_a, only_b, 1.0)
    tail = sum(math.comb(n, k) for k in range(low + 1))
    return McNemar(only_a, only_b, min(1.0, 2 * tail / 2**n))


def _cell_key(table: Table, row: Row, target: str) -> tuple[str, str, str]:
    names = dict(zip(table.index_keys, row.key, strict=True))
    return names["model"], names.get("source", target), target


def significance_marks(
    table: Table, bootstrap: Bootstrap, alpha: float = DEFAULT_ALPHA
) -> Table:
    """Mark, per column, the best value and every row not significantly worse than it.

    Each other row is tested against the best with the paired bootstrap of the column's
    metric; Holm's correction runs over the rows of the column. A column where some ranked
    cell has no stored predictions keeps the paper's marks, and a note says so.
    """
    marks: dict[tuple[int, str], str | None] = {}
    kept_paper = []
    for column in table.columns:
        if column.better is None or column.kind != "score" or not column.metric:
            continue
        ranked = [
            (i, value) for i, row in enumerate(table.rows)
            if not (value := row.value(column)).missing and not value.baseline
        ]
        if not ranked:
            continue
        replicates = {
            i: bootstrap.get(_cell_key(table, table.rows[i], column.target), column.metric)
            for i, _ in ranked
        }
        if any(r is None for r in replicates.values()):
            kept_paper.append(column.label if not column.group
                              else f"{column.group} {column.label}")
            continue
        sign = 1.0 if column.better == "higher" else -1.0
        best_shown = max(sign * displayed(v.mean) for _, v in ranked)  # type: ignore[arg-type]
        best = [i for i, v in ranked if sign * displayed(v.mean) == best_shown]  # type: ignore[arg-type]
        others = [i for i, _ in ranked if i not in best]
        pvalues = [bootstrap_p(sign * (replicates[best[0]] - replicates[i])) for i in others]
        for i in best:
            marks[(i, column.key)] = "best"
        for i, adjusted in zip(others, holm(pvalues), strict=True):
            marks[(i, column.key)] = "not_worse" if adjusted >= alpha else None
    rows = []
    for i, row in enumerate(table.rows):
        cells = dict(row.cells)
        for key, value in row.cells.items():
            if (i, key) in marks:
                cells[key] = dataclasses.replace(value, mark=marks[(i, key)])  # type: ignore[arg-type]
        rows.append(dataclasses.replace(row, cells=cells))
    notes = [
        f"Not significantly worse: paired bootstrap of the difference to the best on the same "
        f"test images, Holm-corrected over the column, α = {alpha:g}."
    ]
    if kept_paper:
        notes.append("No stored test predictions for some cells of " + ", ".join(kept_paper)
                     + ": those columns keep the best/second marks.")
    return dataclasses.replace(table, rows=tuple(rows), marks="significance",
                               notes=(*table.notes, *notes))


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
    from bench.errors import DataError
    from bench.leaderboard.boards import store_groups
    from bench.leaderboard.groups import empty_store_error, resolve_filter
    from bench.leaderboard.intervals import group_bootstraps, split_predictions
    from bench.leaderboard.metrics import KNOWN_METRICS

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
    chosen = list(metrics) or [m for m in KNOWN_METRICS if bootstrap.get(key_a, m) is not None]
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
