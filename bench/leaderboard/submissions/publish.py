"""Publishing: a Markdown board per comparable group, beside its score records and predictions.

The files are a deterministic function of the records and the date line, so a re-publish with
no new results changes nothing but that line, and golden tests can pin it with a fixed date.
What may be published is decided before: ``bench.leaderboard.submissions.submit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.errors import BenchError
from bench.leaderboard.cost import COST_COLUMNS, has_costs
from bench.leaderboard.csvcells import escape
from bench.leaderboard.groups import SCORE_COLUMNS
from bench.leaderboard.model import Board
from bench.leaderboard.predictions import PREDICTIONS_SUFFIX
from bench.leaderboard.render.markdown import board_markdown

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.leakage import Leak

DEFAULT_DIR = Path("leaderboards")
RECORDS_SUFFIX = ".scores.csv"
# Written only when a board marks leakage: the audit that found it lives in the publisher's
# data home, and a board rebuilt from its records elsewhere must show the same marks.
LEAK_COLUMNS = ("leaked_test_images", "test_images")


def with_leakage(frame: pd.DataFrame, leaks: Mapping[tuple[str, str], Leak] | None
                 ) -> pd.DataFrame:
    """Score rows with the leakage of their (source, target) pair, when there is any."""
    if not leaks:
        return frame
    pairs = list(zip(frame["source"], frame["target"], strict=True))
    return frame.assign(**{
        column: [str(getattr(leaks[p], field)) if p in leaks else "" for p in pairs]
        for column, field in zip(LEAK_COLUMNS, ("seen", "tests"), strict=True)
    })


def recorded_leakage(frame: pd.DataFrame) -> dict[tuple[str, str], Leak]:
    """The leakage a records file carries (see ``with_leakage``)."""
    from bench.leaderboard.leakage import Leak

    if any(column not in frame.columns for column in LEAK_COLUMNS):
        return {}
    found = {}
    for source, target, seen, tests in frame[["source", "target", *LEAK_COLUMNS]].itertuples(
            index=False):
        if str(seen).isdigit() and str(tests).isdigit():
            found[(source, target)] = Leak(int(seen), int(tests))
    return found


def records_csv(frame: pd.DataFrame) -> str:
    """Score rows in a stable order and column set: what a board is recomputed from.

    The cost columns are written when some run recorded its cost, ``contaminated`` when some
    row is (records without it had none); text cells that a spreadsheet would run as formulas
    are escaped (``bench.leaderboard.csvcells``).
    """
    from bench.leaderboard.contamination import COLUMN

    costs = COST_COLUMNS if has_costs(frame) else ()
    marked = (COLUMN,) if COLUMN in frame.columns and (frame[COLUMN] != "").any() else ()
    columns = [c for c in (*SCORE_COLUMNS, *LEAK_COLUMNS, *costs, *marked)
               if c in frame.columns]
    ordered = frame[columns].sort_values(
        ["model", "source", "seed", "target", "metric", "run_id"], kind="stable"
    )
    text = [c for c in columns if c not in ("seed", "value")]
    ordered = ordered.assign(**{c: ordered[c].map(escape) for c in text})
    return ordered.to_csv(index=False, lineterminator="\n")


def _write(path: Path, text: str | bytes) -> None:
    try:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BenchError(
            f"cannot write {path} ({exc.strerror or exc}); choose another folder with --out-dir."
        ) from exc


def publish(
    boards: Sequence[Board],
    out_dir: str | Path = DEFAULT_DIR,
    records: Mapping[str, pd.DataFrame] | None = None,
    predictions: Mapping[str, bytes] | None = None,
) -> list[Path]:
    """Write ``<slug>.md`` per board, with its records and predictions where given.

    Records go to ``<slug>.scores.csv``, predictions to ``<slug>.predictions.csv.gz``.
    Nothing is checked: see ``bench.leaderboard.submissions.submit.publish_checked``.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchError(f"cannot create {out_dir} ({exc.strerror or exc}).") from exc
    written = []
    for board in boards:
        path = out_dir / f"{board.slug}.md"
        _write(path, board_markdown(board))
        written.append(path)
        if records is not None and board.slug in records:
            path = out_dir / f"{board.slug}{RECORDS_SUFFIX}"
            _write(path, records_csv(records[board.slug]))
            written.append(path)
        if predictions is not None and board.slug in predictions:
            path = out_dir / f"{board.slug}{PREDICTIONS_SUFFIX}"
            _write(path, predictions[board.slug])
            written.append(path)
    return written
