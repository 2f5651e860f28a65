"""The shift board: per model and source, the score at each severity and the mean relative drop.

A column group is one target under one shift: severity 0 is the unshifted test split, then
each severity tested, then the mean over them of ``(score at 0 - score at k) / score at 0``
(in %; for a metric that improves downwards, its relative rise). A shifted score belongs to
the built-in suite whose fingerprint it carries (computed from the unshifted split's
fingerprint in the same group), so boards made under v1 still show; columns of a suite other
than the one in use name it. Scores that match no built-in suite are left out, with a note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.errors import BenchError, DataError
from bench.leaderboard.boards import context, today
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import slugify
from bench.leaderboard.model import Board, Column, Row, ScoreGroup, Table, Value
from bench.leaderboard.tables import CellIndex, aggregate, mark_columns, runs_note
from bench.metrics import DEFAULT_METRIC, better, title
from bench.shifts.suite import DEFAULT_VERSION, ShiftSuite, every_suite, load_suite
from bench.shifts.target_names import ShiftedName, is_shifted, parse_name, shifted_fingerprint

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from bench.leaderboard.plots import PlotJob

DROP = "drop"


Member = tuple[ShiftedName, ShiftSuite]
SeriesKey = tuple[str, str, str]  # base, shift, suite version


def _suite_of(target: str, fingerprints: dict[str, str], suites: Sequence[ShiftSuite]
              ) -> Member | None:
    """The first suite under which ``target``'s fingerprint is what it would make now."""
    for suite in suites:
        try:
            shifted = parse_name(target, suite)
        except BenchError:
            continue  # a shift or severity this suite does not have
        base = fingerprints.get(shifted.base)
        if base is None or shifted_fingerprint(base, shifted, suite) == fingerprints[target]:
            return shifted, suite
    return None


def _members(group: ScoreGroup, suites: Sequence[ShiftSuite]
             ) -> tuple[dict[str, Member], list[str]]:
    """The group's shifted targets with the suite each was made under; notes on the rest."""
    fingerprints = dict(group.fingerprints)
    members, stale = {}, []
    for target in sorted({t for t in group.cross["target"] if is_shifted(t)}):
        found = _suite_of(target, fingerprints, suites)
        if found is None:
            stale.append(target)
        else:
            members[target] = found
    notes = []
    if stale:
        known = ", ".join(suite.title for suite in suites)
        notes.append(f"Left out, made under another shift definition than the built-in ones "
                     f"({known}): {', '.join(stale)}.")
    return members, notes


def _series(members: dict[str, Member]) -> dict[SeriesKey, list[tuple[str, str]]]:
    """(base, shift, version) -> [(level, target)] with severity 0 (the base itself) first."""
    series: dict[SeriesKey, list[tuple[str, str]]] = {}
    for target, (shifted, suite) in members.items():
        key = (shifted.base, shifted.shift, suite.version)
        series.setdefault(key, []).append((shifted.level, target))

    def order(item: tuple[str, str]) -> tuple[bool, float]:
        return (not item[0].isdigit(), float(item[0]))  # severities, then free values (0.5)

    return {key: [("0", key[0]), *sorted(levels, key=order)] for key, levels in series.items()}


def relative_drop(base: float | None, shifted: Sequence[float | None], metric: str
                  ) -> float | None:
    """Mean relative loss of quality over the severities, in % of the unshifted score."""
    values = [v for v in shifted if v is not None]
    if base is None or base == 0 or not values:
        return None
    sign = 1 if better(metric) == "higher" else -1
    return sum(sign * (base - v) / base * 100 for v in values) / len(values)


def shift_table(group: ScoreGroup, names: Names, metric: str, suite: ShiftSuite
                ) -> tuple[Table | None, list[str]]:
    suites = {s.version: s for s in (suite, *every_suite())}
    members, notes = _members(group, list(suites.values()))
    series = _series(members)
    if not series:
        return None, notes
    cells: CellIndex = aggregate(group.cross[group.cross["metric"] == metric])
    order = {base: i for i, base in enumerate(names.order("dataset", {k[0] for k in series}))}
    keys = sorted(series, key=lambda key: (order[key[0]], key[2] != suite.version, key[2],
                                           suites[key[2]].shifts.index(key[1])))

    def prefix(key: SeriesKey) -> str:  # the suite in use is unmarked
        return f"{key[0]}~{key[1]}" + ("" if key[2] == suite.version else f"@v{key[2]}")

    columns = []
    for key in keys:
        heading = f"{names.label('dataset', key[0])} ~{key[1]}"
        if key[2] != suite.version:
            heading += f" (suite v{key[2]})"
        for level, target in series[key]:
            columns.append(Column(key=f"{prefix(key)}/{level}", label=level, group=heading,
                                  target=target, metric=metric, better=better(metric)))
        columns.append(Column(key=f"{prefix(key)}/{DROP}", label=DROP, group=heading,
                              target=f"{key[0]}~{key[1]}", metric=f"{metric}_relative_drop",
                              better="lower"))
    pairs = {(model, source) for model, source, target, m in cells
             if m == metric and target in members}
    models = names.order("model", {model for model, _ in pairs})
    sources = names.order("dataset", {source for _, source in pairs})
    rows = []
    for model in models:
        for source in sources:
            if (model, source) not in pairs:
                continue
            row: dict[str, Value] = {}
            for key in keys:
                found = {level: cells.get((model, source, target, metric))
                         for level, target in series[key]}
                row.update({f"{prefix(key)}/{level}": value
                            for level, value in found.items() if value is not None})
                zero = found.pop("0")
                drop = relative_drop(zero.mean if zero else None,
                                     [v.mean for level, v in found.items()
                                      if v is not None and level.isdigit()], metric)
                if drop is not None:
                    row[f"{prefix(key)}/{DROP}"] = Value(round(drop, 10))
            rows.append(Row(key=(model, source), labels=(names.label("model", model),
                                                         names.label("dataset", source)),
                            cells=row))
    typical, runs = runs_note(rows)
    described = []
    for version in dict.fromkeys(key[2] for key in keys):
        used = suites[version]
        shifts = dict.fromkeys(key[1] for key in keys if key[2] == version)
        described.append(f"Shifts ({used.name} v{used.version}, hash {used.hash}): "
                         + "; ".join(f"{s}: {used.descriptions[s]}" for s in shifts) + ".")
    table_notes = (
        f"{title(metric)} in % at each severity (0: the unshifted test split); {DROP}: mean "
        f"relative loss over the severities 1-5 shown, in % of the unshifted score.",
        runs,
        *described,
    )
    table = Table(name="shift", title=f"Shift suite: {title(metric)} under each shift",
                  index=("Model", "Source"), index_keys=("model", "source"),
                  columns=tuple(columns), rows=mark_columns(rows, columns), notes=table_notes,
                  typical_n=typical)
    return table, notes


def shift_boards(groups: Sequence[ScoreGroup], names: Names, metric: str = DEFAULT_METRIC, *,
                 date: str | None = None, suite: ShiftSuite | None = None) -> list[Board]:
    """A shift board per comparable group that has scores on shifted targets."""
    from bench.leaderboard.boards import bench_version

    suite = suite or load_suite()
    boards = []
    for group in groups:
        table, notes = shift_table(group, names, metric, suite)
        if table is None or not table.rows:
            continue
        boards.append(Board(
            title=f"Shift suite, protocol {group.protocol} ({group.protocol_hash})",
            slug=f"{group.slug}-shift",
            context=context(group, names, version=bench_version(), date=date or today()),
            tables=(table,), notes=(*group.notes, *notes),
        ))
    if not boards:
        raise DataError(
            "no scores on shifted targets. Test a trained model on one, e.g. "
            "`bench run --model M --source S --target S~stain` (severities 1 to 5), then "
            "`bench leaderboard --shift`."
        )
    return boards


def unshifted(group: ScoreGroup) -> ScoreGroup:
    """The group without its shifted targets' rows: what a published board's tables rank.

    The split fingerprints stay, shifted ones included: the board's header names every test
    set its records hold.
    """
    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["target"].map(is_shifted)]

    cross = plain(group.cross)
    same = cross if group.same is group.cross else plain(group.same)
    return dataclasses.replace(group, same=same, cross=cross)


def with_shift_section(board: Board, group: ScoreGroup, names: Names, metric: str = DEFAULT_METRIC
                       ) -> Board:
    """A published board with the shift table of its group's shifted targets, when it has any.

    One board, one records file, one predictions file: the shifted scores are published,
    checked and rebuilt with the unshifted ones their drops are measured from.
    """
    if not group.cross["target"].map(is_shifted).any():
        return board
    # The default suite, not $BENCH_SHIFT_SUITE: a published board reads the same everywhere.
    table, notes = shift_table(group, names, metric, load_suite(DEFAULT_VERSION))
    tables = (*board.tables, table) if table is not None and table.rows else board.tables
    return dataclasses.replace(board, tables=tables, notes=(*board.notes, *notes))


def _draw_severity(figure: Figure, panels: list[tuple[str, list[tuple[str, list]]]],
                   metric: str, heading: str) -> None:
    axes_list = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for axes, (shift, lines) in zip(axes_list, panels):
        for label, points in lines:
            axes.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
        axes.set_title(shift, fontsize=9)
        axes.set_xlabel("severity")
        axes.set_xticks(range(0, 6))
        axes.grid(alpha=0.3)
    axes_list[0].set_ylabel(f"{title(metric)} (%)")
    axes_list[-1].legend(fontsize=7, loc="lower left")
    figure.suptitle(heading, fontsize=10)


def shift_plot_jobs(group: ScoreGroup, names: Names, out_dir: Path, metric: str = DEFAULT_METRIC,
                    suite: ShiftSuite | None = None) -> list[PlotJob]:
    """A figure per unshifted target: a panel per shift, score against severity.

    A line per model and source, each point the mean over seeds.
    """
    from bench.leaderboard.plots import PlotJob

    suite = suite or load_suite()
    table, _ = shift_table(group, names, metric, suite)
    if table is None:
        return []
    jobs = []
    bases = dict.fromkeys(c.key.split("~")[0] for c in table.columns)
    for base in bases:
        panels = []
        for prefix in dict.fromkeys(c.key.split("/")[0] for c in table.columns
                                    if c.key.startswith(f"{base}~")):
            shift = prefix.split("~", 1)[1].replace("@", " ")  # stain, or stain v1 (old suite)
            columns = [c for c in table.columns
                       if c.key.startswith(f"{prefix}/") and c.label != DROP
                       and c.label.isdigit()]
            if len(columns) < 2:
                continue
            lines = []
            for row in table.rows:
                points = [(int(c.label), row.value(c).mean) for c in columns
                          if row.value(c).mean is not None]
                if points:
                    lines.append((" / ".join(row.labels), points))
            panels.append((shift, lines))
        if not panels:
            continue
        heading = (f"{names.label('dataset', base)} under shifts ({suite.name} "
                   f"v{suite.version})\n{group.protocol} ({group.protocol_hash})")

        def draw(figure: Figure, panels: list = panels, heading: str = heading) -> None:
            _draw_severity(figure, panels, metric, heading)

        stem = Path(out_dir) / group.slug / f"shift-{slugify(base)}"
        jobs.append(PlotJob(stem, (1.0 + 3.2 * len(panels), 3.8), draw))
    return jobs
