"""Intervals and paired tests over the right unit: one trained model, or the recipe.

With one seed per cell the only variation measured is that of the test images, and the
interval is about *this trained model*: the percentile bootstrap over the test images.

With several seeds a board's claim is about the recipe (what training the architecture on the
source gives, over training randomness), and seeds differ. The seeds' scores are k draws from
the recipe, all tested on the same images, so the variance of their mean is

    V = s² / k  +  C

s² the sample variance of the seeds' scores, C the part of the test images' variation that
all seeds share: the mean covariance, between two seeds, of their paired image-bootstrap
replicates. s² already holds each seed's own test noise; the bootstrap adds only what the
seeds share (a two-level bootstrap, seeds then images, counts the image noise twice: about
20 % too wide with 3 seeds). s²/k is never taken below that own test noise (U, from the
bootstrap): seeds that happen to agree do not make the mean surer than its test images allow.
The interval is mean ± t·√V, t with the seeds' k - 1 degrees of freedom (∞ where the floor U
holds: the interval is then the test images' alone).

A difference between two cells tested on the same images: V = s²_A/k_A + s²_B/k_B + C_AB,
C_AB the shared part of the paired image-bootstrap variance of the difference; a two-sided
Welch t test (Welch-Satterthwaite degrees of freedom from the two seed terms, k - 1 each even
where the floor holds). When either cell has one seed, the comparison is of the trained models
at hand, by the paired bootstrap of the difference (``bootstrap_p``).

``benchmarks/coverage.py`` measures the coverage of all of these on simulated designs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Unit = Literal["model", "recipe"]
UNIT_TEXT: dict[str, str] = {"model": "this trained model", "recipe": "the recipe"}
RECIPE_SEEDS = 2  # seeds needed to speak of the recipe at all
TEST_SEEDS = 3  # seeds per cell that significance marks and tiers need


@dataclass(frozen=True)
class CellDraws:
    """One cell's metric: its seeds' scores and the image bootstrap of their mean.

    ``image`` holds, per resample, the mean over seeds of each seed's score on the resampled
    test images (every cell of a target sees the same resamples, so two cells' replicates are
    paired). ``unshared`` is the part of ``image``'s variance that the seeds do not share.
    """

    points: np.ndarray  # (seeds,) each seed's score on the whole test split
    image: np.ndarray  # (resamples,)
    unshared: float = 0.0

    @classmethod
    def from_seeds(cls, points: np.ndarray, replicates: np.ndarray) -> CellDraws:
        """From each seed's score (k,) and its image-bootstrap replicates (k, resamples)."""
        points = np.asarray(points, dtype=float)
        replicates = np.atleast_2d(np.asarray(replicates, dtype=float))
        image = replicates.mean(axis=0)
        k = len(points)
        if k < 2:
            return cls(points, image, 0.0)
        each = float(np.mean(replicates.var(axis=1, ddof=1)))  # a seed's own image variance
        shared = (k * float(image.var(ddof=1)) - each) / (k - 1)  # mean covariance of seeds
        return cls(points, image, max(0.0, (each - shared) / k))

    @property
    def seeds(self) -> int:
        return len(self.points)

    @property
    def mean(self) -> float:
        return float(self.points.mean())

    @property
    def spread(self) -> float:
        """s²/k: the variance of the seed mean as the seeds' spread shows it."""
        return float(self.points.var(ddof=1)) / self.seeds if self.seeds > 1 else 0.0

    @property
    def seed_variance(self) -> float:
        """s²/k, but never below the test noise the seeds do not share (``unshared``).

        s²/k estimates the seeds' own test noise plus their training variation, which cannot
        be negative: seeds that happen to agree (two seeds both at 89.3 %) do not make the
        mean surer than its test images allow (the truncated variance-components estimate).
        """
        return max(self.spread, self.unshared)

    def seed_df(self, *, test: bool = False) -> float:
        """Degrees of freedom of ``seed_variance``: k - 1 from the seeds, ∞ from the floor.

        A test keeps k - 1 at the floor too: seeds that happen to agree must not make two
        recipes look different. With ∞ there, seven equal recipes of 3 seeds got 7.7 % false
        marks at α = 5 % in ``benchmarks/coverage.py``; with k - 1, 1.7 %. An interval at the
        floor is the test images' own (∞), which kept its coverage at 95-97 % where seeds do not
        differ (k - 1 there: 99 %).
        """
        return self.seeds - 1.0 if test or self.spread > self.unshared else math.inf

    @property
    def unit(self) -> Unit:
        return "recipe" if self.seeds >= RECIPE_SEEDS else "model"

    def replicates(self, seed: int) -> np.ndarray:
        """Draws of the cell's score with the interval's variance, paired with other cells.

        The image replicates, plus (several seeds) normal noise for what the seeds' spread
        adds beyond their own test noise; for ranks and τ resampled together across cells.
        """
        extra = self.seed_variance - self.unshared  # beyond the image replicates' variance
        if self.unit == "model" or extra <= 0:
            return self.image
        noise = np.random.default_rng(seed).standard_normal(len(self.image))
        return self.image + math.sqrt(extra) * noise


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    unit: Unit
    seeds: int
    df: float | None = None  # degrees of freedom of a recipe interval


@dataclass(frozen=True)
class Difference:
    value: float  # a - b
    low: float
    high: float
    p_value: float  # two-sided, of "no difference"
    unit: Unit
    df: float | None = None


def _stats():  # noqa: ANN202 - scipy.stats, imported when first needed (seconds to load)
    from scipy import stats

    return stats


def _t_quantile(level: float, df: float) -> float:
    return float(_stats().t.ppf((1 + level) / 2, df))


def _percentile(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _welch_df(cells: list[CellDraws], *, test: bool = False) -> float:
    """Welch-Satterthwaite over the seed terms alone (each with ``seed_df``).

    The shared test term C is left out of the numerator, which keeps a single cell at k - 1:
    counting it (Satterthwaite proper) raises the degrees of freedom and, with 3 seeds, lowered
    the coverage to 91-92 % in ``benchmarks/coverage.py``; k - 1 gave 92-94 %.
    """
    dfs = [c.seed_df(test=test) for c in cells]
    denominator = sum(c.seed_variance**2 / df for c, df in zip(cells, dfs, strict=True)
                      if math.isfinite(df))
    numerator = sum(c.seed_variance for c in cells) ** 2
    return math.inf if denominator == 0 else numerator / denominator


def estimate(cell: CellDraws, level: float,
             bounds: tuple[float, float] = (-math.inf, math.inf)) -> Estimate:
    """The interval of a cell: over the test images (one seed) or over the recipe."""
    if cell.unit == "model":
        low, high = _percentile(cell.image, level)
        return Estimate(cell.mean, low, high, "model", cell.seeds)
    shared = max(0.0, float(cell.image.var(ddof=1)) - cell.unshared)
    variance = cell.seed_variance + shared
    df = _welch_df([cell])
    half = _t_quantile(level, df) * math.sqrt(variance)
    return Estimate(cell.mean, max(bounds[0], cell.mean - half),
                    min(bounds[1], cell.mean + half), "recipe", cell.seeds, df)


def bootstrap_p(difference: np.ndarray) -> float:
    """Two-sided p-value of "no difference" from paired replicates of a difference.

    Twice the smaller tail beyond zero, with the +1 correction so that a finite number of
    resamples never claims p = 0 (Davison and Hinkley 1997).
    """
    difference = np.asarray(difference)
    tails = min(int((difference <= 0).sum()), int((difference >= 0).sum()))
    return min(1.0, 2 * (tails + 1) / (len(difference) + 1))


def difference(a: CellDraws, b: CellDraws, level: float) -> Difference:
    """A minus B, paired on the same test images; over the recipes when both have seeds."""
    value = a.mean - b.mean
    paired = a.image - b.image
    if a.unit == "model" or b.unit == "model":
        low, high = _percentile(paired, level)
        return Difference(value, low, high, bootstrap_p(paired), "model")
    shared = max(0.0, float(paired.var(ddof=1)) - a.unshared - b.unshared)
    variance = a.seed_variance + b.seed_variance + shared
    df = _welch_df([a, b], test=True)
    if variance == 0:
        return Difference(value, value, value, float(value == 0), "recipe", df)
    scale = math.sqrt(variance)
    half = _t_quantile(level, df) * scale
    p_value = float(2 * _stats().t.sf(abs(value) / scale, df))
    return Difference(value, value - half, value + half, p_value, "recipe", df)
