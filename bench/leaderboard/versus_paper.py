"""Our scores beside a published board's, with the difference in percentage points.

Rows and columns are ours: the question is how our results relate to the paper's, so a cell
the paper has and we have not is left out, and one we have and the paper has not shows as
missing on the paper's side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from bench.leaderboard.display_names import Names, loose_key
from bench.leaderboard.model import Column, Row, Table, Value
from bench.leaderboard.tables import aggregate, runs_note
from bench.metrics import title

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.model import ScoreGroup


def _matcher(ours: Iterable[str]) -> dict[str, str]:
    """Map loose keys to our names, for keys only one of ours has (no guessing on clashes)."""
    keys: dict[str, list[str]] = {}
    for name in sorted(set(ours)):
        keys.setdefault(loose_key(name), []).append(name)
    return {key: names[0] for key, names in keys.items() if len(names) == 1}


def _renamed(paper: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Rename the paper's rows to our names where the two differ only in spelling."""
    models = _matcher(ours["model"].unique())
    datasets = _matcher([*ours["source"].unique(), *ours["target"].unique()])
    paper = paper.copy()
    paper["model"] = [models.get(loose_key(m), m) for m in paper["model"]]
    for column in ("source", "target"):
        paper[column] = [datasets.get(loose_key(d), d) for d in paper[column]]
    return paper


def compare_table(
    ours: ScoreGroup,
    paper: ScoreGroup,
    *,
    layout: Literal["same", "cross"],
    metric: str,
    names: Names,
    paper_name: str,
) -> Table:
    """Build a table with a group per target: Ours, Paper and Δ = ours − paper."""
    mine = (ours.same if layout == "same" else ours.cross)
    mine = mine[mine["metric"] == metric]
    if layout == "same":
        mine = mine[mine["source"] == mine["target"]]
    theirs = _renamed(paper.same if layout == "same" else paper.cross, mine)
    theirs = theirs[theirs["metric"] == metric]
    our_cells, paper_cells = aggregate(mine), aggregate(theirs)
    models = names.order("model", mine["model"].unique())
    sources = names.order("dataset", mine["source"].unique())
    targets = names.order("dataset", mine["target"].unique())
    columns: list[Column] = []
    for target in targets:
        group = names.label("dataset", target)
        columns += [
            Column(key=f"{target}/ours", label="Ours", group=group, target=target,
                   metric=metric, better=None),
            Column(key=f"{target}/paper", label=paper_name, group=group, target=target,
                   metric=metric, better=None),
            Column(key=f"{target}/delta", label="Δ", group=group, target=target,
                   metric=metric, kind="delta", better=None),
        ]
    pairs: list[tuple[str, str | None]] = (
        [(m, None) for m in models] if layout == "same" else [(m, s) for m in models
                                                              for s in sources]
    )
    rows = []
    for model, source in pairs:
        cells: dict[str, Value] = {}
        for target in targets:
            key = (model, source or target, target, metric)
            ours_value, paper_value = our_cells.get(key), paper_cells.get(key)
            baseline = source == target
            if ours_value is not None:
                cells[f"{target}/ours"] = dataclasses.replace(ours_value, baseline=baseline)
            if paper_value is not None:
                cells[f"{target}/paper"] = Value(paper_value.mean, baseline=baseline)
            if ours_value is not None and paper_value is not None:
                assert ours_value.mean is not None and paper_value.mean is not None
                cells[f"{target}/delta"] = Value(ours_value.mean - paper_value.mean)
        if source is None:
            rows.append(Row((model,), (names.label("model", model),), cells))
        else:
            labels = (names.label("model", model), names.label("dataset", source))
            rows.append(Row((model, source), labels, cells))
    typical, runs = runs_note(
        [Row(r.key, r.labels, {k: v for k, v in r.cells.items() if k.endswith("/ours")})
         for r in rows]
    )
    where = "same data set" if layout == "same" else "cross data set"
    return Table(
        name=f"compare-{layout}-{metric}",
        title=f"Ours beside {paper_name}, {where} ({title(metric)})",
        index=("Model",) if layout == "same" else ("Model", "Source"),
        index_keys=("model",) if layout == "same" else ("model", "source"),
        columns=tuple(columns),
        rows=tuple(rows),
        notes=(
            f"Δ = ours − {paper_name}, in percentage points. {paper_name}'s splits and the "
            "settings the paper leaves unstated differ from ours, so Δ mixes both effects.",
            f"Ours: {runs[0].lower()}{runs[1:]}",
        ),
        typical_n=typical,
    )
