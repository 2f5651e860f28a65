"""Published score records (``<board>.scores.csv``): read them back, rebuild their boards.

A board is a pure function of its records, so anyone can rebuild it without our results
store; ``--publish`` writes the records and this module reads them with the same columns
and types the store gives, so the rebuilt board is byte-identical to the published one.
The predictions beside them (``bench.leaderboard.predictions``) are read too, so boards with
intervals, significance marks or tiers are rebuilt the same way.

The public API (``bench.leaderboard``)::

    read_records(paths)             score rows, typed as ResultsStore.scores() gives them
    read_predictions(path)          a predictions file, answering the store's prediction queries
    from_records(paths, request)    the boards, as make_boards builds them from a store

Columns: ``run_id, model, source, seed, protocol, protocol_hash, source_fingerprint, target,
target_fingerprint, metric, value, init, overrides``; then, when the board has them, the
leakage columns (``leaked_test_images, test_images``) and the cost columns
(``bench.leaderboard.cost.COST_COLUMNS``); a submission may add ``ci_low, ci_high``. Text
cells that a spreadsheet would run as formulas are escaped (``bench.leaderboard.csvcells``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import DataError
from bench.leaderboard.contamination import COLUMN as CONTAMINATED
from bench.leaderboard.cost import COST_COLUMNS
from bench.leaderboard.csvcells import unescape
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import SCORE_COLUMNS
from bench.leaderboard.make import BoardRequest, BoardSet, make_boards
from bench.leaderboard.predictions import (
    PREDICTIONS_SUFFIX,
    merged,
    predictions_path,
    read_predictions,
)
from bench.leaderboard.submissions.publish import LEAK_COLUMNS, RECORDS_SUFFIX

if TYPE_CHECKING:
    import pandas as pd

# Everything is text but the seed and the value: a fingerprint or run id made of digits
# must not turn into a number (and lose its leading zeros).
NUMERIC: dict[str, type] = {"seed": int, "value": float}
OPTIONAL_COLUMNS = ("ci_low", "ci_high")  # a submission may give each score's interval


def missing_columns(columns: Iterable[str]) -> list[str]:
    present = set(columns)
    return [c for c in SCORE_COLUMNS if c not in present]


def read_records_text(path: Path) -> pd.DataFrame:
    """The records as written, every column text (for checking row by row), text unescaped."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise DataError(f"no records file {path}; give the path of a published "
                        "<board>.scores.csv (see leaderboards/).") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: not a readable CSV file of score records ({exc}).") from exc
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a records file starts with the header "
                        f"{','.join(SCORE_COLUMNS)}.") from None
    return frame.assign(**{column: frame[column].map(unescape) for column in frame.columns
                           if column not in NUMERIC})


def number(text: str, kind: type) -> float | int | None:
    """Parse like Python (exact: the float read is the one written), None when not a number."""
    try:
        return kind(text)
    except (TypeError, ValueError):
        return None


def typed(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Give records the types the store's scores have (int seeds, float values)."""
    if absent := missing_columns(frame.columns):
        raise DataError(f"{where}: no column {', '.join(absent)}; records have the columns "
                        f"{','.join(SCORE_COLUMNS)} (as `bench leaderboard --publish` writes).")
    out = frame[[c for c in (*SCORE_COLUMNS, *LEAK_COLUMNS, *COST_COLUMNS, CONTAMINATED)
                 if c in frame.columns]].copy()
    for column, kind in NUMERIC.items():
        values = [number(text, kind) for text in out[column].tolist()]
        bad = next((i for i, v in enumerate(values) if v is None or not math.isfinite(v)), None)
        if bad is not None:
            raise DataError(f"{where} row {bad + 2}: {column} {out[column].iloc[bad]!r} is not "
                            "a finite number; a score is never NaN or infinite. "
                            "`bench leaderboard --check FILE` lists every problem.")
        out[column] = values
    return out.astype({"seed": "int64", "value": "float64"})


def read_records(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Score rows from records files (or folders of them), as ``ResultsStore.scores()`` gives."""
    import pandas as pd

    files = record_files(paths)
    frames = [typed(read_records_text(path), str(path)) for path in files]
    if not frames:
        raise DataError("--records needs at least one records file (<board>.scores.csv).")
    return pd.concat(frames, ignore_index=True)


def record_files(paths: Iterable[str | Path]) -> list[Path]:
    """The records files given, a folder standing for every records file in it."""
    return [found for path in map(Path, paths)
            for found in (sorted(path.glob(f"*{RECORDS_SUFFIX}")) if path.is_dir() else [path])]


def from_records(paths: Iterable[str | Path], request: BoardRequest | None = None, *,
                 names: Names | None = None, **options: Any) -> BoardSet:
    """Boards rebuilt from published records: ``from_records(["x.scores.csv"]).render("md")``.

    ``options`` are BoardRequest fields, used when no ``request`` is given. Intervals,
    significance marks and tiers come from the predictions beside the records.
    """
    request = request or BoardRequest(**options)
    if request.reference:
        raise DataError("--records rebuilds our boards from their records; --reference shows "
                        "a published paper's figures. Give one of them.")
    files = record_files(paths)
    if request.per_class:
        raise DataError("--per-class needs the results store (per-class scores); published "
                        "records hold one score per run, target and metric.")
    absent = [str(f) for f in files if not f.name.endswith(RECORDS_SUFFIX)
              or not predictions_path(f).is_file()]
    if absent and request.needs_predictions:
        raise DataError(f"--ci and --marks significance are computed from test predictions, "
                        f"and {', '.join(absent)} has no <board>{PREDICTIONS_SUFFIX} beside it "
                        "(`bench leaderboard --publish` writes one beside each board).")
    predictions = None if absent else merged(
        read_predictions(predictions_path(f)) for f in files)
    return make_boards(request, records=read_records(files), names=names,
                       predictions=predictions)
