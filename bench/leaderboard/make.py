"""The one entry point from results to boards: the CLI, the demo, publishing and notebooks call it.

    make_boards(BoardRequest(cross=True, metrics=["f1"]))   # -> BoardSet
    board_set.render("md"), publish_checked(board_set, folder), board_set.plot_jobs(folder)

A request says *what* to show (layout, metrics, filters, a published board to compare with);
where the scores come from is the store, or a published reference board; the output format is
the caller's choice alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import DataError
from bench.leaderboard.boards import build_board, build_boards, reference_group, store_groups
from bench.leaderboard.contamination import (
    exclude_contaminated,
    mark_boards,
    recorded,
    with_contamination,
)
from bench.leaderboard.cost import with_costs
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import empty_store_error
from bench.leaderboard.intervals import IntervalSettings, group_bootstraps
from bench.leaderboard.leakage import leakage_counts
from bench.leaderboard.model import Board, ScoreGroup
from bench.leaderboard.reference import published_labels
from bench.leaderboard.submissions.publish import recorded_leakage
from bench.metrics import DEFAULT_METRIC, missing_metrics_error, resolve_metrics

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.predictions import PublishedPredictions
    from bench.store import ResultsStore


@dataclass
class BoardRequest:
    """What a board shows. Empty filters mean everything; ``metrics`` empty: the paper's four."""

    cross: bool = False  # Table 3 layout (a row per model and source) instead of Table 2
    metrics: Sequence[str] = ()
    protocol: str | None = None  # stored name, hash prefix or protocol file
    models: Sequence[str] = ()
    sources: Sequence[str] = ()
    targets: Sequence[str] = ()
    summary: bool = False  # add the generalisation summary (drop per source, mean rank)
    compare: str | None = None  # a published board to put beside ours
    reference: str | None = None  # render a published board instead of the store
    date: str | None = None  # the boards' date line; default today
    intervals: bool = False  # bootstrap intervals: 96.1 [95.0, 97.1]
    resamples: int = 1000
    level: float = 0.95
    marks: str = "paper"  # "significance": bold every model not worse; "tiers": and rank tiers
    per_class: bool = False  # add per-class precision and recall
    second: str | None = None  # where second places go (SECOND_RULES); default: the group's own
    shift: bool = False  # the shift-suite layout: score per severity, mean relative drop
    cost: bool = False  # add the cost table: throughput, wall time, peak memory, device
    plot_scale: str = "auto"  # heat maps' colour scale (plots.SCALES): fitted, or 0-100
    agreement: bool = False  # Kendall's τ between the data sets' (or targets') rankings
    shots: bool = False  # the label-efficiency layout: score per number of shots K
    exclude_contaminated: bool = False  # leave out cells the model's pretraining may have seen

    def __post_init__(self) -> None:
        if self.reference and self.protocol:
            raise DataError("--protocol filters the results store; leave it out with "
                            "--reference (a published board has its own protocol).")
        if self.shots and (self.shift or self.reference):
            raise DataError("--shots lays out the results store's cells against K; leave out "
                            f"{'--shift' if self.shift else '--reference'}.")
        if self.reference and self.needs_predictions:
            raise DataError("--ci, --marks significance/tiers and --per-class need the results "
                            "store (test predictions, per-class scores); a published board "
                            "(--reference) has none.")

    @property
    def needs_predictions(self) -> bool:
        return self.intervals or self.marks != "paper" or self.per_class

    @property
    def focus(self) -> str:
        """The one metric of the summary, the comparison and the plots."""
        return self.metrics[0] if self.metrics else DEFAULT_METRIC


@dataclass
class BoardSet:
    """Boards built for a request, with what they were built from (for plots and publishing)."""

    request: BoardRequest
    boards: list[Board]
    groups: list[ScoreGroup]
    names: Names
    store: ResultsStore | None = None
    options: dict[str, Any] = field(default_factory=dict)
    predictions: PublishedPredictions | None = None  # a submission's, when built from records
    # What --publish writes: ``groups`` with the selection's shifted test sets (None: groups).
    publishing: list[ScoreGroup] | None = None

    def render(self, fmt: str) -> str:
        """The boards as ``md``, ``csv``, ``json``, ``latex`` or ``html`` text."""
        from bench.leaderboard.render.formats import render

        return render(self.boards, fmt)

    @property
    def published_groups(self) -> list[ScoreGroup]:
        """The groups ``publish`` writes a board (records, predictions) for."""
        return self.groups if self.publishing is None else self.publishing

    def published(self, version: str | None = None, unofficial: str = "") -> list[Board]:
        """The boards ``publish`` writes; ``version`` re-renders another bench's date line.

        Same-data-set, cross and summary tables of the unshifted targets, then the shift
        table of the shifted ones (``bench.leaderboard.shift.with_shift_section``).
        """
        from bench.leaderboard.shift import unshifted, with_shift_section

        options = {**self.options, "unofficial": unofficial}
        boards = [with_shift_section(build_board(unshifted(group), self.names,
                                                 layouts=("same", "cross"),
                                                 summary_metric=self.request.focus,
                                                 version=version, **options),
                                     group, self.names, self.request.focus)
                  for group in self.published_groups]
        if not any(board.tables for board in boards):
            raise DataError("nothing to publish for the metrics and filters given; "
                            "`bench leaderboard --cross` shows what there is.")
        return mark_boards([board for board in boards if board.tables], self.published_groups,
                           self.names)

    @property
    def prediction_source(self) -> ResultsStore | PublishedPredictions | None:
        """Where test predictions come from: the store, or a submission's predictions file."""
        return self.store if self.store is not None else self.predictions

    def plot_jobs(self, out_dir: Path) -> list:
        """Heat maps per group; confusion matrices and reliability diagrams from the store."""
        from bench.leaderboard.plots import confusion_jobs, heatmap_jobs
        from bench.leaderboard.reliability import reliability_jobs

        jobs = []
        if self.request.shots:
            from bench.leaderboard.label_efficiency import shots_plot_jobs

            for board in self.boards:
                jobs += shots_plot_jobs(board, out_dir, metric=self.request.focus)
            return jobs
        if self.request.shift:
            from bench.leaderboard.shift import shift_plot_jobs

            for group in self.groups:
                jobs += shift_plot_jobs(group, self.names, out_dir, metric=self.request.focus)
            return jobs
        for group in self.groups:
            jobs += heatmap_jobs(group, self.names, out_dir, metric=self.request.focus,
                                 scale=self.request.plot_scale)
            if self.store is not None:
                jobs += confusion_jobs(group, self.names, out_dir, self.store)
                jobs += reliability_jobs(group, self.names, out_dir, self.store)
        return jobs


def make_boards(request: BoardRequest | None = None, *, store: ResultsStore | None = None,
                store_path: Path | None = None, names: Names | None = None,
                records: pd.DataFrame | None = None,
                predictions: PublishedPredictions | None = None) -> BoardSet:
    """Build the boards a request asks for, from the results store or a published board.

    ``records`` (score rows as ``--publish`` writes them, see
    ``bench.leaderboard.submissions.records``)
    and their ``predictions`` replace the store, so a published board is rebuilt by the very
    same code.
    """
    request = request or BoardRequest()
    names = names or Names.from_registries()
    filters = {"models": list(request.models), "sources": list(request.sources),
               "targets": list(request.targets)}
    # A mistyped board name is named before the store is read (an empty store would hide it).
    compare = reference_group(request.compare, names) if request.compare else None
    if request.reference:
        groups = [reference_group(request.reference, names, **filters)]
        names = names.with_labels(published_labels(request.reference, names))
        present: list[str] = []
        leaks = {}  # a published board: no manifests to compare
        publishing = None
    else:
        if records is None:
            store = store or _open(store_path)
            frame = _finite(with_costs(store.scores(), store), store.path)
        else:
            frame = records
        present = sorted(frame["metric"].unique()) if not frame.empty else []
        resolve_metrics(list(request.metrics), present)  # an unknown metric is named first
        if frame.empty:
            raise empty_store_error(store.path) if store else DataError("the records hold no "
                                                                      "score rows.")
        # Records carry the contamination their board showed; the store's comes from the specs.
        frame = with_contamination(frame, names) if records is None else recorded(frame)
        if request.exclude_contaminated:
            frame = exclude_contaminated(frame)
        selection = frame
        frame = _shifted_rows(frame, request, records is not None)
        if request.shift and request.targets:
            filters["targets"] = _with_shifted(filters["targets"], frame, names)
        groups = store_groups(frame, names, protocol=request.protocol, **filters)
        publishing = _publishing_groups(selection, request, names, filters)
        # Records carry the leakage their board showed; the store's come from the data home.
        leaks = leakage_counts(frame) if records is None else recorded_leakage(records)
    chosen = resolve_metrics(list(request.metrics), present)
    uncertainty = None
    if store is not None and (absent := missing_metrics_error(chosen, present)):
        raise absent
    source = store if store is not None else predictions
    settings = IntervalSettings(resamples=request.resamples, level=request.level)
    if source is not None and (request.intervals or request.marks != "paper"):
        uncertainty = group_bootstraps(groups, source, settings)
    elif source is not None and request.agreement:  # τ resamples images where predictions are
        uncertainty = group_bootstraps(groups, source, settings, required=False)
    options = {
        "metrics": chosen,
        "compare": compare,
        "compare_metrics": chosen if request.metrics else [DEFAULT_METRIC],
        "date": request.date,
        "uncertainty": uncertainty,
        "intervals": request.intervals,
        "marks": request.marks,
        "per_class": request.per_class,
        "second": request.second,
        "leakage": leaks,
        "cost": request.cost,
    }
    if request.agreement:
        from bench.leaderboard.agreement import agreement_boards

        boards = agreement_boards(groups, names, layout="cross" if request.cross else "same",
                                  metrics=resolve_metrics(list(request.metrics) or [DEFAULT_METRIC],
                                                          present),
                                  uncertainty=uncertainty, resamples=request.resamples,
                                  level=request.level, date=request.date)
        return BoardSet(request, boards, groups, names, store, options)
    if request.shots:
        from bench.leaderboard.label_efficiency import shots_boards

        boards = shots_boards(groups, names, request.focus, date=request.date,
                              uncertainty=uncertainty if request.intervals else None)
        return BoardSet(request, boards, groups, names, store, options)
    if request.shift:
        from bench.leaderboard.shift import shift_boards

        boards = shift_boards(groups, names, request.focus, date=request.date)
        return BoardSet(request, mark_boards(boards, groups, names), groups, names, store,
                        options, predictions, publishing)
    boards = build_boards(groups, names, layouts=("cross",) if request.cross else ("same",),
                          summary_metric=request.focus if request.summary else None, **options)
    return BoardSet(request, mark_boards(boards, groups, names), groups, names, store, options,
                    predictions, publishing)


def _finite(frame: pd.DataFrame, where: object) -> pd.DataFrame:
    """Refuse scores that are not finite numbers: a board must never show ``nan``."""
    import numpy as np

    bad = frame[~np.isfinite(frame["value"].astype(float))]
    if bad.empty:
        return frame
    shown = "; ".join(f"run {r.run_id} on {r.target}: {r.metric} {r.value}"
                      for r in bad.head(5).itertuples())
    ids = " ".join(sorted(bad["run_id"].unique()))
    raise DataError(f"the results store {where} holds {len(bad)} scores that are not finite "
                    f"numbers ({shown}); a score is never NaN or infinite. Re-score the runs "
                    f"from their predictions (`bench rescore`) or remove them (`bench runs "
                    f"forget {ids}`).")


def from_store(store: ResultsStore | str | Path | None = None, **request: Any) -> BoardSet:
    """Boards in one call, for notebooks: ``from_store(cross=True).render("md")``."""
    from bench.store import ResultsStore

    if isinstance(store, (str, Path)):
        return make_boards(BoardRequest(**request), store_path=Path(store))
    return make_boards(BoardRequest(**request), store=store if isinstance(store, ResultsStore)
                       else None)


def _shifted_rows(frame: pd.DataFrame, request: BoardRequest, records: bool) -> pd.DataFrame:
    """Shifted targets (NAME~SHIFT:LEVEL) belong to the --shift board unless asked for by name.

    Records of shifted targets alone (a board of its shift table only) show them as they are.
    """
    if request.shift or any("~" in target for target in request.targets):
        return frame
    plain = frame[~frame["target"].str.contains("~", regex=False)]
    if plain.empty and records:
        return frame
    if plain.empty:
        raise DataError("the results store holds scores on shifted targets only; show them "
                        "with `bench leaderboard --shift`.")
    return plain


def _publishing_groups(selection: pd.DataFrame, request: BoardRequest, names: Names,
                       filters: dict[str, list[str]]) -> list[ScoreGroup] | None:
    """The groups ``--publish`` writes: the boards' rows and the shifted ones ``--shift`` shows.

    A board and its shift table share one records file (None: the boards' groups are those).
    """
    if request.shift or not selection["target"].str.contains("~", regex=False).any():
        return None
    targets = filters["targets"]
    if targets:
        targets = _with_shifted(targets, selection, names)
    return store_groups(selection, names, protocol=request.protocol, models=filters["models"],
                        sources=filters["sources"], targets=targets)


def _with_shifted(targets: list[str], frame: pd.DataFrame, names: Names) -> list[str]:
    """On the shift board ``--targets NAME`` (or ``all``) keeps NAME's shifted test sets too."""
    from bench.leaderboard.groups import expand_keywords

    shifted = [t for t in frame["target"].unique() if "~" in t]
    bases = [t.partition("~")[0] for t in shifted]
    wanted = {name.lower() for name in expand_keywords(targets, bases, names)}
    return [*targets, *sorted(t for t, b in zip(shifted, bases) if b.lower() in wanted)]


def _open(store_path: Path | None) -> ResultsStore:
    from bench.store import open_store

    if store_path is not None and not Path(store_path).is_file():
        raise DataError(f"no results store at {store_path}; give the path of a "
                        "results.sqlite, or leave --store out to use the data home's.")
    return open_store(store_path, read_only=True)  # boards only read: a read-only home works
