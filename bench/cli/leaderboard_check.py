"""`bench leaderboard --check` and `--records`: published records instead of the results store.

The options live on `bench leaderboard`; what they do is here, over `bench.leaderboard.check`
and `bench.leaderboard.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.cli.output import console
from bench.errors import DataError, OptionError
from bench.leaderboard.make import BoardRequest

# Options that read or write what --check does not: naming one with it is a mistake.
NOT_WITH_CHECK = ("--records", "--publish", "--plots", "--out", "--store", "--reference")


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
    if "--fingerprints" in given and not check:
        raise OptionError("--fingerprints is the manifest --check compares with; give --check "
                          "too, or leave it out.")
    if check and (clash := [option for option in NOT_WITH_CHECK if option in given]):
        raise OptionError(f"--check verifies submitted files and writes nothing; leave out "
                          f"{', '.join(clash)}.")
    if records and (clash := [o for o in ("--store", "--reference") if o in given]):
        raise OptionError(f"--records rebuilds boards from the files given, not from "
                          f"{' or '.join(clash)}; leave {'it' if len(clash) == 1 else 'them'} "
                          "out.")


def run_check(files: Sequence[Path], request: BoardRequest, fingerprints: Path | None) -> None:
    """Print every problem with its row; exit 1 on any, else one line per file saying OK."""
    from bench.leaderboard.check import check_submission, passed, submissions, summary
    from bench.leaderboard.fingerprints import load_fingerprints

    if request.needs_predictions:
        raise OptionError("--ci, --marks significance and --per-class need test predictions; "
                          "a submission's records hold scores only: leave them out of --check.")
    published = load_fingerprints(fingerprints)
    problems = []
    expanded = [found for path in files
                for found in (submissions(path) if path.is_dir() else [path])]
    if not expanded:
        raise DataError(f"no boards in {', '.join(map(str, files))}: a folder is checked "
                        f"board by board (<board>.scores.csv, and reference boards).")
    for path in expanded:
        found = check_submission(path, request=request, fingerprints=published)
        for problem in found:
            console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        if not found:
            console.print(passed(path), highlight=False, markup=False, soft_wrap=True)
        problems += found
    if problems:
        raise DataError(f"{summary(problems)}; each is listed above with its row.")
