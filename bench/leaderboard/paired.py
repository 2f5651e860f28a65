"""Paired comparisons on the same test images: bootstrap differences, McNemar, Holm.

Two models tested on one target share its bootstrap resamples (see ``intervals``), so the
difference of their replicates is the paired bootstrap of the difference. McNemar's exact test
looks only at the images where exactly one of the two is right.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from bench.leaderboard.intervals import Bootstrap
from bench.leaderboard.model import Row, Table
from bench.leaderboard.recipe import bootstrap_p
from bench.leaderboard.tables import displayed

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
