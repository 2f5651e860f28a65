"""Do the boards' intervals, paired tests and marks hold their nominal levels? A simulation.

Test splits are drawn as the boards see them (class counts fixed, images resampled within each
class) in two designs: **balanced** (WBC-USID's official test split, 200 per class) and
**LDWBC-like** (LDWBC's class shares, its 20 % test split: 2,089 / 194 / 2,094 / 108 / 45).
Each image has a difficulty shared by every model (logit shift d ~ N(0, 1)); a trained model
(seed) has its own shift a ~ N(0, σ_seed); image i is classified right with probability
sigmoid(β_class + a + d_i), else as another class (a fixed confusion pattern). σ_seed = 0: seeds
differ only by which images they happen to get wrong; σ_seed > 0 makes the population accuracy
of seeds differ by 3.4 points (sd), as measured in the review of issue 27.

The truth is exact (Gauss-Hermite quadrature): a trained model's score on the population of
images, and the recipe's mean score (over seeds). Every interval, test and mark below runs
bench's own code (``resample_weights``, ``replicate_runs``, ``recipe``, ``ranking``) with
1,000 resamples; "before" rows rerun the rules bench used until now (a two-level bootstrap over
seeds then images; marks from the best against each other model, Holm over the column).

    python benchmarks/coverage.py [--replications 1000] [--marks-replications 500]
        [--parts intervals,marks,degenerate] [--designs balanced,LDWBC-like]

Prints a Markdown table (the README's) and, last, the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
ALPHA = 0.05
SEED_SD = 0.034  # sd of the population accuracy over seeds (issue 27)
DIFFICULTY_SD = 1.0
# Per-class logits: accuracies about L .95, M .85, N .97, E .90, B .80 for an average model.
BETA = np.array([3.2, 2.0, 3.8, 2.5, 1.6])
# Where a wrong prediction of each class goes (rows: true L, M, N, E, B; no diagonal).
CONFUSION = np.array([
    [0, .6, .2, .1, .1],
    [.6, 0, .25, .1, .05],
    [.2, .2, 0, .5, .1],
    [.1, .1, .6, 0, .2],
    [.2, .2, .2, .4, 0],
])
DESIGNS = {
    "balanced": np.array([200, 200, 200, 200, 200]),
    "LDWBC-like": np.array([2089, 194, 2094, 108, 45]),
}
METRICS = ("accuracy", "f1")
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(80)  # E over N(0, 1): Σ w f(x) / √(2π)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class Design:
    name: str
    counts: np.ndarray  # test images per class

    @property
    def labels(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def class_accuracy(self, shift: float) -> np.ndarray:
        """Per class: a model's accuracy on the population of images, at model shift a."""
        return (sigmoid(BETA[:, None] + shift + DIFFICULTY_SD * NODES[None, :])
                * WEIGHTS).sum(axis=1)

    def population(self, shift: float) -> dict[str, float]:
        """A trained model's population scores: the metrics of its expected confusion counts."""
        from bench.metrics import features, metrics_from_sums

        q = self.class_accuracy(shift)
        k = len(self.counts)
        confusion = self.counts[:, None] * (1 - q)[:, None] * CONFUSION
        confusion[np.arange(k), np.arange(k)] = self.counts * q
        width = features(np.zeros(1, int), np.zeros(1, int), np.full((1, k), 1 / k)).shape[1]
        sums = np.zeros(width)  # the confusion counts; the other terms are not needed here
        sums[: k * k] = confusion.ravel()
        values = metrics_from_sums(sums, list(range(k)))
        return {m: float(values[m][0]) for m in METRICS}

    def recipe(self, seed_sd: float) -> dict[str, float]:
        """The recipe's mean population scores, over seeds a ~ N(0, seed_sd)."""
        scores = [self.population(seed_sd * x) for x in NODES]
        return {m: float(sum(w * s[m] for w, s in zip(WEIGHTS, scores, strict=True)))
                for m in METRICS}

    def seed_sd_for(self, target: float) -> float:
        """σ of the model shift that makes the population accuracy vary by ``target`` (sd)."""
        def spread(sd: float) -> float:
            values = np.array([self.population(sd * x)["accuracy"] for x in NODES])
            mean = (WEIGHTS * values).sum()
            return float(np.sqrt((WEIGHTS * (values - mean) ** 2).sum()))

        low, high = 0.0, 5.0
        for _ in range(40):
            middle = (low + high) / 2
            low, high = (middle, high) if spread(middle) < target else (low, middle)
        return (low + high) / 2


def predictions(design: Design, difficulty: np.ndarray, shift: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One trained model on one test split: labels, predicted classes, probabilities."""
    labels = design.labels
    k = len(design.counts)
    chance = sigmoid(BETA[labels] + shift + difficulty)
    right = rng.random(len(labels)) < chance
    cumulative = CONFUSION.cumsum(axis=1)[labels]
    wrong = (rng.random(len(labels))[:, None] > cumulative).sum(axis=1)
    predicted = np.where(right, labels, np.minimum(wrong, k - 1))
    confidence = np.clip(chance, 0.25, 0.99)
    probabilities = np.tile(((1 - confidence) / (k - 1))[:, None], (1, k))
    probabilities[np.arange(len(labels)), predicted] = confidence
    return labels, predicted, probabilities


class Runs:
    """Trained models tested on one simulated test split, through bench's resampling code."""

    def __init__(self, design: Design, rng: np.random.Generator, resamples: int):
        from bench.leaderboard.intervals import resample_weights

        self.design, self.rng = design, rng
        self.difficulty = DIFFICULTY_SD * rng.standard_normal(int(design.counts.sum()))
        self.seed = int(rng.integers(2**62))
        self.weights = resample_weights(design.labels, resamples, self.seed)

    def models(self, shifts: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per metric: each model's score (models,) and its replicates (models, resamples)."""
        from bench.leaderboard.intervals import RunPredictions, replicate_runs

        runs = []
        for shift in shifts:
            labels, predicted, probabilities = predictions(self.design, self.difficulty,
                                                           float(shift), self.rng)
            runs.append(RunPredictions((), labels, predicted, probabilities))
        return replicate_runs(runs, self.weights, self.seed)



def cells(points: np.ndarray, replicates: np.ndarray, seeds: int) -> list:
    """CellDraws of consecutive groups of ``seeds`` models."""
    from bench.leaderboard.recipe import CellDraws

    return [CellDraws.from_seeds(points[i:i + seeds], replicates[i:i + seeds])
            for i in range(0, len(points), seeds)]


# --- the rules bench used before (for the "before" rows) ----------------------------------

def two_level(replicates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seeds drawn with replacement per resample, each scored on the resampled images."""
    k, resamples = replicates.shape
    draw = rng.integers(0, k, size=(resamples, k))
    return replicates[draw, np.arange(resamples)[:, None]].mean(axis=1)


def best_against_others(values: np.ndarray, replicates: list[np.ndarray]) -> bool:
    """Before: any model marked significantly worse than the best (Holm over the others)?"""
    from bench.leaderboard.ranking import holm
    from bench.leaderboard.recipe import bootstrap_p

    best = int(np.argmax(np.round(100 * values, 1)))
    others = [i for i in range(len(values)) if i != best]
    pvalues = [bootstrap_p(replicates[best] - replicates[i]) for i in others]
    return any(p < ALPHA for p in holm(pvalues))


# --- the experiments ----------------------------------------------------------------------

def share(hits: list[bool]) -> float:
    return round(100 * float(np.mean(hits)), 1)


def interval_coverage(design: Design, replications: int, resamples: int,
                      rng: np.random.Generator, progress: Callable[[str], None]) -> list[dict]:
    """Intervals (one seed, three seeds, both seed regimes) and paired tests, per metric."""
    from bench.leaderboard.recipe import CellDraws, bootstrap_p, difference, estimate

    seed_sd = design.seed_sd_for(SEED_SD)
    model_truth = design.population(0.0)
    recipe_truth = design.recipe(seed_sd)
    hits: dict[tuple[str, str], list[bool]] = {}
    widths: dict[tuple[str, str], list[float]] = {}

    def record(name: str, metric: str, low: float, high: float, truth: float) -> None:
        hits.setdefault((name, metric), []).append(low <= truth <= high)
        widths.setdefault((name, metric), []).append(100 * (high - low))

    for replication in range(replications):
        if replication % 100 == 0:
            progress(f"{design.name}: intervals {replication}/{replications}")
        runs = Runs(design, rng, resamples)
        varied = seed_sd * rng.standard_normal(6)  # two recipes' 3 seeds, seeds differing
        equal = np.zeros(3)  # three models of one recipe whose seeds do not differ
        every_point, every_replicate = runs.models(np.concatenate([varied, equal]))
        for metric in METRICS:
            points, replicates = every_point[metric], every_replicate[metric]
            first, second, flat = cells(points, replicates, 3)
            # One seed: this trained model (its own shift), and the same interval against the
            # recipe's mean (what a board that says "the recipe" with one seed claims).
            one = estimate(CellDraws.from_seeds(points[6:7], replicates[6:7]), LEVEL)
            record("one seed: this trained model", metric, one.low, one.high,
                   model_truth[metric])
            seeded = estimate(CellDraws.from_seeds(points[:1], replicates[:1]), LEVEL)
            record("one seed, read as the recipe (seeds differ)", metric, seeded.low,
                   seeded.high, recipe_truth[metric])
            for label, cell, truth, reps in (
                    ("three seeds, seeds differ", first, recipe_truth, replicates[:3]),
                    ("three seeds, seeds alike", flat, model_truth, replicates[6:9])):
                result = estimate(cell, LEVEL)
                record(f"{label}: recipe interval", metric, result.low, result.high,
                       truth[metric])
                low, high = np.quantile(two_level(reps, rng), [(1 - LEVEL) / 2,
                                                               (1 + LEVEL) / 2])
                record(f"{label}: before (two-level bootstrap)", metric, low, high,
                       truth[metric])
            # Paired tests under no difference: two equal models (one seed each), and two
            # equal recipes (three seeds each).
            pair = difference(CellDraws.from_seeds(points[6:7], replicates[6:7]),
                              CellDraws.from_seeds(points[7:8], replicates[7:8]), LEVEL)
            hits.setdefault(("paired test, one seed (false rejections)", metric),
                            []).append(pair.p_value < ALPHA)
            recipes = difference(first, second, LEVEL)
            hits.setdefault(("paired test, three seeds (false rejections)", metric),
                            []).append(recipes.p_value < ALPHA)
            before = two_level(replicates[:3], rng) - two_level(replicates[3:6], rng)
            hits.setdefault(("paired test, three seeds: before (false rejections)", metric),
                            []).append(bootstrap_p(before) < ALPHA)
    return [{"design": design.name, "what": name, "metric": metric, "percent": share(values),
             "mean_width_points": round(float(np.mean(widths[(name, metric)])), 2)
             if (name, metric) in widths else None}
            for (name, metric), values in hits.items()]


def mark_errors(design: Design, replications: int, resamples: int, rng: np.random.Generator,
                progress: Callable[[str], None], models: int = 7) -> list[dict]:
    """Seven equally good models: how often is one marked worse than the best?"""
    from bench.leaderboard.ranking import beats, not_worse

    seed_sd = design.seed_sd_for(SEED_SD)
    found: dict[str, list[bool]] = {}
    for replication in range(replications):
        if replication % 50 == 0:
            progress(f"{design.name}: marks {replication}/{replications}")
        runs = Runs(design, rng, resamples)
        shifts = np.concatenate([seed_sd * rng.standard_normal(models * 3), np.zeros(models)])
        every_point, every_replicate = runs.models(shifts)
        points, replicates = every_point["accuracy"], every_replicate["accuracy"]
        recipes = cells(points[: 3 * models], replicates[: 3 * models], 3)
        means = points[: 3 * models].reshape(models, 3).mean(axis=1)
        single = cells(points[3 * models:], replicates[3 * models:], 1)
        one_points = np.array([c.mean for c in single])
        found.setdefault("one seed: before (best against each, Holm)", []).append(
            best_against_others(one_points, [c.image for c in single]))
        found.setdefault("one seed: all pairs, Holm", []).append(
            not all(not_worse(beats(single, alpha=ALPHA))))
        hierarchical = [two_level(replicates[3 * i:3 * i + 3], rng) for i in range(models)]
        found.setdefault("three seeds: before (best against each, Holm, two-level bootstrap)",
                         []).append(best_against_others(means, hierarchical))
        found.setdefault("three seeds: all pairs, Holm (recipe tests)", []).append(
            not all(not_worse(beats(recipes, alpha=ALPHA))))
    return [{"design": design.name, "what": f"marks, {models} equal models, {name} "
             "(false marks)", "metric": "accuracy", "percent": share(values),
             "mean_width_points": None} for name, values in found.items()]


def degenerate(resamples: int, replications: int, rng: np.random.Generator) -> list[dict]:
    """A classifier that predicts one class, and a near-perfect one (errors 1 in 500)."""
    from bench.leaderboard.intervals import RunPredictions, replicate_runs, resample_weights
    from bench.leaderboard.recipe import CellDraws, estimate
    from bench.metrics import features, metrics_from_sums

    design = Design("balanced", DESIGNS["balanced"])
    labels = design.labels
    constant = np.full(len(labels), 2)
    probabilities = np.full((len(labels), 5), 0.1)
    probabilities[:, 2] = 0.6
    weights = resample_weights(labels, resamples, 7)
    points, reps = replicate_runs([RunPredictions((), labels, constant, probabilities)],
                                  weights, 7)
    one = estimate(CellDraws.from_seeds(points["accuracy"], reps["accuracy"]), LEVEL)
    rows = [{"design": "balanced", "what": "one class predicted: interval (points)",
             "metric": "accuracy", "percent": round(100 * one.value, 1),
             "interval": [round(100 * one.low, 2), round(100 * one.high, 2)],
             "mean_width_points": round(100 * (one.high - one.low), 2)}]
    hits: dict[str, list[bool]] = {}
    widths: dict[str, list[float]] = {}
    for _ in range(replications):
        right = rng.random(len(labels)) > 0.002
        predicted = np.where(right, labels, (labels + 1) % 5)
        seed = int(rng.integers(2**62))
        weights = resample_weights(labels, resamples, seed)
        run = RunPredictions((), labels, predicted, probabilities)
        points, reps = replicate_runs([run], weights, seed)
        plain = metrics_from_sums(weights @ features(labels, predicted, probabilities),
                                  list(range(5)))["accuracy"]  # no boundary rule
        for name, replicates in (("one-seed interval", reps["accuracy"][0]),
                                 ("before (bootstrap alone)", plain)):
            low, high = np.quantile(replicates, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
            hits.setdefault(name, []).append(low <= 0.998 <= high)
            widths.setdefault(name, []).append(100 * (high - low))
    for name, found in hits.items():
        rows.append({"design": "balanced", "what": f"near-perfect model (1 error in 500): "
                     f"{name}", "metric": "accuracy", "percent": share(found),
                     "mean_width_points": round(float(np.mean(widths[name])), 2)})
    return rows


def markdown(rows: list[dict], replications: int, marks: int) -> str:
    lines = ["| design | what | metric | % (nominal 95 % coverage, 5 % errors) | "
             "mean width (points) |", "| --- | --- | --- | --: | --: |"]
    for row in rows:
        width = "" if row["mean_width_points"] is None else f"{row['mean_width_points']:.2f}"
        value = f"{row['percent']:.1f}"
        if "interval" in row:
            value += f" [{row['interval'][0]:.2f}, {row['interval'][1]:.2f}]"
        lines.append(f"| {row['design']} | {row['what']} | {row['metric']} | {value} | {width} |")
    lines.append("")
    lines.append(f"{replications:,} simulated test splits per design ({marks:,} for the marks); "
                 "coverage: intervals holding the truth; errors: false rejections or marks.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--marks-replications", type=int, default=500)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    parser.add_argument("--parts", default="intervals,marks,degenerate",
                        help="Which experiments to run (comma list).")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    os.environ.setdefault("BENCH_DISABLE_PLUGINS", "datasets,models,generators")
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    def progress(text: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {text}", flush=True)

    rows: list[dict] = []
    if "intervals" in parts:
        for name in args.designs.split(","):
            design = Design(name, DESIGNS[name])
            rows += interval_coverage(design, args.replications, args.resamples, rng, progress)
    if "marks" in parts:
        rows += mark_errors(Design("balanced", DESIGNS["balanced"]), args.marks_replications,
                            args.resamples, rng, progress)
    if "degenerate" in parts:
        rows += degenerate(args.resamples, args.replications, rng)
    print(markdown(rows, args.replications, args.marks_replications))
    print(json.dumps({"replications": args.replications,
                      "marks_replications": args.marks_replications,
                      "resamples": args.resamples, "level": LEVEL, "alpha": ALPHA,
                      "seed_sd_points": 100 * SEED_SD, "seconds": round(
                          time.perf_counter() - started, 1), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
