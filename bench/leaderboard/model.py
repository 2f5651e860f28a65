"""What a leaderboard is, independent of how it is written: boards of tables of values.

Tables are built once from a scores frame and handed to every renderer, so Markdown, LaTeX,
HTML, CSV and JSON always agree on which cell is best, second, missing or a baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Mark = Literal["best", "second", "not_worse"]  # not_worse: not significantly below best
ColumnKind = Literal["score", "delta", "rank", "count", "correlation"]
Better = Literal["higher", "lower"]
SecondRule = Literal["distinct", "paper"]

# Where the second mark goes, as each board's legend says it (see tables.mark_columns).
SECOND_RULES: dict[str, str] = {
    "distinct": "second best (ties share a mark)",
    "paper": "second best, as in the paper: none after a tie for best, a tie for second "
             "broken on the data set's other metrics",
}

DECIMALS: dict[str, int] = {"score": 1, "delta": 1, "rank": 2, "count": 0, "correlation": 2}


@dataclass(frozen=True)
class Value:
    """One cell: a mean over ``n`` runs (None when there is no result), and how it ranks."""

    mean: float | None
    std: float | None = None
    n: int = 0
    mark: Mark | None = None
    baseline: bool = False  # a same-data-set cell in a cross-data-set table
    ci_low: float | None = None  # bootstrap interval, same unit as mean (percent)
    ci_high: float | None = None
    leaked: bool = False  # the source's train split holds some of the target's test images
    ci_unit: str | None = None  # what the interval is about: "model" (one seed) or "recipe"
    tier: int | None = None  # rank tier in its column (--marks tiers; see ranking)
    rank_low: int | None = None  # the interval of its rank in the column
    rank_high: int | None = None
    contaminated: bool = False  # the model's pretraining data cover the source or the target

    @property
    def missing(self) -> bool:
        return self.mean is None


MISSING = Value(None)


@dataclass(frozen=True)
class Column:
    """A value column; ``group`` is the header spanning several columns (a data set)."""

    key: str
    label: str
    group: str = ""
    target: str = ""  # canonical data-set name, for machine-readable output
    metric: str = ""
    kind: ColumnKind = "score"
    better: Better | None = "higher"  # None: not ranked (differences, counts)


@dataclass(frozen=True)
class Row:
    key: tuple[str, ...]  # canonical names, in the order of Table.index_keys
    labels: tuple[str, ...]  # display names, in the order of Table.index
    cells: Mapping[str, Value]

    def value(self, column: Column) -> Value:
        return self.cells.get(column.key, MISSING)


@dataclass(frozen=True)
class Table:
    name: str  # stable identifier: same, cross, compare-f1, generalisation, mean-rank
    title: str
    index: tuple[str, ...]  # headers of the label columns, e.g. ("Model", "Source")
    index_keys: tuple[str, ...]  # what Row.key holds, e.g. ("model", "source")
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    typical_n: int = 0  # cells backed by another number of runs say so
    marks: Literal["paper", "significance", "tiers"] = "paper"  # what bold means (legend_parts)
    second_rule: SecondRule = "distinct"  # where the underline goes (SECOND_RULES)

    @property
    def has_marks(self) -> bool:
        return any(row.value(c).mark for row in self.rows for c in self.columns)

    @property
    def has_intervals(self) -> bool:
        return any(row.value(c).ci_low is not None for row in self.rows for c in self.columns)

    @property
    def has_baseline(self) -> bool:
        return any(row.value(c).baseline for row in self.rows for c in self.columns)

    @property
    def has_missing(self) -> bool:
        return any(row.value(c).missing for row in self.rows for c in self.columns)

    @property
    def grouped(self) -> bool:
        """Whether the header needs two levels (data set, then metric)."""
        return any(column.group for column in self.columns)


@dataclass(frozen=True)
class Context:
    """What a reader needs to decide whether two boards are comparable."""

    protocol: str
    protocol_hash: str
    fingerprints: tuple[tuple[str, str], ...]  # (data-set label, split fingerprint or "")
    version: str
    date: str
    origin: str = ""  # where the figures come from, for published boards
    recipe: str = ""  # how the recipe differs from the named protocol; "" when it does not
    unofficial: str = ""  # why `--check` does not accept the board, when it was published anyway
    uncertainty: str = ""  # what the intervals and marks are about (a trained model, the recipe)


@dataclass(frozen=True)
class Board:
    """Tables that share one context: one protocol hash and one split per data set."""

    title: str
    slug: str  # file stem when published
    context: Context
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ScoreGroup:
    """Scores that are comparable with each other, and what makes them so.

    ``same`` feeds the same-data-set table and ``cross`` the cross-data-set one; for results
    from the store both are the same frame, for the paper they are its Tables 2 and 3.
    """

    protocol: str
    protocol_hash: str
    fingerprints: tuple[tuple[str, str], ...]  # (canonical data set, fingerprint)
    same: pd.DataFrame = field(repr=False)
    cross: pd.DataFrame = field(repr=False)
    slug: str = ""
    origin: str = ""
    notes: tuple[str, ...] = ()
    second: SecondRule = "distinct"  # where second places go (SECOND_RULES); papers differ
    init: str = "pretrained"  # what the models started from (bench.weights.initialisation)
    overrides: str = ""  # the recipe's differences from the named protocol

    @property
    def changes(self) -> list[str]:
        """How these results' recipe differs from the named protocol with pretrained weights."""
        from bench.weights import PRETRAINED, describe_initialisation

        if self.origin:
            return []
        parts = [f"with {self.overrides}"] if self.overrides else []
        return parts + ([] if self.init == PRETRAINED else [describe_initialisation(self.init)])

    @property
    def recipe(self) -> str:
        """``quick with training.max_epochs=2; from scratch``; "" for the protocol as named."""
        if not self.changes:
            return ""
        parts = self.changes if self.overrides else ["as built in", *self.changes]
        return f"{self.protocol.split(', ')[0]} {'; '.join(parts)}"
