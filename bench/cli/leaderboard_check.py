"""`bench leaderboard --check`, `--records` and `--publish`: submissions, made and verified.

The options live on `bench leaderboard`; what they do is here, over
`bench.leaderboard.submissions`: ``check``, ``records`` and ``publish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.cli.output import console
from bench.errors import DataError, OptionError
from bench.leaderboard.make import BoardRequest, BoardSet

# Options that read or write what --check does not: naming one with it is a mistake.
NOT_WITH_CHECK = ("--records", "--publish", "--plots", "--out", "--store", "--reference",
                  "--unofficial")


def given_options() -> list[str]:
    """The options of the running command that the user typed (not left at their default)."""
    import click
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return [param.opts[0] for param in ctx.command.params
            if isinstance(param, click.Option) and param.name
            and ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT]


def validate(files: Sequence[Path], *, check: bool, records: bool) -> None:
    """Usage errors first: files without --records/--check, options that cannot go together."""
    given = given_options()
    if files and not (check or records):
        raise OptionError(f"{files[0]}: files are given with --records (rebuild their boards) "
                          "or --check (verify a submission), e.g. "
                          f"`bench leaderboard --check {files[0]}`.")
    if (check or records) and not files:
        flag = "--check" if check else "--records"
        raise OptionError(f"{flag} needs files: `bench leaderboard {flag} "
                          "leaderboards/<board>.scores.csv`.")
    if "--fingerprints" in given and not (check or "--publish" in given):
        raise OptionError("--fingerprints is the manifest --check (and --publish, which checks "
                          "first) compares with; give one of them too, or leave it out.")
    if "--unofficial" in given and "--publish" not in given:
        raise OptionError("--unofficial writes boards --check refuses, marked so; it goes with "
                          "--publish.")
    if "--strict" in given and not check:
        raise OptionError("--strict makes --check fail on checks it could not make; give "
                          "--check too, or leave it out.")
    if check and (clash := [option for option in NOT_WITH_CHECK if option in given]):
        raise OptionError(f"--check verifies submitted files and writes nothing; leave out "
                          f"{', '.join(clash)}.")
    if records and (clash := [o for o in ("--store", "--reference") if o in given]):
        raise OptionError(f"--records rebuilds boards from the files given, not from "
                          f"{' or '.join(clash)}; leave {'it' if len(clash) == 1 else 'them'} "
                          "out.")


def _print(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def run_check(files: Sequence[Path], request: BoardRequest, fingerprints: Path | None,
              strict: bool = False) -> None:
    """Print every problem with its row, then the checks not made; exit 1 on any.

    With ``strict`` a check not made fails too. A file without problems gets an OK line.
    """
    from bench.leaderboard.fingerprints import load_fingerprints
    from bench.leaderboard.submissions.check import (
        check_submission,
        failures,
        passed,
        submissions,
        summary,
    )

    if request.per_class:
        raise OptionError("--per-class needs per-class scores, which a submission's records "
                          "do not hold: leave it out of --check.")
    published = load_fingerprints(fingerprints)
    problems = []
    expanded = [found for path in files
                for found in (submissions(path) if path.is_dir() else [path])]
    if not expanded:
        raise DataError(f"no boards in {', '.join(map(str, files))}: a folder is checked "
                        f"board by board (<board>.scores.csv, and reference boards).")
    for path in expanded:
        found = check_submission(path, request=request, fingerprints=published)
        for problem in sorted(found, key=lambda p: p.severity != "error"):
            _print(str(problem))
        if not failures(found):
            _print(passed(path) + (" (see what could not be checked above; --strict fails on "
                                   "it)" if found else ""))
        problems += failures(found, strict=strict)
    if problems:
        raise DataError(f"{summary(problems)}; each is listed above with its row.")


def run_publish(board_set: BoardSet, out_dir: Path, *, unofficial: bool,
                fingerprints: Path | None) -> None:
    """Publish what --check accepts; list the problems of what it does not."""
    from bench.leaderboard.submissions.submit import PublishRefused, publish_checked

    try:
        publication = publish_checked(board_set, out_dir, unofficial=unofficial,
                                      fingerprints=fingerprints)
    except PublishRefused as refused:
        for problem in refused.problems:
            _print(str(problem))
        raise
    for problem in publication.problems:
        _print(f"unofficial: {problem}")
    for path in publication.written:
        _print(f"wrote {path}")
