"""From score rows to boards: filter, split into comparable groups, build the tables.

Everything here is a pure function of a scores frame (and the names the registries give), so
a board can be rebuilt from its published records and golden files pin the output.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from bench.errors import DataError
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import comparable_groups, select
from bench.leaderboard.leakage import Leak, mark_leakage
from bench.leaderboard.model import Board, Context, ScoreGroup, SecondRule, Table
from bench.leaderboard.reference import load_reference
from bench.leaderboard.summary import summary_tables
from bench.leaderboard.tables import (
    CellIndex,
    aggregate,
    cross_dataset_table,
    same_dataset_table,
)
from bench.leaderboard.versus_paper import compare_table
from bench.metrics import DEFAULT_METRIC, better

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.intervals import Bootstrap

Layout = Literal["same", "cross"]


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def bench_version() -> str:
    import bench

    return bench.__version__


def store_groups(
    frame: pd.DataFrame,
    names: Names,
    *,
    protocol: str | None = None,
    models: Sequence[str] = (),
    sources: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> list[ScoreGroup]:
    """Filter the store's scores and split them so that no group mixes protocols or splits."""
    frame = select(frame, names, protocol=protocol, models=models, sources=sources,
                   targets=targets)
    if frame.empty:
        raise DataError("no results match the filters given (--protocol/--models/--sources/"
                        "--targets); run `bench leaderboard` without them to see what there is.")
    return comparable_groups(frame)


def reference_group(
    name: str,
    names: Names,
    *,
    models: Sequence[str] = (),
    sources: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> ScoreGroup:
    """Load a published board as a group, with the same filters as the store's."""
    import dataclasses

    group = load_reference(name, names)
    same = select(group.same, names, models=models, sources=sources, targets=targets)
    cross = select(group.cross, names, models=models, sources=sources, targets=targets)
    return dataclasses.replace(group, same=same, cross=cross)


def context(group: ScoreGroup, names: Names, *, version: str, date: str,
            unofficial: str = "") -> Context:
    order = names.order("dataset", [dataset for dataset, _ in group.fingerprints])
    fingerprints = dict(group.fingerprints)
    return Context(
        protocol=group.protocol,
        protocol_hash=group.protocol_hash,
        fingerprints=tuple((names.label("dataset", d), fingerprints[d]) for d in order),
        version=version,
        date=date,
        origin=group.origin,
        recipe=group.recipe,
        unofficial=unofficial,
    )


def with_intervals(cells: CellIndex, bootstrap: Bootstrap) -> CellIndex:
    """Attach each cell's interval (in percent, like the mean) and what it is about."""
    out = {}
    for (model, source, target, metric), value in cells.items():
        found = bootstrap.estimate((model, source, target), metric)
        if found is not None:
            value = dataclasses.replace(value, ci_low=100 * found.low, ci_high=100 * found.high,
                                        ci_unit=found.unit)
        out[(model, source, target, metric)] = value
    return out


def interval_note(table: Table, bootstrap: Bootstrap) -> str:
    """The [low, high] note of a table: what its intervals are, for the units its cells have."""
    cells = [v for row in table.rows for v in row.cells.values()]
    units = {v.ci_unit for v in cells if v.ci_unit}
    note = f"[low, high]: {bootstrap.settings.describe(units or ('model',))}."
    if any(not v.missing and v.ci_low is None for v in cells):
        note += " Cells without one have no stored test predictions."
    return note


def build_board(
    group: ScoreGroup,
    names: Names,
    *,
    layouts: Sequence[Layout] = ("same",),
    metrics: Sequence[str],
    summary_metric: str | None = None,
    compare: ScoreGroup | None = None,
    compare_metrics: Sequence[str] = (DEFAULT_METRIC,),
    version: str | None = None,
    date: str | None = None,
    uncertainty: Mapping[str, Bootstrap] | None = None,
    intervals: bool = False,
    marks: str = "paper",
    per_class: bool = False,
    second: SecondRule | None = None,
    leakage: Mapping[tuple[str, str], Leak] | None = None,
    cost: bool = False,
    unofficial: str = "",
) -> Board:
    """One board: the asked layouts, then the comparison and the generalisation summary.

    ``uncertainty`` (group slug -> bootstrap) feeds ``intervals`` (shown as [low, high]) and
    ``marks="significance"`` (bold: best and every model not significantly worse).
    ``second`` chooses where second places go (``SECOND_RULES``); by default the group's own
    rule: ``distinct`` for the store's results, the paper's for a published board.
    ``leakage`` marks cells whose target's test images the source's train split holds.
    ``cost`` adds the cost table (``bench.leaderboard.cost``); ``unofficial`` says in the header
    why the board was published though ``--check`` does not accept it.
    """
    second = second or group.second
    from bench.leaderboard.mcnemar import significance_marks
    from bench.leaderboard.per_class import per_class_table

    tables: list[Table] = []
    published = bool(group.origin)
    bootstrap = (uncertainty or {}).get(group.slug)
    # Seeds are averaged once per board; every table reads the same cells.
    same = aggregate(group.same)
    cross = same if group.cross is group.same else aggregate(group.cross)
    if intervals and bootstrap is not None:
        same = with_intervals(same, bootstrap)
        cross = same if group.cross is group.same else with_intervals(cross, bootstrap)
    for layout in layouts:
        if layout == "same":
            table = same_dataset_table(same, metrics, names, published=published,
                                       second=second)
        else:
            table = cross_dataset_table(cross, metrics, names, published=published,
                                        second=second)
        if intervals and bootstrap is not None:
            table = dataclasses.replace(table, notes=(*table.notes,
                                                      interval_note(table, bootstrap)))
        if marks in ("significance", "tiers") and bootstrap is not None:
            table = significance_marks(table, bootstrap, tiers=marks == "tiers")
        tables.append(mark_leakage(table, leakage or {}, names))
        if per_class and not published:
            per = per_class_table(group.cross, names, cross=layout == "cross",
                                  bootstrap=bootstrap if intervals else None)
            if intervals and bootstrap is not None:
                per = dataclasses.replace(per, notes=(*per.notes, interval_note(per, bootstrap)))
            tables.append(per)
        if compare is not None:
            paper_name = compare.slug or "paper"
            for metric in compare_metrics:
                tables.append(compare_table(group, compare, layout=layout, metric=metric,
                                            names=names, paper_name=paper_name))
    if summary_metric:
        if better(summary_metric) == "lower":
            raise DataError(f"the summary ranks models by a score that grows with quality; "
                            f"{summary_metric} shrinks. Give --summary another metric first "
                            "(--metric f1,ece).")
        tables += summary_tables(same, cross, summary_metric, names, second)
    if cost and not published:
        from bench.leaderboard.cost import cost_frame, cost_table

        tables.append(cost_table(cost_frame(group.cross), names))
    tables = [table for table in tables if table.rows and table.columns]
    if group.origin:
        heading = f"{group.slug}: published figures"
    else:
        heading = f"Leaderboard, protocol {group.protocol} ({group.protocol_hash})"
        if group.changes:
            heading += f", {'; '.join(group.changes)}"
    board_context = context(group, names, version=version or bench_version(),
                            date=date or today(), unofficial=unofficial)
    if bootstrap is not None and (intervals or marks != "paper"):
        board_context = dataclasses.replace(board_context, uncertainty=bootstrap.unit_text())
    return Board(
        title=heading,
        slug=group.slug,
        context=board_context,
        tables=tuple(tables),
        notes=group.notes,
    )


def build_boards(groups: Sequence[ScoreGroup], names: Names, **options) -> list[Board]:
    """Build a board per comparable group, leaving out groups with nothing to show.

    Raises a DataError when no group has anything, saying which layout would have shown more.
    """
    boards = [build_board(group, names, **options) for group in groups]
    shown = [board for board in boards if board.tables]
    if not shown:
        layouts = options.get("layouts", ("same",))
        hint = (
            " No run was tested on its own data set; `bench leaderboard --cross` shows the "
            "cross-data-set results."
            if "same" in layouts and "cross" not in layouts else ""
        )
        raise DataError(f"nothing to show for the metrics and filters given.{hint}")
    return shown
