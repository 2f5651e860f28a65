"""Pretraining contamination beside the scores it may flatter: a column, a mark, a footnote.

A model whose declared pretraining data cover a cell's source or target (bench.pretraining) may
have seen those images before bench trained it: DinoBloom, trained without labels on PBC, tested
on PBC. The scores stay. Each such score row carries ``contaminated`` (the data sets seen, ``;``
between them) in the scores frame and in published records; every board marks its cells with
the leakage mark (both say: the model has seen images of this target) and a footnote per model;
``--exclude-contaminated`` leaves the rows out before any board is built. A model trained
outside bench (`bench evaluate --weights`) declares nothing bench can check: its boards say so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bench.cell import EXTERNAL
from bench.leaderboard.display_names import Names
from bench.leaderboard.leakage import MARK
from bench.leaderboard.model import Board, ScoreGroup, Table
from bench.pretraining import base_dataset, seen_in_cell

if TYPE_CHECKING:
    import pandas as pd

COLUMN = "contaminated"
SEPARATOR = ";"
Cells = Mapping[tuple[str, str, str], tuple[str, ...]]  # (model, source, target) -> data sets


def with_contamination(frame: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Score rows with ``contaminated``: what of their cell the model's pretraining covers."""
    seen: dict[tuple[str, str, str, str], str] = {}

    def of(model: str, init: str, source: str, target: str) -> str:
        key = (model, init, source, target)
        if key not in seen:
            found = seen_in_cell(names.pretraining(model), init, source, target,
                                 names.dataset_keys)
            seen[key] = SEPARATOR.join(found)
        return seen[key]

    columns = frame[["model", "init", "source", "target"]].itertuples(index=False)
    return frame.assign(**{COLUMN: [of(*map(str, row)) for row in columns]})


def recorded(frame: pd.DataFrame) -> pd.DataFrame:
    """Records carry the contamination their board showed; records without it had none."""
    if COLUMN in frame.columns:
        return frame.assign(**{COLUMN: frame[COLUMN].fillna("").astype(str)})
    return frame.assign(**{COLUMN: ""})


def exclude_contaminated(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows no model's pretraining may have seen (``--exclude-contaminated``)."""
    return frame[frame[COLUMN] == ""] if COLUMN in frame.columns else frame


def contaminated_cells(frame: pd.DataFrame) -> dict[tuple[str, str, str], tuple[str, ...]]:
    if COLUMN not in frame.columns:
        return {}
    rows = frame[frame[COLUMN] != ""][["model", "source", "target", COLUMN]].drop_duplicates()
    return {(model, source, target): tuple(seen.split(SEPARATOR))
            for model, source, target, seen in rows.itertuples(index=False)}


def mark_contamination(table: Table, cells: Cells, names: Names) -> Table:
    """Mark the cells of a table whose model's pretraining covers their source or target."""
    if not cells or "model" not in table.index_keys:
        return table
    rows, used = [], {}
    for row in table.rows:
        named = dict(zip(table.index_keys, row.key, strict=True))
        marked = dict(row.cells)
        for column in table.columns:
            target = column.target or named.get("target", "")
            source = named.get("source", target)  # the same-data-set table: source = target
            seen = (cells.get((named["model"], source, target))
                    or cells.get((named["model"], source, base_dataset(target))))
            value = marked.get(column.key)
            if seen and value is not None and not value.missing:
                marked[column.key] = dataclasses.replace(value, contaminated=True)
                used.setdefault(named["model"], set()).update(seen)
        rows.append(dataclasses.replace(row, cells=marked))
    if not used:
        return table
    notes = [f"{MARK} {names.label('model', model)} was pretrained on images of "
             f"{', '.join(names.label('dataset', d) for d in names.order('dataset', seen))} "
             f"(its declared pretraining data): its marked cells train or test on them, so it "
             f"may have seen those images before bench trained it."
             for model, seen in sorted(used.items())]
    return dataclasses.replace(table, rows=tuple(rows), notes=(*table.notes, *notes))


EXTERNAL_NOTE = (f"Source {EXTERNAL}: a model trained outside bench, tested as its weights file "
                 f"holds it (bench evaluate --weights); bench does not know its training data, "
                 f"so its cells are never marked {MARK}.")


def mark_boards(boards: Sequence[Board], groups: Sequence[ScoreGroup], names: Names
                ) -> list[Board]:
    """Every table of every board marked from the frame of the group it was built from.

    A board with rows of a model trained outside bench (source ``external``) says so: what
    that model saw is unknown.
    """
    by_slug = {group.slug: group for group in groups}
    marked = []
    for board in boards:
        group = by_slug.get(board.slug) or by_slug.get(board.slug.removesuffix("-shift"))
        cells = contaminated_cells(group.cross) if group is not None else {}
        tables = tuple(mark_contamination(table, cells, names) for table in board.tables)
        external = group is not None and not group.origin and (
            group.cross["source"] == EXTERNAL).any()
        notes = (*board.notes, EXTERNAL_NOTE) if external else board.notes
        marked.append(dataclasses.replace(board, tables=tables, notes=notes))
    return marked
