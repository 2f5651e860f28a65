"""Published test predictions (``<board>.predictions.csv.gz``): what a board's scores come from.

One row per run x target x test image: ``run_id`` and ``target`` (as in the records beside it),
``key`` (the image's path in the target's split manifest), ``label`` and ``predicted`` (class
letters), and ``p_L`` ... ``p_B``, the class probabilities as the results store keeps them
(6 decimals). Rows are ordered by target, image and run, so the rows of one image sit together
(and compress: a 1,000-image target for 42 runs is about 1 MB).

Gzip-compressed CSV rather than Parquet: the standard library writes and reads it (pyarrow
would be a large dependency for one file), every tool and language opens it (``zcat``,
pandas, a spreadsheet, a browser's ``DecompressionStream``), a diff of two versions is a text
diff, and the bytes are a pure function of the predictions (no timestamp: ``mtime=0``), so a
re-publish changes nothing.

Read back, a file answers the results store's two prediction queries (``prediction_arrays``,
``predictions``) in the store's shapes, so intervals, significance marks and tiers are rebuilt
from a submission by the code that builds them from a store::

    predictions = read_predictions("leaderboards/quick-1234abcd.predictions.csv.gz")
    make_boards(request, records=read_records([...]), predictions=predictions)
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.labels import CLASSES
from bench.leaderboard.csvcells import escape, unescape
from bench.leaderboard.submissions.problems import PREDICTIONS, Collector, Problem

if TYPE_CHECKING:
    import pandas as pd

PREDICTIONS_SUFFIX = ".predictions.csv.gz"
PROBABILITY_COLUMNS = tuple(f"p_{letter}" for letter in CLASSES)
COLUMNS = ("run_id", "target", "key", "label", "predicted", *PROBABILITY_COLUMNS)
Pair = tuple[str, str]  # (run id, target)


def predictions_path(records: str | Path) -> Path:
    """The predictions file beside ``<board>.scores.csv`` (or beside ``<board>.md``)."""
    records = Path(records)
    for suffix in (".scores.csv", ".md"):
        if records.name.endswith(suffix):
            return records.with_name(records.name[: -len(suffix)] + PREDICTIONS_SUFFIX)
    raise DataError(f"{records}: give a <board>.scores.csv or <board>.md")


def predictions_bytes(arrays: Mapping[str, Any], pairs: Collection[Pair]) -> bytes:
    """The file's bytes from ``ResultsStore.prediction_arrays``, keeping the given (run, target).

    Probabilities are written as the shortest text that reads back as the same float, so the
    reader gets exactly the store's values.
    """
    wanted = set(pairs)
    rows = [i for i, pair in enumerate(zip(arrays["run_id"], arrays["target"], strict=True))
            if pair in wanted]
    rows.sort(key=lambda i: (arrays["target"][i], arrays["path"][i], arrays["run_id"][i]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    probabilities = arrays["probabilities"]
    for i in rows:
        writer.writerow([
            escape(arrays["run_id"][i]), escape(arrays["target"][i]), escape(arrays["path"][i]),
            CLASSES[int(arrays["label"][i])], CLASSES[int(arrays["predicted"][i])],
            *(repr(float(p)) for p in probabilities[i]),
        ])
    return gzip.compress(out.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


@dataclass(frozen=True)
class PublishedPredictions:
    """A predictions file read back: one entry per valid row, in file order.

    ``line`` is each row's line in the decompressed file (the header is line 1), for problems.
    """

    path: str
    run_id: np.ndarray  # str objects
    target: np.ndarray
    key: np.ndarray
    label: np.ndarray  # int64 indices into bench.CLASSES
    predicted: np.ndarray
    probabilities: np.ndarray  # rows x classes
    line: np.ndarray

    def pairs(self) -> dict[Pair, np.ndarray]:
        """The rows of each (run, target), ordered by image key as the store orders them."""
        order = np.lexsort((self.key, self.target, self.run_id))
        out: dict[Pair, np.ndarray] = {}
        start = 0
        for stop in range(1, len(order) + 1):
            if stop == len(order) or (self.run_id[order[stop]], self.target[order[stop]]) != (
                    self.run_id[order[start]], self.target[order[start]]):
                first = order[start]
                out[(str(self.run_id[first]), str(self.target[first]))] = order[start:stop]
                start = stop
        return out

    def prediction_arrays(self, run_ids: Sequence[str]) -> dict[str, Any]:
        """As ``ResultsStore.prediction_arrays``: rows of these runs by run, target and path."""
        wanted = set(run_ids)
        index = np.concatenate([rows for (run, _), rows in sorted(self.pairs().items())
                                if run in wanted] or [np.zeros(0, dtype=np.int64)])
        return {
            "run_id": self.run_id[index].tolist(),
            "target": self.target[index].tolist(),
            "path": self.key[index].tolist(),
            "label": self.label[index],
            "predicted": self.predicted[index],
            "probabilities": self.probabilities[index] if len(index)
            else np.zeros((0, len(CLASSES))),
        }

    def predictions(self, run_id: str, target: str | None = None) -> pd.DataFrame:
        """As ``ResultsStore.predictions``: one run's rows (of one target), by target and path."""
        import pandas as pd

        arrays = self.prediction_arrays([run_id])
        frame = pd.DataFrame({
            "run_id": arrays["run_id"], "target": arrays["target"], "path": arrays["path"],
            "label": arrays["label"], "predicted": arrays["predicted"],
            "probabilities": [row.tolist() for row in arrays["probabilities"]],
        })
        if target is not None:
            frame = frame[frame["target"] == target].reset_index(drop=True)
        return frame


def _read_text(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                           compression="gzip")
    except FileNotFoundError:
        raise DataError(f"no predictions file {path}; `bench leaderboard --publish` writes "
                        f"<board>{PREDICTIONS_SUFFIX} beside each board.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a predictions file starts with the header "
                        f"{','.join(COLUMNS)}.") from None
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: not a readable gzip-compressed CSV of predictions "
                        f"({exc}).") from exc


def load_predictions(path: str | Path) -> tuple[PublishedPredictions, list[Problem]]:
    """The file's valid rows, and a problem for each row that is not (with its line)."""
    path = Path(path)
    frame = _read_text(path)
    if absent := [c for c in COLUMNS if c not in frame.columns]:
        raise DataError(f"{path}: no column {', '.join(absent)}; a predictions file has the "
                        f"columns {','.join(COLUMNS)}.")
    found = Collector(str(path), PREDICTIONS)
    lines = np.arange(2, len(frame) + 2)
    index = {letter: i for i, letter in enumerate(CLASSES)}
    labels = frame["label"].map(index)
    predicted = frame["predicted"].map(index)
    probabilities = np.column_stack([_numbers(frame[c]) for c in PROBABILITY_COLUMNS]) \
        if len(frame) else np.zeros((0, len(CLASSES)))
    valid = np.ones(len(frame), dtype=bool)
    for column, values in (("label", labels), ("predicted", predicted)):
        bad = values.isna().to_numpy()
        for line, text in zip(lines[bad], frame[column][bad], strict=True):
            found.add(int(line), f"{column} {text!r} is not a class letter "
                                 f"({', '.join(CLASSES)})")
        valid &= ~bad
    bad = ~np.isfinite(probabilities).all(axis=1) if len(frame) else np.zeros(0, dtype=bool)
    for line in lines[bad]:
        found.add(int(line), "a class probability is not a finite number")
    valid &= ~bad
    text = {c: np.array([unescape(v) for v in frame[c]], dtype=object)
            for c in ("run_id", "target", "key")}
    read = PublishedPredictions(
        path=str(path), run_id=text["run_id"][valid], target=text["target"][valid],
        key=text["key"][valid],
        label=labels[valid].to_numpy(np.int64), predicted=predicted[valid].to_numpy(np.int64),
        probabilities=probabilities[valid], line=lines[valid],
    )
    return read, found.problems()


def _numbers(column: pd.Series) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def read_predictions(path: str | Path) -> PublishedPredictions:
    """A predictions file, every row valid (else a DataError naming the first bad row)."""
    read, problems = load_predictions(path)
    if problems:
        raise DataError(f"{problems[0]}; `bench leaderboard --check` lists every problem.")
    return read


def merged(files: Iterable[PublishedPredictions]) -> PublishedPredictions | None:
    """Several files as one (boards rebuilt from several records files)."""
    files = list(files)
    if not files:
        return None
    if len(files) == 1:
        return files[0]
    fields = ("run_id", "target", "key", "label", "predicted", "probabilities", "line")
    return PublishedPredictions(", ".join(f.path for f in files),
                                *(np.concatenate([getattr(f, name) for f in files])
                                  for name in fields))
