"""Publishing only what ``bench leaderboard --check`` accepts.

The files of each board (its Markdown, records and predictions) are written to a staging
folder, checked there by the very check a reviewer runs (``check_submission``), and only then
written into place. A board the check refuses (recipe overrides, demo or generated sets,
unpublished fingerprints, non-finite scores, scores its predictions do not give) is refused
with every problem listed, or, with ``unofficial``, written with a header line saying why.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.errors import DataError
from bench.leaderboard.predictions import predictions_bytes
from bench.leaderboard.submissions.check import check_submission
from bench.leaderboard.submissions.problems import OTHER, Problem, failures
from bench.leaderboard.submissions.publish import DEFAULT_DIR, RECORDS_SUFFIX, publish, with_leakage

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.fingerprints import PublishedSplit
    from bench.leaderboard.make import BoardSet


@dataclass
class Publication:
    """What ``publish_checked`` wrote, and the problems of boards written as unofficial."""

    written: list[Path]
    problems: list[Problem] = field(default_factory=list)

    @property
    def unofficial(self) -> bool:
        return bool(self.problems)


class PublishRefused(DataError):
    """``--check`` does not accept the boards; ``problems`` says why, row by row."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        files = sorted({Path(p.file).name for p in self.problems})
        super().__init__(
            f"not published: `bench leaderboard --check` finds {len(self.problems)} "
            f"problem{'s' * (len(self.problems) != 1)} in {', '.join(files)} (listed above). "
            "Fix them, or publish with --unofficial to write boards marked unofficial."
        )


def unofficial_text(problems: Sequence[Problem]) -> str:
    """The header's "Unofficial" line: why `--check` does not accept the board."""
    reasons = dict.fromkeys(problem.topic or OTHER for problem in problems)
    return ("not accepted by bench leaderboard --check (" + "; ".join(reasons) + "), "
            "published with --unofficial")


def submission_files(board_set: BoardSet) -> tuple[dict[str, pd.DataFrame], dict[str, bytes]]:
    """Each group's records (with leakage and costs) and predictions, keyed by its slug."""
    leaks = board_set.options.get("leakage")
    groups = board_set.published_groups  # shifted targets too: the board's shift table
    records = {g.slug: with_leakage(g.cross, leaks) for g in groups}
    source = board_set.prediction_source
    predictions = {}
    for group in groups:
        ids = sorted(set(group.cross["run_id"]))
        pairs = set(zip(group.cross["run_id"], group.cross["target"], strict=True))
        arrays = source.prediction_arrays(ids) if source is not None else \
            {"run_id": [], "target": [], "path": [], "label": [], "predicted": [],
             "probabilities": []}
        predictions[group.slug] = predictions_bytes(arrays, pairs)
    return records, predictions


def publish_checked(
    board_set: BoardSet,
    out_dir: str | Path = DEFAULT_DIR,
    *,
    unofficial: bool = False,
    fingerprints: Mapping[str, PublishedSplit] | str | Path | None = None,
    protocols: Mapping[str, str] | None = None,
) -> Publication:
    """Publish the boards `--check` accepts; raise ``PublishRefused`` for any it does not.

    With ``unofficial`` a refused board is written anyway, its header saying why, and the
    problems come back in the ``Publication``. ``fingerprints`` and ``protocols`` are the
    check's (default: the shipped manifest, the built-in protocols). A published reference
    board (``--reference``) has no records: it is written as it is.
    """
    out_dir = Path(out_dir)
    if board_set.request.reference:
        return Publication(publish(board_set.published(), out_dir))
    records, predictions = submission_files(board_set)
    boards = board_set.published()
    refused: dict[str, list[Problem]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as staging:
        publish(boards, staging, records, predictions)
        for board in boards:
            found = check_submission(Path(staging) / f"{board.slug}{RECORDS_SUFFIX}",
                                     request=board_set.request, names=board_set.names,
                                     fingerprints=fingerprints, protocols=protocols)
            if found := [_moved(p, Path(staging), out_dir) for p in failures(found)]:
                refused[board.slug] = found
    problems = [p for found in refused.values() for p in found]
    if problems and not unofficial:
        raise PublishRefused(problems)
    if refused:
        boards = [dataclasses.replace(board, context=dataclasses.replace(
                      board.context, unofficial=unofficial_text(refused[board.slug])))
                  if board.slug in refused else board for board in boards]
    return Publication(publish(boards, out_dir, records, predictions), problems)


def _moved(problem: Problem, staging: Path, out_dir: Path) -> Problem:
    """A problem found in the staging folder, named at its place in ``out_dir``."""
    path = Path(problem.file)
    if path.parent != staging:
        return problem
    return dataclasses.replace(problem, file=str(out_dir / path.name))
