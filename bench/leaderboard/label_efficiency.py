"""The label-efficiency board: per model and source, the score at each number of shots K.

Cells trained on K images per class (``bench run --shots K``) differ from the full-data ones in
one recipe value, ``training.shots``, so each K is a comparable group of its own (its own
protocol hash). This board lines up the groups that differ in nothing else (protocol name,
initialisation, every other override): a column group per target, a column per K (ascending,
``all`` last), each value the mean over seeds with its interval when ``--ci`` asks for one.
The header names every K's protocol hash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.engine.few_shot import ALL, shots_of, without_shots
from bench.errors import DataError
from bench.leaderboard.boards import bench_version, context, today, with_intervals
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import edition, slugify
from bench.leaderboard.model import Board, Column, Row, ScoreGroup, Table, Value
from bench.leaderboard.tables import aggregate, mark_columns, runs_note
from bench.metrics import DEFAULT_METRIC, better, title
from bench.weights import PRETRAINED, describe_initialisation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.leaderboard.intervals import Bootstrap
    from bench.leaderboard.plots import PlotJob

Shots = int | str
Series = list[tuple[Shots, ScoreGroup]]


def _order(shots: Shots) -> tuple[bool, int]:
    return (shots == ALL, 0 if shots == ALL else int(shots))


def shot_series(groups: Sequence[ScoreGroup]) -> tuple[list[Series], list[str]]:
    """Groups that differ only in K, K ascending; notes on groups left out (a second edition)."""
    series: dict[tuple[str, str, str], dict[Shots, ScoreGroup]] = {}
    notes = []
    for group in groups:
        key = (group.protocol, group.init, without_shots(group.overrides))
        shots = shots_of(group.overrides)
        found = series.setdefault(key, {})
        if shots in found:  # the same K on another split of some data set: keep the first
            notes.append(f"Left out: {group.slug} (K = {shots} again, on other splits).")
            continue
        found[shots] = group
    ordered = [sorted(found.items(), key=lambda item: _order(item[0]))
               for found in series.values()]
    return [s for s in ordered if len(s) > 1], notes


def shots_table(series: Series, names: Names, metric: str,
                uncertainty: Mapping[str, Bootstrap] | None = None) -> Table:
    """A row per model and source; per target, a column per K."""
    cells: dict[Shots, dict] = {}
    described = ""
    for shots, group in series:
        frame = group.cross[group.cross["metric"] == metric]
        found = aggregate(frame)
        bootstrap = (uncertainty or {}).get(group.slug)
        if bootstrap is not None:
            found, described = with_intervals(found, bootstrap), bootstrap.settings.describe()
        cells[shots] = found
    keys = {(model, source, target) for found in cells.values()
            for model, source, target, _ in found}
    targets = names.order("dataset", {target for _, _, target in keys})
    columns = [Column(key=f"{target}/{shots}", label=str(shots),
                      group=names.label("dataset", target), target=target, metric=metric,
                      better=better(metric))
               for target in targets for shots, _ in series]
    pairs = {(model, source) for model, source, _ in keys}
    rows = []
    for model in names.order("model", {model for model, _ in pairs}):
        for source in names.order("dataset", {source for _, source in pairs}):
            if (model, source) not in pairs:
                continue
            row: dict[str, Value] = {}
            for shots, _ in series:
                for target in targets:
                    value = cells[shots].get((model, source, target, metric))
                    if value is not None:
                        row[f"{target}/{shots}"] = value
            rows.append(Row(key=(model, source), labels=(names.label("model", model),
                                                         names.label("dataset", source)),
                            cells=row))
    typical, runs = runs_note(rows)
    hashes = ", ".join(f"{shots}: {group.protocol_hash}" for shots, group in series)
    notes = (
        f"{title(metric)} in % against K, the training images per class drawn from the "
        f"source's train split (the same images on every machine: a function of the split "
        f"fingerprint, K and the seed; a smaller K's images are among a larger one's); all: "
        f"the whole split.",
        runs,
        f"Protocol hash per K: {hashes}.",
        *([f"[low, high]: {described}."] if described else []),
    )
    return Table(name="shots", title=f"Label efficiency: {title(metric)} against K",
                 index=("Model", "Source"), index_keys=("model", "source"),
                 columns=tuple(columns), rows=mark_columns(rows, columns), notes=notes,
                 typical_n=typical)


def _first(series: Series) -> ScoreGroup:
    return dict(series).get(ALL, series[-1][1])


def shots_boards(groups: Sequence[ScoreGroup], names: Names, metric: str = DEFAULT_METRIC, *,
                 uncertainty: Mapping[str, Bootstrap] | None = None,
                 date: str | None = None) -> list[Board]:
    """A label-efficiency board per recipe that has cells at more than one K."""
    all_series, notes = shot_series(groups)
    boards = []
    for series in all_series:
        group = _first(series)
        table = shots_table(series, names, metric, uncertainty)
        if not table.rows:
            continue
        shown = ", ".join(str(shots) for shots, _ in series)
        base = context(group, names, version=bench_version(), date=date or today())
        recipe = without_shots(group.overrides)
        parts = [f"with {recipe}"] if recipe else ["as built in"]
        if group.init != PRETRAINED:
            parts.append(describe_initialisation(group.init))
        parts.append(f"K = {shown} images per class")
        heading = f"Label efficiency, protocol {group.protocol}"
        if group.init != PRETRAINED:
            heading += f", {describe_initialisation(group.init)}"
        boards.append(Board(
            title=heading,
            slug=slugify(f"{group.protocol}-{group.init}-shots"
                         + (f"-{edition([('recipe', recipe)])}" if recipe else "")),
            context=dataclasses.replace(
                base, protocol_hash=", ".join(g.protocol_hash for _, g in series),
                recipe=f"{group.protocol} {'; '.join(parts)}"),
            tables=(table,), notes=tuple(dict.fromkeys(n for _, g in series for n in g.notes))
            + tuple(notes),
        ))
    if not boards:
        raise DataError(
            "no results at more than one number of shots. Train on K images per class, e.g. "
            "`bench run --model M --source S --protocol linear-probe --shots 1,5,all`, then "
            "`bench leaderboard --shots`.")
    return boards


def _draw_curves(figure: Figure, lines: list[tuple[str, list[tuple[int, float, float | None,
                                                                   float | None]]]],
                 ticks: list[str], metric: str, heading: str) -> None:
    axes = figure.subplots()
    for label, points in lines:
        xs = [x for x, *_ in points]
        ys = [y for _, y, *_ in points]
        low = [y - (lo if lo is not None else y) for _, y, lo, _ in points]
        high = [(hi if hi is not None else y) - y for _, y, _, hi in points]
        axes.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=label)
    axes.set_xticks(range(len(ticks)), ticks)
    axes.set_xlabel("training images per class (K)")
    axes.set_ylabel(f"{title(metric)} (%)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    axes.set_title(heading, fontsize=9)


def shots_plot_jobs(board: Board, out_dir: Path, metric: str = DEFAULT_METRIC) -> list[PlotJob]:
    """A figure per target of a label-efficiency board: score against K.

    A line per model and source; error bars: the bootstrap interval where the board has one.
    """
    from bench.leaderboard.plots import PlotJob

    [table] = board.tables
    jobs = []
    for target in dict.fromkeys(column.target for column in table.columns):
        columns = [c for c in table.columns if c.target == target]
        ticks = [c.label for c in columns]
        lines = []
        for row in table.rows:
            points = [(i, v.mean, v.ci_low, v.ci_high) for i, c in enumerate(columns)
                      if (v := row.value(c)).mean is not None]
            if points:
                lines.append((" / ".join(row.labels), points))
        if not lines:
            continue
        heading = (f"{columns[0].group}: {title(metric)} against K\n"
                   f"{board.context.recipe}")

        def draw(figure: Figure, lines: list = lines, ticks: list = ticks,
                 heading: str = heading) -> None:
            _draw_curves(figure, lines, ticks, metric, heading)

        stem = Path(out_dir) / board.slug / f"shots-{slugify(target)}"
        jobs.append(PlotJob(stem, (1.5 + 0.9 * len(ticks) + 2.5, 4.2), draw))
    return jobs
