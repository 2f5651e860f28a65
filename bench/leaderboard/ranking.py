"""Which models of a column can be told apart: all-pairs paired tests, Holm, tiers, rank intervals.

Every pair of models in a column is compared on the same test images (``recipe.difference``:
Welch's t over seeds plus the shared test variation), and Holm's step-down correction runs over
all m(m-1)/2 pairs, which holds the chance of any false "A beats B" in the column at α. From
the pairs that differ significantly:

- **not worse than the best**: no model beats it. Choosing the best on the same data and then
  testing the others against it (the previous rule) gave 9.7 % false marks at α = 5 % among
  seven equal models; ``benchmarks/coverage.py`` measures both.
- **tiers**, the sequential rule: tier 1 holds the models no model beats (the bold ones);
  tier 2 those no model beats once tier 1 is set aside; and so on. No model beats another of
  its own tier, and each model below tier 1 is beaten by one of the tier just above.
- **rank interval** of a model: [1 + the models that beat it, m - the models it beats], which
  holds its true rank for every model at once with probability 1 - α (simultaneous, from the
  same tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.leaderboard.recipe import CellDraws, difference

DEFAULT_ALPHA = 0.05


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


def beats(cells: Sequence[CellDraws], *, higher_is_better: bool = True,
          alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """``out[i, j]``: model i is significantly better than model j (all pairs, Holm)."""
    m = len(cells)
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    tests = [difference(cells[i], cells[j], 1 - alpha) for i, j in pairs]
    out = np.zeros((m, m), dtype=bool)
    for (i, j), test, adjusted in zip(pairs, tests, holm([t.p_value for t in tests]),
                                      strict=True):
        if adjusted < alpha and test.value != 0:
            better_first = (test.value > 0) == higher_is_better
            out[(i, j) if better_first else (j, i)] = True
    return out


def not_worse(beaten: np.ndarray) -> list[bool]:
    """Models that no model beats: not significantly worse than the best."""
    return [not beaten[:, i].any() for i in range(len(beaten))]


def tiers(beaten: np.ndarray) -> list[int]:
    """The sequential tiers (module docstring): 1 for the models no model beats, and so on."""
    m = len(beaten)
    tier = [0] * m
    left = set(range(m))
    level = 0
    while left:  # wins follow the means, so the best mean left is never beaten: top ≠ []
        level += 1
        top = [i for i in left if not any(beaten[j, i] for j in left)]
        for i in top:
            tier[i] = level
        left -= set(top)
    return tier


def rank_intervals(beaten: np.ndarray) -> list[tuple[int, int]]:
    """[1 + models that beat it, m - models it beats] per model (1 is the best rank)."""
    m = len(beaten)
    return [(1 + int(beaten[:, i].sum()), m - int(beaten[i, :].sum())) for i in range(m)]


@dataclass(frozen=True)
class Ranking:
    """A column's models, told apart: marks, tiers and rank intervals from one set of tests."""

    not_worse: tuple[bool, ...]
    tiers: tuple[int, ...]
    ranks: tuple[tuple[int, int], ...]


def rank_column(cells: Sequence[CellDraws], *, higher_is_better: bool = True,
                alpha: float = DEFAULT_ALPHA) -> Ranking:
    beaten = beats(cells, higher_is_better=higher_is_better, alpha=alpha)
    return Ranking(tuple(not_worse(beaten)), tuple(tiers(beaten)),
                   tuple(rank_intervals(beaten)))
