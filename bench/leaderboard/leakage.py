"""Cross-set leakage beside the scores it flatters: a mark on the cell and a footnote.

When two data sets share images (found by content hash when the later one is prepared, see
:func:`bench.data.audit.cross_dataset_overlaps`), a model trained on one may have seen part of
the other's test split. The scores stay; the board says how many test images were seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.errors import BenchError
from bench.leaderboard.display_names import Names
from bench.leaderboard.model import Table

if TYPE_CHECKING:
    import pandas as pd

MARK = "†"


@dataclass(frozen=True)
class Leak:
    seen: int  # test images of the target whose content is in the source's train split
    tests: int  # test images of the target


def _prepared(name: str, fingerprint: str):  # noqa: ANN202 - a PreparedDataset or None
    from bench.data import load_prepared

    try:
        dataset = load_prepared(name)
    except BenchError:  # not prepared here (any more): the audit cannot be read
        return None
    return dataset if dataset.fingerprint == fingerprint else None  # the board's split only


def leakage_counts(frame: pd.DataFrame) -> dict[tuple[str, str], Leak]:
    """(source, target) -> what the target's audit found of the source's train split in its test.

    Only for the splits the scores were computed on: a data set prepared again since is
    skipped, as its audit speaks of other splits.
    """
    from bench.data.catalogue import current_audit

    if frame.empty:
        return {}
    pairs = frame[["source", "source_fingerprint", "target", "target_fingerprint"]]
    pairs = pairs[pairs["source"] != pairs["target"]].drop_duplicates()
    found: dict[tuple[str, str], Leak] = {}
    audits: dict[tuple[str, str], dict] = {}
    for source, source_fp, target, target_fp in pairs.itertuples(index=False):
        if (target, target_fp) not in audits:
            dataset = _prepared(target, target_fp)
            audit = current_audit(dataset) if dataset is not None else {}
            tests = sum(1 for row in dataset.manifest if row.split == "test") if dataset else 0
            audits[(target, target_fp)] = {"overlaps": (audit or {}).get("cross_dataset", {}),
                                           "tests": tests}
        entry = audits[(target, target_fp)]
        seen = entry["overlaps"].get(source, {}).get("by_split", {}).get("test/train", 0)
        if seen and _prepared(source, source_fp) is not None:
            found[(source, target)] = Leak(int(seen), entry["tests"])
    return found


def mark_leakage(table: Table, leaks: Mapping[tuple[str, str], Leak], names: Names) -> Table:
    """Mark the cells of a source-by-target table whose target's test the source has seen."""
    if not leaks or "source" not in table.index_keys:
        return table
    at = table.index_keys.index("source")
    rows, used = [], {}
    for row in table.rows:
        cells = dict(row.cells)
        for column in table.columns:
            leak = leaks.get((row.key[at], column.target))
            if leak is not None and column.key in cells and not cells[column.key].missing:
                cells[column.key] = dataclasses.replace(cells[column.key], leaked=True)
                used[(row.key[at], column.target)] = leak
        rows.append(dataclasses.replace(row, cells=cells))
    if not used:
        return table
    notes = [f"{MARK} {leak.seen} of the {leak.tests} test images of "
             f"{names.label('dataset', target)} also appear in the train split of "
             f"{names.label('dataset', source)} (same content, found when preparing): the "
             f"model has seen them."
             for (source, target), leak in sorted(used.items())]
    return dataclasses.replace(table, rows=tuple(rows), notes=(*table.notes, *notes))
