"""`bench leaderboard`: tables, plots and published boards from the results store.

The command parses and delegates to `bench.leaderboard`; heavy imports (pandas, matplotlib)
happen inside it, so `bench --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from bench.cli.output import console, errors
from bench.errors import OptionError

FORMAT_CHOICES = ("table", "md", "csv", "json", "latex", "html")


def _names_list(values: Sequence[str]) -> list[str]:
    """Accept repeated options and comma lists alike: --models a,b --models c."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class MetricOption(click.Option):
    """``--metric``: "{metrics}" in its help lists the metric table as it stands when shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from bench.metrics import METRICS  # here: plain `bench --help` stays free of numpy

        record = super().get_help_record(ctx)
        return record and (record[0], record[1].replace("{metrics}", ", ".join(METRICS)))


def _output_format(fmt: str | None, as_json: bool, out: Path | None) -> str:
    from bench.leaderboard import format_for

    if as_json:
        return "json"
    if fmt:
        return fmt
    if out is not None:
        return format_for(out) or "md"
    return "table"


def _check_date(text: str) -> None:
    import datetime

    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"--date {text!r}: expected a date as YYYY-MM-DD, e.g. "
                          f"--date {datetime.date.today().isoformat()}.") from None


def _draw_plots(jobs: list, out_dir: Path) -> int:
    from bench.console import progress_bar
    from bench.leaderboard.plots import draw

    written = 0
    with progress_bar(errors.is_terminal, transient=True) as progress:
        for job in progress.track(jobs, description="plots"):
            written += len(draw(job))
    return written


@click.command("leaderboard")
@click.option("--cross", is_flag=True,
              help="Cross-data-set table (Table 3 layout): a row per model and source.")
@click.option("--metric", "metrics", multiple=True, metavar="NAME[,NAME]", cls=MetricOption,
              help="Metrics to show ({metrics}), by name or header abbreviation; default the "
                   "paper's four. One metric: a compact table.")
@click.option("--protocol", metavar="NAME|HASH|FILE",
              help="Only results under this protocol (stored name, hash prefix or file).")
@click.option("--models", multiple=True, metavar="NAME[,NAME]", help="Only these models.")
@click.option("--sources", multiple=True, metavar="NAME[,NAME]",
              help="Only these training data sets (`all`: the benchmark sets).")
@click.option("--targets", multiple=True, metavar="NAME[,NAME]",
              help="Only these test data sets; `all`: the benchmark sets, without generated "
                   "or demo sets; `all+generated`: with them.")
@click.option("--shift", is_flag=True,
              help="Shift-suite layout: per model and source, the score at each severity of "
                   "each shift (targets NAME~SHIFT:LEVEL) and the mean relative drop; --plots "
                   "draws score against severity.")
@click.option("--agreement", is_flag=True,
              help="Rank agreement: Kendall's τ between the models' rankings for every pair of "
                   "data sets (--cross: of targets), with a bootstrap interval; --metric picks "
                   "the score (default f1).")
@click.option("--shots", is_flag=True,
              help="Label-efficiency layout: per model and source, the score against K, the "
                   "training images per class (runs made with `bench run --shots`); --ci adds "
                   "intervals, --plots draws score against K.")
@click.option("--summary", is_flag=True,
              help="Add the generalisation summary: drop per source, mean rank per model.")
@click.option("--exclude-contaminated", "exclude_contaminated", is_flag=True,
              help="Leave out cells (marked †) whose model was pretrained on their source or "
                   "target, by the model's declared pretraining data.")
@click.option("--compare", metavar="BOARD",
              help="Show our scores beside a published board (zedda2024), with the difference.")
@click.option("--reference", metavar="BOARD",
              help="Render a published board (zedda2024) instead of the results store.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES),
              help="Output format; default: a terminal table, or from --out's suffix.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of the terminal.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write heat maps, confusion matrices and reliability diagrams (PNG and SVG) "
                   "into this folder.")
@click.option("--plot-scale", type=click.Choice(["auto", "0-100"]), default="auto",
              show_default=True,
              help="Colour scale of the heat maps: auto (the scores' range, at least 10 points "
                   "wide) or 0-100 (the same on every figure, to compare figures).")
@click.option("--publish", "do_publish", is_flag=True,
              help="Write Markdown boards (same, cross, summary, and the --shift table of the "
                   "selection's shifted targets), their score records and test predictions to "
                   "--out-dir, after the checks of --check; refuses boards they do not accept.")
@click.option("--unofficial", is_flag=True,
              help="With --publish: write boards --check refuses (recipe overrides, demo or "
                   "generated sets, unpublished fingerprints), marked unofficial in their "
                   "header.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("leaderboards"), show_default=True,
              help="Where --publish writes.")
@click.option("--records", "from_records", is_flag=True,
              help="Rebuild the boards from published records (FILES: <board>.scores.csv) "
                   "instead of the results store.")
@click.option("--check", "check", is_flag=True,
              help="Verify submitted boards (FILES: <board>.scores.csv or .md): protocol, "
                   "split fingerprints, every cell and metric, every score recomputed from the "
                   "predictions, their images and labels, and the board rebuilt byte for byte; "
                   "a folder: every board in it. Lists every problem with its row; exit 1 on "
                   "any.")
@click.option("--strict", is_flag=True,
              help="With --check: also fail on checks that could not be made here (the labels "
                   "of a data set that ships no label manifest and is not prepared here).")
@click.option("--fingerprints", type=click.Path(dir_okay=False, path_type=Path),
              help="Published split fingerprints for --check and --publish (default: the "
                   "shipped bench/reference/fingerprints.toml).")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Results store to read (default: the data home's results.sqlite).")
@click.option("--date", metavar="YYYY-MM-DD", help="Date line of the boards (default: today).")
@click.option("--ci", "intervals", is_flag=True,
              help="Show bootstrap confidence intervals: 96.1 [95.0, 97.1].")
@click.option("--resamples", type=int, default=1000, show_default=True,
              help="Bootstrap resamples for --ci, --marks and --agreement.")
@click.option("--level", type=float, default=0.95, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--marks", type=click.Choice(["paper", "significance", "tiers"]),
              default="paper", show_default=True,
              help="paper: bold best, underlined second; significance: bold every model that "
                   "no other beats significantly (all pairs, paired tests on the same test "
                   "images, Holm); tiers: the same, and each cell's rank tier and rank interval "
                   "(T2 (2–4)). Both need 3 seeds per cell.")
@click.option("--per-class", "per_class", is_flag=True,
              help="Add a table of per-class precision and recall (e.g. basophil recall).")
@click.option("--cost", is_flag=True,
              help="Add a cost table: training and test images/s, wall time, peak memory and "
                   "the device of each model and source (– where a run recorded none).")
@click.option("--second", type=click.Choice(["distinct", "paper"]), default=None,
              help="Where second places go: distinct (the next value shown; the default) or "
                   "paper (none after a tie for best; the default of --reference zedda2024).")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def leaderboard_command(
    cross: bool,
    shift: bool,
    agreement: bool,
    shots: bool,
    metrics: tuple[str, ...],
    protocol: str | None,
    models: tuple[str, ...],
    sources: tuple[str, ...],
    targets: tuple[str, ...],
    summary: bool,
    exclude_contaminated: bool,
    compare: str | None,
    reference: str | None,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
    plots_dir: Path | None,
    plot_scale: str,
    do_publish: bool,
    out_dir: Path,
    store_path: Path | None,
    date: str | None,
    intervals: bool,
    resamples: int,
    level: float,
    marks: str,
    per_class: bool,
    second: str | None,
    from_records: bool,
    check: bool,
    fingerprints: Path | None,
    unofficial: bool,
    strict: bool,
    cost: bool,
    files: tuple[Path, ...],
) -> None:
    """Rank models: the paper's Table 2 layout, or Table 3 with --cross.

    FILES: published records for --records, or a submission for --check.

    Best value per column in bold, second underlined; several seeds show as mean ± std.
    Results under different protocols or data splits are never merged into one table.
    """
    from bench.cli.leaderboard_check import run_check, run_publish, validate
    from bench.leaderboard.make import BoardRequest, make_boards

    validate(files, check=check, records=from_records)
    # Options that need no data are checked first, so a typo is named as such.
    if date is not None:
        _check_date(date)
    if any(not name for name in metrics) or (metrics and not _names_list(metrics)):
        raise OptionError("--metric needs a name, e.g. --metric f1.")

    request = BoardRequest(
        cross=cross, metrics=_names_list(metrics), protocol=protocol,
        models=_names_list(models), sources=_names_list(sources), targets=_names_list(targets),
        summary=summary, compare=compare, reference=reference, date=date,
        intervals=intervals, resamples=resamples, level=level, marks=marks, per_class=per_class,
        second=second, shift=shift, cost=cost, plot_scale=plot_scale, agreement=agreement,
        shots=shots,
        exclude_contaminated=exclude_contaminated,
    )
    chosen_format = _output_format(fmt, as_json, out)
    if chosen_format == "table" and out is not None:
        raise OptionError("--format table prints to the terminal; choose md, csv, json, "
                        "latex or html with --out.")
    if check:
        run_check(files, request, fingerprints, strict)
        return
    if from_records:
        from bench.leaderboard.submissions.records import from_records as rebuild

        board_set = rebuild(files, request)
    else:
        board_set = make_boards(request, store_path=store_path)
    if do_publish:
        run_publish(board_set, out_dir, unofficial=unofficial, fingerprints=fingerprints)
    if plots_dir is not None:
        count = _draw_plots(board_set.plot_jobs(plots_dir), plots_dir)
        console.print(f"wrote {count} plot files into {plots_dir}", highlight=False)
    if do_publish and out is None and fmt is None and not as_json:
        return
    if chosen_format == "table":
        from bench.leaderboard.render.terminal import print_boards

        print_boards(board_set.boards, console)
        return
    text = board_set.render(chosen_format)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)


COMMANDS = [leaderboard_command]
