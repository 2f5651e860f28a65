"""How well models generalise: the drop from same- to cross-data-set score, and mean ranks.

Seeds are averaged per cell first, so a model with more runs weighs no more than another.
Ranks use the displayed values (one decimal), average ranks for ties (1.5, 1.5, 3), as in
the usual multi-data-set comparisons of classifiers (Demšar 2006).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.leaderboard.display_names import Names
from bench.leaderboard.model import Column, Row, SecondRule, Table, Value
from bench.leaderboard.tables import CellIndex, Scores, cells_of, displayed, mark_columns
from bench.metrics import title


def drop_table(cross: Scores, metric: str, names: Names, second: SecondRule = "distinct") -> Table:
    """Per source: same-data-set score, mean cross-data-set score, and the drop between them.

    Each model contributes its own drop (its baseline minus the mean of its other targets);
    the row is the mean over the models that have both.
    """
    by_pair: dict[tuple[str, str], dict[str, float]] = {}
    for (model, source, target, measured), value in cells_of(cross).items():
        if measured == metric and value.mean is not None:
            by_pair.setdefault((model, source), {})[target] = value.mean
    by_source: dict[str, list[tuple[float, float]]] = {}
    for (_model, source), scores in by_pair.items():
        others = [score for target, score in scores.items() if target != source]
        if source in scores and others:
            by_source.setdefault(source, []).append((scores[source], statistics.fmean(others)))
    columns = (
        Column(key="same", label="Same data set", metric=metric),
        Column(key="cross", label="Other data sets", metric=metric),
        Column(key="drop", label="Drop", metric=metric, better="lower"),
        Column(key="models", label="Models", kind="count", better=None),
    )
    rows = []
    for source in names.order("dataset", by_source):
        pairs = by_source[source]
        same = statistics.fmean(p[0] for p in pairs)
        other = statistics.fmean(p[1] for p in pairs)
        rows.append(
            Row(
                key=(source,),
                labels=(names.label("dataset", source),),
                cells={
                    "same": Value(same),
                    "cross": Value(other),
                    "drop": Value(statistics.fmean(p[0] - p[1] for p in pairs)),
                    "models": Value(float(len(pairs))),
                },
            )
        )
    return Table(
        name="generalisation",
        title=f"Generalisation by source ({title(metric)})",
        index=("Source",),
        index_keys=("source",),
        columns=columns,
        rows=mark_columns(rows, columns, second),
        second_rule=second,
        notes=(
            "Per model: its score on the source's own test split minus the mean of its scores "
            "on the other data sets; then the mean over models. Smaller drop: better transfer.",
        ),
    )


def _mean_ranks(
    cells: CellIndex, metric: str, keep: Callable[[str, str], bool]
) -> dict[str, tuple[float, int]]:
    """Model -> (mean rank, number of columns ranked), one column per (source, target)."""
    columns: dict[tuple[str, str], dict[str, float]] = {}
    for (model, source, target, m), value in cells.items():
        if m == metric and value.mean is not None and keep(source, target):
            columns.setdefault((source, target), {})[model] = displayed(value.mean)
    ranks: dict[str, list[float]] = {}
    for scores in columns.values():
        ordered = sorted(scores.values(), reverse=True)
        for model, score in scores.items():
            # Average rank of a tie: the mean of the positions the tied values occupy.
            first = ordered.index(score) + 1
            last = len(ordered) - ordered[::-1].index(score)
            ranks.setdefault(model, []).append((first + last) / 2)
    return {model: (statistics.fmean(r), len(r)) for model, r in ranks.items()}


def rank_table(
    same: Scores, cross: Scores, metric: str, names: Names, second: SecondRule = "distinct"
) -> Table:
    """Per model: mean rank over the data sets (same) and over source → target pairs (cross)."""
    same_ranks = _mean_ranks(cells_of(same), metric, lambda s, t: s == t)
    cross_ranks = _mean_ranks(cells_of(cross), metric, lambda s, t: s != t)
    models = names.order("model", {*same_ranks, *cross_ranks})

    def sort_key(model: str) -> tuple[float, float, int]:
        far = float(len(models) + 1)
        return (
            cross_ranks.get(model, (far, 0))[0],
            same_ranks.get(model, (far, 0))[0],
            models.index(model),
        )

    columns = (
        Column(key="same_rank", label="Mean rank, same data set", metric=metric, kind="rank",
               better="lower"),
        Column(key="same_count", label="Data sets", kind="count", better=None),
        Column(key="cross_rank", label="Mean rank, cross data set", metric=metric, kind="rank",
               better="lower"),
        Column(key="cross_count", label="Pairs", kind="count", better=None),
    )
    rows = []
    for model in sorted(models, key=sort_key):
        cells = {}
        if model in same_ranks:
            cells["same_rank"] = Value(same_ranks[model][0])
            cells["same_count"] = Value(float(same_ranks[model][1]))
        if model in cross_ranks:
            cells["cross_rank"] = Value(cross_ranks[model][0])
            cells["cross_count"] = Value(float(cross_ranks[model][1]))
        rows.append(Row(key=(model,), labels=(names.label("model", model),), cells=cells))
    return Table(
        name="mean-rank",
        title=f"Mean rank by model ({title(metric)})",
        index=("Model",),
        index_keys=("model",),
        columns=columns,
        rows=mark_columns(rows, columns, second),
        second_rule=second,
        notes=(
            "Rank 1 is the best model on a data set (same) or on a source → target pair with "
            "source ≠ target (cross); ties share the average rank.",
        ),
    )


def summary_tables(
    same: Scores, cross: Scores, metric: str, names: Names, second: SecondRule = "distinct"
) -> list[Table]:
    tables = [drop_table(cross, metric, names, second), rank_table(same, cross, metric, names,
                                                                  second)]
    return [table for table in tables if table.rows]

