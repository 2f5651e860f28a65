"""The per-class table: precision and recall of every class, where a weighted mean hides it.

A row per (model, source, target); a column group per class. Values come from the per-class
figures the store keeps with the precision and recall scores; seeds are averaged as elsewhere.
It is a diagnostic (which class a model fails on), so nothing is ranked.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from bench.labels import CLASS_NAMES, CLASSES
from bench.leaderboard.display_names import Names
from bench.leaderboard.intervals import Bootstrap
from bench.leaderboard.model import Column, Row, Table, Value
from bench.leaderboard.tables import runs_note
from bench.metrics import PER_CLASS, abbreviation

if TYPE_CHECKING:
    import pandas as pd

PER_CLASS_SHOWN = PER_CLASS[:2]  # precision and recall, as the paper shows per class


def per_class_table(
    frame: pd.DataFrame, names: Names, *, cross: bool = False, bootstrap: Bootstrap | None = None
) -> Table:
    """Build the table from score rows; without ``cross`` only source = target rows."""
    rows_in = frame[frame["metric"].isin(PER_CLASS_SHOWN) & frame["per_class"].notna()]
    if not cross:
        rows_in = rows_in[rows_in["source"] == rows_in["target"]]
    values: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for model, source, target, metric, per_class in rows_in[
        ["model", "source", "target", "metric", "per_class"]
    ].itertuples(index=False):
        cell = values.setdefault((model, source, target), {})
        for letter, value in per_class.items():
            cell.setdefault(f"{metric}:{letter}", []).append(float(value))
    letters = [c for c in CLASSES if any(f"recall:{c}" in v for v in values.values())]
    columns = tuple(
        Column(key=f"{metric}:{c}", label=abbreviation(metric),
               group=c, metric=f"{metric}:{c}", better=None)
        for c in letters for metric in PER_CLASS_SHOWN
    )
    models = names.order("model", {key[0] for key in values})
    datasets = names.order("dataset", {d for key in values for d in key[1:]})
    rows = []
    for key in sorted(values, key=lambda k: (models.index(k[0]), datasets.index(k[1]),
                                             datasets.index(k[2]))):
        cells = {}
        for metric, runs in values[key].items():
            found = bootstrap.estimate(key, metric) if bootstrap else None
            cells[metric] = Value(
                mean=100 * statistics.fmean(runs),
                std=100 * statistics.stdev(runs) if len(runs) > 1 else None,
                n=len(runs),
                ci_low=100 * found.low if found else None,
                ci_high=100 * found.high if found else None,
                ci_unit=found.unit if found else None,
            )
        model, source, target = key
        rows.append(Row(key=key, labels=(names.label("model", model),
                                         names.label("dataset", source),
                                         names.label("dataset", target)), cells=cells))
    typical, note = runs_note(rows)
    return Table(
        name="per-class",
        title="Per class: precision and recall on each target",
        index=("Model", "Source", "Target"),
        index_keys=("model", "source", "target"),
        columns=columns,
        rows=tuple(rows),
        notes=("Scores in %: P = precision, R = recall of each class ("
               + ", ".join(f"{c} = {CLASS_NAMES[c]}" for c in letters) + "), not ranked.", note),
        typical_n=typical,
    )
