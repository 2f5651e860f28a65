"""`bench compare` as functions: two cells that differ in one thing, paired on the same images.

- ``compare_models``: two models trained on one source, tested on one target;
- ``compare_sources``: one model trained on two sources, tested on each target given; the
  keyword ``other`` tests each source's model on the other source's test split, paired by
  image key (WBC-USID-B and -C share their central cells under the same file names).

Images are paired by their key (the path in the split manifest), resampled within each class,
and every run of both cells sees the same resamples. Several seeds per cell make the
difference one of recipes (``recipe``: Welch's t over seeds plus the test images' shared
variation); with one seed on either side it is one of the trained models at hand (paired
bootstrap). McNemar's exact test on right/wrong per image is given per pair of seeds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.leaderboard.boards import store_groups
from bench.leaderboard.groups import empty_store_error, expand_keywords, resolve_filter
from bench.leaderboard.intervals import (
    IntervalSettings,
    RunPredictions,
    replicate_runs,
    resample_weights,
    split_predictions,
    stable_seed,
)
from bench.leaderboard.mcnemar import McNemar, mcnemar_exact
from bench.leaderboard.recipe import UNIT_TEXT, CellDraws, Unit, difference
from bench.metrics import METRICS

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.display_names import Names
    from bench.leaderboard.model import ScoreGroup
    from bench.store import ResultsStore

CellKey = tuple[str, str, str]  # (model, source, target)
OTHER = "other"  # --target keyword: each source's model on the other source's test split


@dataclasses.dataclass(frozen=True)
class MetricDifference:
    metric: str
    value_a: float  # percent, mean over seeds
    value_b: float
    difference: float  # A - B, percent
    ci_low: float
    ci_high: float
    p_value: float  # two-sided: Welch's t over recipes, or the paired bootstrap over images
    df: float | None = None  # Welch-Satterthwaite degrees of freedom (recipes only)


@dataclasses.dataclass(frozen=True)
class SeedPair:
    seed_a: int
    seed_b: int
    run_a: str
    run_b: str
    images: int
    mcnemar: McNemar


@dataclasses.dataclass(frozen=True)
class Side:
    """One cell of a comparison and the runs (seeds) behind it."""

    model: str
    source: str
    target: str
    seeds: tuple[int, ...]

    def describe(self) -> str:
        return f"{self.model} trained on {self.source}, tested on {self.target}"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Two cells paired on the same test images (by image key)."""

    a: Side
    b: Side
    protocol: str
    protocol_hash: str
    level: float
    resamples: int
    images: int  # test images paired
    unpaired: int  # images of either target without a partner in the other (crossed targets)
    unit: Unit  # what the difference is about: the recipes, or the trained models at hand
    differences: tuple[MetricDifference, ...]
    pairs: tuple[SeedPair, ...]

    @property
    def names(self) -> tuple[str, str]:
        """What tells A from B, for headers: the model, the source, or both."""
        if self.a.model != self.b.model and self.a.source == self.b.source:
            return self.a.model, self.b.model
        if self.a.model == self.b.model:
            return f"from {self.a.source}", f"from {self.b.source}"
        return f"{self.a.model} from {self.a.source}", f"{self.b.model} from {self.b.source}"

    @property
    def unit_text(self) -> str:
        if self.unit == "recipe":
            return (f"{UNIT_TEXT['recipe']}s ({len(self.a.seeds)} and {len(self.b.seeds)} "
                    "seeds: Welch's t over seeds plus the test images' shared variation)")
        return ("these trained models (a cell with one seed: paired bootstrap over the test "
                "images; a recipe-level comparison needs 2 or more seeds on both sides)")

    def to_dict(self) -> dict[str, Any]:
        """Plain data; percentages to 4 decimals, as boards round them.

        So the output does not churn on float noise (BLAS summing in another order); the
        p-values stay as computed (McNemar's are exact functions of counts).
        """
        data = dataclasses.asdict(self)
        data["unit_text"] = self.unit_text
        for row in data["differences"]:
            for key in ("value_a", "value_b", "difference", "ci_low", "ci_high"):
                row[key] = round(row[key], 4)
            if row["df"] is not None:
                row["df"] = round(row["df"], 2) if np.isfinite(row["df"]) else None
        return data


# --- pairing and resampling ------------------------------------------------------------------

def _aligned(runs: dict[str, RunPredictions], keys: Sequence[str]) -> dict[str, RunPredictions]:
    """The runs' predictions restricted to ``keys``, in that order."""
    out = {}
    for run_id, run in runs.items():
        index = {path: i for i, path in enumerate(run.paths)}
        take = np.array([index[key] for key in keys], dtype=np.int64)
        out[run_id] = RunPredictions(tuple(keys), run.labels[take], run.predicted[take],
                                     run.probabilities[take])
    return out


def _common_keys(first: RunPredictions, second: RunPredictions, a: CellKey, b: CellKey
                 ) -> list[str]:
    """Image keys both targets have, with the same label; a clear error when none or clashing."""
    labels_b = dict(zip(second.paths, second.labels.tolist(), strict=True))
    common = [(path, label) for path, label in zip(first.paths, first.labels.tolist(),
                                                   strict=True) if path in labels_b]
    if not common:
        raise DataError(f"the test splits of {a[2]} and {b[2]} share no image key, so the two "
                        "cells cannot be paired by image. Compare them on one target instead.")
    clashes = [path for path, label in common if labels_b[path] != label]
    if clashes:
        raise DataError(f"{len(clashes)} image keys of {a[2]} and {b[2]} carry different labels "
                        f"(first: {clashes[0]}); they are not the same cells, so they cannot be "
                        "paired. Compare on one target instead.")
    return [path for path, _ in common]


# --- the comparison --------------------------------------------------------------------------

def _group_of(frame: pd.DataFrame, names: Names, cells: Sequence[CellKey],
              protocol: str | None) -> ScoreGroup:
    """The one comparable group (protocol, init, splits) holding every cell."""
    models = sorted({c[0] for c in cells})
    sources = sorted({c[1] for c in cells})
    targets = sorted({c[2] for c in cells})
    candidates = store_groups(frame, names, protocol=protocol, models=models, sources=sources,
                              targets=targets)
    groups = [g for g in candidates
              if {tuple(c) for c in cells} <= set(map(tuple, g.cross[["model", "source",
                                                                      "target"]].to_numpy()))]
    wanted = " and ".join(f"{m} trained on {s}, tested on {t}" for m, s, t in cells)
    if not groups:
        raise DataError(f"no results of {wanted} under one protocol and split; `bench "
                        "leaderboard --cross` shows what there is.")
    if len(groups) > 1:
        listing = ", ".join(f"{g.protocol} ({g.protocol_hash[:8]})" for g in groups)
        raise DataError(f"these cells have results under several protocols or splits "
                        f"({listing}); choose one with --protocol.")
    return groups[0]


def _seed_runs(group: ScoreGroup, cell: CellKey) -> list[tuple[int, str]]:
    rows = group.cross[(group.cross["model"] == cell[0]) & (group.cross["source"] == cell[1])
                       & (group.cross["target"] == cell[2])]
    return sorted({(int(s), str(r)) for s, r in zip(rows["seed"], rows["run_id"], strict=True)})


def _pair_runs(runs_a: Sequence[tuple[int, str]], runs_b: Sequence[tuple[int, str]]
               ) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """Pair runs by equal seed; without a common seed, in seed order."""
    seeds_b = dict(runs_b)
    common = [(a, (a[0], seeds_b[a[0]])) for a in sorted(runs_a) if a[0] in seeds_b]
    return common or list(zip(sorted(runs_a), sorted(runs_b)))


def compare_cells(
    store: ResultsStore, names: Names, a: CellKey, b: CellKey, *,
    protocol: str | None = None, metrics: Sequence[str] = (),
    settings: IntervalSettings | None = None, frame: pd.DataFrame | None = None,
) -> Comparison:
    """A against B on the test images both were tested on, every metric, paired by image."""
    settings = settings or IntervalSettings()
    frame = store.scores() if frame is None else frame
    group = _group_of(frame, names, [a, b], protocol)
    seeds = {a: _seed_runs(group, a), b: _seed_runs(group, b)}
    predictions = split_predictions(store.prediction_arrays(
        [run for runs in seeds.values() for _, run in runs]))
    runs: dict[CellKey, dict[str, RunPredictions]] = {}
    for cell in (a, b):
        have = {run: predictions[(run, cell[2])] for _, run in seeds[cell]
                if (run, cell[2]) in predictions}
        if not have:
            raise DataError(f"no stored test predictions for {cell[0]} trained on {cell[1]}, "
                            f"tested on {cell[2]}; a paired comparison needs them. Re-run that "
                            "cell with this bench.")
        seeds[cell] = [(s, r) for s, r in seeds[cell] if r in have]
        runs[cell] = have
    first = {cell: next(iter(runs[cell].values())) for cell in (a, b)}
    keys = _common_keys(first[a], first[b], a, b)
    for cell in (a, b):
        for run_id, run in runs[cell].items():
            if run.paths != first[cell].paths:
                raise DataError(f"runs of {cell[0]} from {cell[1]} were tested on different "
                                f"images of {cell[2]} (run {run_id}); the store is "
                                "inconsistent. Re-run that cell.")
        runs[cell] = _aligned(runs[cell], keys)
    labels = next(iter(runs[a].values())).labels
    fingerprints = dict(group.fingerprints)
    if a[2] == b[2]:  # the board's own resamples of this target
        seed = stable_seed(settings.seed, a[2], fingerprints.get(a[2], ""))
    else:
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
        seed = stable_seed(settings.seed, a[2], b[2], digest)
    weights = resample_weights(labels, settings.resamples, seed)
    points, draws = {}, {}
    for cell in (a, b):
        points[cell], draws[cell] = replicate_runs([runs[cell][r] for _, r in seeds[cell]],
                                                   weights, seed)
    chosen = list(metrics) or [m for m in METRICS if m in points[a]]
    unknown = [m for m in chosen if m not in points[a]]
    if unknown:
        raise DataError(f"no metric {unknown[0]!r} in the predictions; known here: "
                        + ", ".join(sorted(points[a])))
    differences = []
    unit: Unit = "model"
    for metric in chosen:
        cell_a = CellDraws.from_seeds(points[a][metric], draws[a][metric])
        cell_b = CellDraws.from_seeds(points[b][metric], draws[b][metric])
        d = difference(cell_a, cell_b, settings.level)
        unit = d.unit
        differences.append(MetricDifference(
            metric, 100 * cell_a.mean, 100 * cell_b.mean, 100 * d.value, 100 * d.low,
            100 * d.high, d.p_value, d.df,
        ))
    pairs = []
    for (seed_a, run_a), (seed_b, run_b) in _pair_runs(seeds[a], seeds[b]):
        pa, pb = runs[a][run_a], runs[b][run_b]
        pairs.append(SeedPair(seed_a, seed_b, run_a, run_b, len(keys), mcnemar_exact(
            pa.predicted == pa.labels, pb.predicted == pb.labels)))
    unpaired = len(first[a].paths) + len(first[b].paths) - 2 * len(keys)
    return Comparison(
        Side(*a, tuple(s for s, _ in seeds[a])), Side(*b, tuple(s for s, _ in seeds[b])),
        group.protocol, group.protocol_hash, settings.level, settings.resamples, len(keys),
        unpaired, unit, tuple(differences), tuple(pairs),
    )


def _resolve_datasets(frame: pd.DataFrame, names: Names, wanted: Sequence[str]) -> list[str]:
    return resolve_filter(wanted, [*frame["source"], *frame["target"]], "dataset", names)


def compare_models(
    store: ResultsStore, names: Names, model_a: str, model_b: str, source: str, target: str, *,
    protocol: str | None = None, metrics: Sequence[str] = (),
    settings: IntervalSettings | None = None,
) -> Comparison:
    """Two models trained on one source, on the same test images of ``target``."""
    frame = store.scores()
    if frame.empty:
        raise empty_store_error(store.path)
    a, b = resolve_filter([model_a, model_b], frame["model"], "model", names)
    if a == b:
        raise DataError(f"--models names {a} twice; give two different models.")
    source, target = _resolve_datasets(frame, names, [source, target])
    return compare_cells(store, names, (a, source, target), (b, source, target),
                         protocol=protocol, metrics=metrics, settings=settings, frame=frame)


def compare_sources(
    store: ResultsStore, names: Names, model: str, source_a: str, source_b: str,
    targets: Sequence[str], *, protocol: str | None = None, metrics: Sequence[str] = (),
    settings: IntervalSettings | None = None,
) -> list[Comparison]:
    """One model trained on two sources, per target: paired on that target's test images.

    ``targets`` are data set names, ``all`` (every benchmark target both cells were tested
    on) or ``other`` (A's model on B's test split against B's model on A's, paired by key).
    """
    frame = store.scores()
    if frame.empty:
        raise empty_store_error(store.path)
    (model,) = resolve_filter([model], frame["model"], "model", names)
    a, b = _resolve_datasets(frame, names, [source_a, source_b])
    if a == b:
        raise DataError(f"--sources names {a} twice; give two different training data sets.")
    if not targets:
        raise DataError("--target is needed: a data set, several (A,B), `all`, or `other` "
                        "(each model on the other source's test split).")
    cells: list[tuple[CellKey, CellKey]] = []
    named = [t for t in targets if t.lower() != OTHER]
    if len(named) < len(targets):
        cells.append(((model, a, b), (model, b, a)))
    mine = frame[frame["model"] == model]
    tested = [set(mine[mine["source"] == s]["target"]) for s in (a, b)]
    for target in expand_keywords(named, sorted(tested[0] & tested[1]), names):
        (target,) = _resolve_datasets(frame, names, [target])
        cells.append(((model, a, target), (model, b, target)))
    return [compare_cells(store, names, first, second, protocol=protocol, metrics=metrics,
                          settings=settings, frame=frame)
            for first, second in dict.fromkeys(cells)]
