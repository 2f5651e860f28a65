"""Paired comparisons on the same test images: McNemar's exact test, and the columns' marks.

Marks and tiers come from ``ranking`` (all-pairs tests, Holm) on the cells' bootstrap draws
(``intervals``): every model tested on a target sees the same resamples, so each difference
is paired by construction. McNemar's exact test looks only at the images where exactly one
of two models is right.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from bench.leaderboard.intervals import Bootstrap
from bench.leaderboard.model import Row, Table
from bench.leaderboard.ranking import DEFAULT_ALPHA, rank_column
from bench.leaderboard.recipe import TEST_SEEDS
from bench.leaderboard.tables import displayed


@dataclasses.dataclass(frozen=True)
class McNemar:
    only_a: int  # images A classifies correctly and B does not
    only_b: int
    p_value: float

TIERS_LEGEND = "Tn (a–b)"  # opens the legend of a board with --marks tiers


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
    table: Table, bootstrap: Bootstrap, alpha: float = DEFAULT_ALPHA, *, tiers: bool = False,
) -> Table:
    """Mark, per column, the best value and every row that no other row beats significantly.

    All pairs of rows are tested (``ranking``), Holm over the column's pairs. With ``tiers``,
    each cell also gets its rank tier and rank interval. A column keeps the paper's marks when
    some ranked cell has no stored predictions, or fewer than ``TEST_SEEDS`` seeds: with fewer,
    a test would compare the trained models at hand, not the recipes, and seeds differ.
    """
    marks: dict[tuple[int, str], dict[str, object]] = {}
    no_predictions, few_seeds = [], []
    for column in table.columns:
        if column.better is None or column.kind != "score" or not column.metric:
            continue
        ranked = [
            (i, value) for i, row in enumerate(table.rows)
            if not (value := row.value(column)).missing and not value.baseline
        ]
        if not ranked:
            continue
        cells = [bootstrap.cell(_cell_key(table, table.rows[i], column.target), column.metric)
                 for i, _ in ranked]
        name = column.label if not column.group else f"{column.group} {column.label}"
        if any(cell is None for cell in cells):
            no_predictions.append(name)
            continue
        if any(cell.seeds < TEST_SEEDS for cell in cells):  # type: ignore[union-attr]
            few_seeds.append(name)
            continue
        ranking = rank_column(cells, higher_is_better=column.better == "higher",  # type: ignore[arg-type]
                              alpha=alpha)
        sign = 1.0 if column.better == "higher" else -1.0
        best_shown = max(sign * displayed(v.mean) for _, v in ranked)  # type: ignore[arg-type]
        for position, (i, value) in enumerate(ranked):
            best = sign * displayed(value.mean) == best_shown  # type: ignore[arg-type]
            mark = "best" if best else "not_worse" if ranking.not_worse[position] else None
            change: dict[str, object] = {"mark": mark}
            if tiers:
                low, high = ranking.ranks[position]
                change.update(tier=ranking.tiers[position], rank_low=low, rank_high=high)
            marks[(i, column.key)] = change
    rows = []
    for i, row in enumerate(table.rows):
        cells = dict(row.cells)
        for key, value in row.cells.items():
            if (i, key) in marks:
                cells[key] = dataclasses.replace(value, **marks[(i, key)])  # type: ignore[arg-type]
        rows.append(dataclasses.replace(row, cells=cells))
    notes = [
        "Not significantly worse: no other model is significantly better in paired tests of "
        "every pair of models on the same test images (Welch's t over seeds plus the test "
        f"variation they share), Holm-corrected over the column's pairs, α = {alpha:g}."
    ]
    if tiers:
        notes.append(
            f"{TIERS_LEGEND}: the model's rank tier in its column and the interval of its rank. "
            "Tier 1: the models no model beats significantly (bold); tier 2: the same once "
            "tier 1 is set aside; and so on. The rank interval is [1 + models that beat it, "
            "models - models it beats], simultaneous over the column at the same α.")
    if few_seeds:
        notes.append(
            f"Significance marks{' and tiers' if tiers else ''} need at least {TEST_SEEDS} "
            "seeds per cell: with fewer, a test compares the trained models at hand, not the "
            "recipes, and seeds differ by points. " + ", ".join(few_seeds) + " keep the "
            f"best/second marks; `bench run --seeds {TEST_SEEDS}` trains the seeds.")
    if no_predictions:
        notes.append("No stored test predictions for some cells of " + ", ".join(no_predictions)
                     + ": those columns keep the best/second marks.")
    return dataclasses.replace(table, rows=tuple(rows),
                               marks="tiers" if tiers else "significance",
                               notes=(*table.notes, *notes))
