"""Everything the site shows, gathered from the boards and the predictions before any page is drawn.

Boards come from the leaderboard's public entry points (``make_boards``, ``build_boards``), so
marks, intervals, names and layouts are the leaderboard's own; this module only decides which
boards, model pages and cell pages a site has and what each of them holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.errors import DataError
from bench.leaderboard import (
    Board,
    BoardRequest,
    IntervalSettings,
    Names,
    ScoreGroup,
    Table,
    build_boards,
    make_boards,
)
from bench.leaderboard.groups import slugify
from bench.leaderboard.intervals import Bootstrap, bootstrap_cells
from bench.metrics import PAPER_METRICS
from bench.site.cells import CellDetail, cell_detail
from bench.site.inputs import SiteInputs, SiteSettings
from bench.site.reproduce import Reproduce, for_reference, for_results

if TYPE_CHECKING:
    import pandas as pd

CellId = tuple[str, str, str, str]  # (group slug, model, source, target)


@dataclass
class BoardPage:
    """One table of a board on a page of its own."""

    path: str  # relative to the site root
    table: Table
    frame: str  # which of the group's frames its cells come from: same or cross


@dataclass
class SiteBoard:
    group: ScoreGroup
    board: Board
    names: Names
    kind: str  # results, shift or reference
    reproduce: Reproduce
    pages: list[BoardPage] = field(default_factory=list)
    bootstrap: Bootstrap | None = None
    records_file: str | None = None  # data/<slug>.scores.csv, the rows it was built from

    @property
    def slug(self) -> str:
        return self.board.slug


@dataclass
class CellPage:
    path: str
    group: ScoreGroup
    board: SiteBoard
    detail: CellDetail
    bootstrap: Bootstrap | None


@dataclass
class SiteContent:
    settings: SiteSettings
    inputs: SiteInputs
    boards: list[SiteBoard]
    cells: dict[CellId, CellPage]
    models: list[str]  # canonical names, in board order
    runs: dict[str, dict[str, Any]]  # run id -> recorded summary and provenance

    def cell_link(self, group: str, model: str, source: str, target: str) -> str | None:
        page = self.cells.get((group, model, source, target))
        return page.path if page else None


def model_path(model: str) -> str:
    return f"models/{slugify(model)}.html"


def cell_path(group: str, model: str, source: str, target: str) -> str:
    return f"cells/{slugify(group)}/{'--'.join(slugify(n) for n in (model, source, target))}.html"


def _metrics(settings: SiteSettings) -> list[str]:
    return list(settings.metrics) or list(PAPER_METRICS)


def _is_shifted(frame: pd.DataFrame) -> pd.Series:
    return frame["target"].str.contains("~", regex=False)


def _boards_of(board_set: Any, layouts: tuple[str, ...], **changes: Any) -> list[Board]:
    options = {**board_set.options, **changes}
    return build_boards(board_set.groups, board_set.names, layouts=layouts, **options)


def _make(request: BoardRequest, inputs: SiteInputs) -> Any:
    """``make_boards`` on the store, or on the records and the predictions beside them."""
    if inputs.store is not None:
        return make_boards(request, store=inputs.store, names=inputs.names)
    return make_boards(request, records=inputs.frame, names=inputs.names,
                       predictions=inputs.prediction_source)


def result_boards(inputs: SiteInputs, settings: SiteSettings) -> list[SiteBoard]:
    """Same- and cross-data-set tables per group, with intervals where predictions exist."""
    frame = inputs.frame
    if frame is None or _is_shifted(frame).all():
        return []
    request = BoardRequest(cross=True, metrics=_metrics(settings), date=settings.date)
    board_set = _make(request, inputs)
    predictions = inputs.predictions()
    boots = None
    if predictions:
        interval_settings = IntervalSettings(resamples=settings.resamples, level=settings.level)
        boots = {g.slug: bootstrap_cells(g.cross, predictions, interval_settings)
                 for g in board_set.groups}
    elif settings.marks != "paper":
        raise DataError(f"--marks {settings.marks} is computed from test predictions, which "
                        "these results do not have; leave --marks out (the paper's marks).")
    boards = _boards_of(board_set, ("same", "cross"), uncertainty=boots,
                        intervals=boots is not None, marks=settings.marks)
    groups = {g.slug: g for g in board_set.groups}
    runs = inputs.runs()
    out = []
    for board in boards:
        group = groups[board.slug]
        site_board = SiteBoard(group, board, board_set.names, "results",
                               for_results(group, board, runs),
                               bootstrap=(boots or {}).get(group.slug),
                               records_file=f"data/{slugify(board.slug)}.scores.csv")
        site_board.pages = [BoardPage(f"boards/{slugify(board.slug)}--{t.name}.html", t,
                                      "same" if t.name == "same" else "cross")
                            for t in board.tables if t.name in ("same", "cross")]
        out.append(site_board)
    return out


def shift_boards(inputs: SiteInputs, settings: SiteSettings) -> list[SiteBoard]:
    """The shift suite's board per group that has scores on shifted targets under this suite."""
    frame = inputs.frame
    if frame is None or not _is_shifted(frame).any():
        return []
    request = BoardRequest(shift=True, metrics=_metrics(settings)[:1], date=settings.date)
    try:
        board_set = _make(request, inputs)
    except DataError:  # every shifted score was made under another suite definition
        return []
    groups = {f"{g.slug}-shift": g for g in board_set.groups}
    predictions = inputs.predictions()
    interval_settings = IntervalSettings(resamples=settings.resamples, level=settings.level)
    runs = inputs.runs()
    out = []
    for board in board_set.boards:
        group = groups[board.slug]
        shifted = group.cross[_is_shifted(group.cross)]
        boot = bootstrap_cells(shifted, predictions, interval_settings) if predictions else None
        site_board = SiteBoard(group, board, board_set.names, "shift",
                               for_results(group, board, runs, shift=True), bootstrap=boot)
        site_board.pages = [BoardPage(f"boards/{slugify(board.slug)}.html", t, "cross")
                            for t in board.tables]
        out.append(site_board)
    return out


def reference_boards(inputs: SiteInputs, settings: SiteSettings) -> list[SiteBoard]:
    """The papers' published tables, as `bench leaderboard --reference NAME` shows them."""
    metrics = [m for m in _metrics(settings) if m in PAPER_METRICS] or list(PAPER_METRICS)
    out = []
    for name in inputs.references:
        request = BoardRequest(reference=name, cross=True, metrics=metrics, date=settings.date)
        board_set = make_boards(request, names=inputs.names)
        for board in _boards_of(board_set, ("same", "cross")):
            group = board_set.groups[0]
            site_board = SiteBoard(group, board, board_set.names, "reference",
                                   for_reference(group, board))
            site_board.pages = [BoardPage(f"boards/{slugify(board.slug)}--{t.name}.html", t,
                                          t.name) for t in board.tables]
            out.append(site_board)
    return out


def _cell_runs(frame: pd.DataFrame) -> dict[tuple[str, str, str], list[tuple[str, int]]]:
    runs = frame[["model", "source", "target", "seed", "run_id"]].drop_duplicates()
    out: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    for model, source, target, seed, run_id in sorted(runs.itertuples(index=False)):
        out.setdefault((model, source, target), []).append((run_id, int(seed)))
    return out


def cell_pages(boards: list[SiteBoard], inputs: SiteInputs) -> dict[CellId, CellPage]:
    """A page per board cell whose runs kept test predictions."""
    predictions = inputs.predictions()
    pages: dict[CellId, CellPage] = {}
    if not predictions:
        return pages
    for board in boards:
        if board.kind == "reference":
            continue
        frame = board.group.cross
        if board.kind == "shift":
            frame = frame[_is_shifted(frame)]
        for (model, source, target), runs in _cell_runs(frame).items():
            key = (board.group.slug, model, source, target)
            if key in pages:
                continue
            detail = cell_detail(model, source, target, runs, predictions)
            if detail is not None:
                pages[key] = CellPage(cell_path(*key), board.group, board, detail,
                                      board.bootstrap)
    return pages


def collect(inputs: SiteInputs, settings: SiteSettings) -> SiteContent:
    """Boards (results, shift, the papers'), their cells and the models they hold."""
    boards = [*result_boards(inputs, settings), *shift_boards(inputs, settings),
              *reference_boards(inputs, settings)]
    if not boards:
        raise DataError("nothing to put on a site: no score records and no published board. "
                        "Give --records FILE (a <board>.scores.csv), a results store with "
                        "finished runs, or leave --no-reference out.")
    models = inputs.names.order("model", {m for b in boards for m in b.group.cross["model"]}
                                | {m for b in boards for m in b.group.same["model"]})
    return SiteContent(settings, inputs, boards, cell_pages(boards, inputs), models,
                       inputs.runs())


def runs_of(content: SiteContent, model: str) -> list[tuple[SiteBoard, str, int, str]]:
    """(board, source, seed, run id) of every recorded run of ``model`` on a results board."""
    out = []
    for board in content.boards:
        if board.kind != "results":
            continue
        rows = board.group.cross[board.group.cross["model"] == model]
        for source, seed, run_id in sorted(
                set(rows[["source", "seed", "run_id"]].itertuples(index=False))):
            out.append((board, source, int(seed), run_id))
    return out
