"""The submitted board against the one its records give: rebuilt, then compared line by line.

The board's "Rendered by" line gives the version and date to rebuild with; each differing block
of lines is one problem at its line in the submitted board.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path

from bench.errors import BenchError
from bench.leaderboard.display_names import Names
from bench.leaderboard.format import INTERVALS_LABEL
from bench.leaderboard.groups import edition
from bench.leaderboard.make import BoardRequest, make_boards
from bench.leaderboard.mcnemar import TIERS_LEGEND
from bench.leaderboard.predictions import PublishedPredictions
from bench.leaderboard.render.markdown import board_markdown
from bench.leaderboard.submissions.problems import Problem
from bench.leaderboard.submissions.records import read_records

MAX_DIFFERENCES = 20  # board lines reported before "and N more"
_RENDERED = re.compile(r"^- Rendered by bench (?P<version>.+), (?P<date>\d{4}-\d{2}-\d{2})$",
                       re.MULTILINE)
_UNOFFICIAL = re.compile(r"^- Unofficial: (?P<reasons>.+)$", re.MULTILINE)


def rendered_line(text: str) -> tuple[str, str] | None:
    """The version and date of a board's "Rendered by" line, if it has one."""
    match = _RENDERED.search(text)
    return (match["version"], match["date"]) if match else None


def check_board(records: Path, board: Path, request: BoardRequest,
                names: Names | None = None,
                predictions: PublishedPredictions | None = None) -> list[Problem]:
    """The board beside the records must be the one the records (and predictions) give.

    Its "Rendered by" line gives the version and date to rebuild with, and an "Unofficial"
    line, where it has one, is kept: the records' problems say why the board is unofficial.
    """
    read = _read_board(board)
    if isinstance(read, Problem):
        return [read]
    submitted, version, date = read
    unofficial = _UNOFFICIAL.search(submitted)
    try:
        # The cross layout shows every row; the published boards have every layout anyway.
        board_set = make_boards(dataclasses.replace(request, date=date, cross=True), names=names,
                                records=read_records([records]), predictions=predictions)
        built = board_set.published(version, unofficial=unofficial["reasons"]
                                    if unofficial else "")
    except BenchError as exc:
        return [Problem(str(records), 0, f"the records give no board: {exc}")]
    stem = board.name[: -len(".md")]
    by_slug = {b.slug: b for b in built}
    # One edition of a data set published with several splits: alone, it has no edition suffix.
    by_slug.update({f"{g.slug}-{edition(g.fingerprints)}": by_slug[g.slug]
                    for g in board_set.published_groups if g.slug in by_slug})
    if stem not in by_slug:
        return [Problem(str(board), 0, f"the records give the board(s) "
                                       f"{', '.join(sorted(by_slug))}, not {stem}: one board's "
                                       "records per file, named after its board")]
    problems = compare_text(board, submitted, board_markdown(by_slug[stem]))
    hint = _options_hint(submitted, request)
    return [Problem(str(board), 0, hint), *problems] if problems and hint else problems


def _options_hint(submitted: str, request: BoardRequest) -> str | None:
    """What the board shows that the check was not asked to rebuild (--ci, --marks tiers)."""
    missing = []
    if f"\n- {INTERVALS_LABEL}:" in submitted and not request.intervals:
        missing.append("--ci")
    if f"{TIERS_LEGEND}:" in submitted and request.marks != "tiers":
        missing.append("--marks tiers")
    if not missing:
        return None
    return (f"the board was published with {' '.join(missing)}: check it with the options it "
            f"was published with (`bench leaderboard --check ... {' '.join(missing)}`)")


def check_reference(board: Path, name: str, request: BoardRequest,
                    names: Names | None = None) -> list[Problem]:
    """A published reference board (no records): rebuilt from the shipped figures."""
    read = _read_board(board)
    if isinstance(read, Problem):
        return [read]
    submitted, version, date = read
    reference = BoardRequest(reference=name, date=date, second=request.second)
    built = make_boards(reference, names=names).published(version)
    return compare_text(board, submitted, board_markdown(built[0]))


def _read_board(board: Path) -> tuple[str, str, str] | Problem:
    """The submitted board's text with the version and date of its "Rendered by" line."""
    try:
        text = board.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Problem(str(board), 0, "no board beside the records; submit the .md "
                                      "`bench leaderboard --publish` wrote with them")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(str(board), 0, f"cannot read the board ({exc})")
    rendered = rendered_line(text)
    if rendered is None:
        return Problem(str(board), 0, "no \"- Rendered by bench VERSION, DATE\" line: a "
                                      "board as `bench leaderboard --publish` writes it has one")
    return text, *rendered


def compare_text(board: Path, submitted: str, expected: str) -> list[Problem]:
    """One problem per differing block of lines, at its line in the submitted board."""
    if submitted == expected:
        return []
    have, want = submitted.splitlines(keepends=True), expected.splitlines(keepends=True)
    problems = []
    matcher = difflib.SequenceMatcher(a=have, b=want, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        found = have[i1].rstrip("\n") if i1 < i2 else ""
        wanted = want[j1].rstrip("\n") if j1 < j2 else ""
        if tag == "delete":
            message = f"not in the board the records give: {_short(found)}"
        elif tag == "insert":
            message = f"the board the records give has here: {_short(wanted)}"
        else:
            message = f"reads {_short(found)}; the records give {_short(wanted)}"
        problems.append(Problem(str(board), min(i1 + 1, len(have)) or 1, message))
    if not problems:  # only the line endings or the final newline differ
        problems.append(Problem(str(board), len(have), "differs from the board the records "
                                                       "give in its line endings"))
    if len(problems) > MAX_DIFFERENCES:
        rest = len(problems) - MAX_DIFFERENCES
        problems = [*problems[:MAX_DIFFERENCES],
                    Problem(str(board), 0, f"and {rest} more differing blocks")]
    return problems


def _short(line: str, width: int = 100) -> str:
    text = line if len(line) <= width else line[: width - 1] + "…"
    return repr(text)
