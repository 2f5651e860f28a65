"""Where a site's numbers come from: the results store or published records, and the papers.

Both the builder and the verifier read their inputs through :func:`load_inputs`, so
``bench site verify`` compares the pages with exactly what ``bench site build`` was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import DataError
from bench.leaderboard import REFERENCES, Names, read_records
from bench.leaderboard.submissions.publish import RECORDS_SUFFIX

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.intervals import RunPredictions
    from bench.store import ResultsStore


@dataclass(frozen=True)
class SiteSettings:
    """What the site shows; written into ``site.json`` so that verifying uses the same."""

    metrics: tuple[str, ...] = ()  # empty: the paper's four
    marks: str = "paper"  # the board's marks (BoardRequest.marks)
    resamples: int = 1000  # bootstrap intervals, where test predictions exist
    level: float = 0.95
    thumbnails: int = 48  # misclassified images per cell page (0: none)
    date: str | None = None  # shown when given; no date keeps rebuilt sites byte-identical

    def as_dict(self) -> dict[str, Any]:
        return {"metrics": list(self.metrics), "marks": self.marks, "resamples": self.resamples,
                "level": self.level, "thumbnails": self.thumbnails, "date": self.date}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteSettings:
        return cls(metrics=tuple(data.get("metrics", ())), marks=data.get("marks", "paper"),
                   resamples=int(data.get("resamples", 1000)),
                   level=float(data.get("level", 0.95)),
                   thumbnails=int(data.get("thumbnails", 48)), date=data.get("date"))


@dataclass
class SiteInputs:
    """Score rows (the store's or the records'), test predictions when known, and the papers."""

    frame: pd.DataFrame | None
    names: Names
    references: tuple[str, ...]
    store: ResultsStore | None = None
    # Anything with the store's ``prediction_arrays(run_ids)``: the store, or published files.
    prediction_source: Any = None
    origin: str = "store"  # or "records"
    record_names: tuple[str, ...] = ()  # records files read, by file name (no machine paths)
    _predictions: dict[tuple[str, str], RunPredictions] | None = field(default=None, repr=False)

    @property
    def has_results(self) -> bool:
        return self.frame is not None and not self.frame.empty

    def predictions(self) -> dict[tuple[str, str], RunPredictions]:
        """Test predictions per (run, target), read once; empty when there are none."""
        if self._predictions is None:
            from bench.leaderboard.intervals import split_predictions

            self._predictions = {}
            if self.prediction_source is not None and self.has_results:
                ids = sorted(set(self.frame["run_id"]))
                self._predictions = split_predictions(
                    self.prediction_source.prediction_arrays(ids))
        return self._predictions

    def runs(self) -> dict[str, dict[str, Any]]:
        """Each finished run's recorded summary and provenance (the store's; none in records)."""
        if self.store is None or not self.has_results:
            return {}
        import json

        frame = self.store.runs("finished")
        wanted = set(self.frame["run_id"])
        out = {}
        for row in frame.to_dict("records"):
            if row["id"] in wanted:
                out[row["id"]] = {
                    key: json.loads(row[key]) if isinstance(row[key], str) and row[key] else {}
                    for key in ("summary", "provenance", "settings")
                } | {"model": row["model"], "seed": int(row["seed"]), "epochs": row["epochs"],
                     "best_epoch": row["best_epoch"]}
        return out


def load_inputs(*, records: Sequence[str | Path] = (), store_path: str | Path | None = None,
                references: Sequence[str] | None = None, names: Names | None = None,
                ) -> SiteInputs:
    """Read the records files (or folders of them) when given, else the results store.

    A folder of records may hold none (a repository with only the paper's boards); a store
    that does not exist is an error naming what to give instead.
    """
    from bench.leaderboard.reference import get_reference

    names = names or Names.from_registries()
    chosen = tuple(REFERENCES) if references is None else tuple(
        get_reference(name).name for name in references)
    if records:
        from bench.leaderboard.predictions import merged, predictions_path, read_predictions

        files = [found for path in map(Path, records)
                 for found in (sorted(path.glob(f"*{RECORDS_SUFFIX}")) if path.is_dir()
                               else [path])]
        frame = read_records(files) if files else None
        # The predictions published beside a board give its cell pages and intervals.
        beside = [predictions_path(f) for f in files if f.name.endswith(RECORDS_SUFFIX)]
        found = merged(read_predictions(p) for p in beside if p.is_file())
        return SiteInputs(frame, names, chosen, prediction_source=found, origin="records",
                          record_names=tuple(path.name for path in files))
    from bench.leaderboard.cost import with_costs
    from bench.store import open_store

    if store_path is not None and not Path(store_path).is_file():
        raise DataError(f"no results store at {store_path}; give the path of a results.sqlite, "
                        "or build from published records with --records leaderboards/.")
    store = open_store(store_path, read_only=True)
    frame = with_costs(store.scores(), store)  # the cost columns records carry, from the store
    return SiteInputs(frame, names, chosen, store=store, prediction_source=store,
                      origin="store")
