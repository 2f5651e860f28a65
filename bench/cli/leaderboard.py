"""`bench leaderboard`: tables, plots and published boards from the results store.

The command parses and delegates to `bench.leaderboard`; heavy imports (pandas, matplotlib)
happen inside it, so `bench --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from bench.cli.output import console, errors
from bench.errors import DataError

FORMAT_CHOICES = ("table", "md", "csv", "json", "latex", "html")


def _names_list(values: Sequence[str]) -> list[str]:
    """Accept repeated options and comma lists alike: --models a,b --models c."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _output_format(fmt: str | None, as_json: bool, out: Path | None) -> str:
    from bench.leaderboard import format_for

    if as_json:
        return "json"
    if fmt:
        return fmt
    if out is not None:
        return format_for(out) or "md"
    return "table"


def _draw_plots(jobs: list, out_dir: Path) -> int:
    from bench.leaderboard.plots import draw
    from bench.progress import progress_bar

    written = 0
    with progress_bar(errors.is_terminal, transient=True) as progress:
        for job in progress.track(jobs, description="plots"):
            written += len(draw(job))
    return written


@click.command("leaderboard")
@click.option("--cross", is_flag=True,
              help="Cross-data-set table (Table 3 layout): a row per model and source.")
@click.option("--metric", "metrics", multiple=True, metavar="NAME[,NAME]",
              help="Metrics to show (accuracy, precision, recall, f1, macro_f1, "
                   "balanced_accuracy); default the paper's four. One metric: a compact table.")
@click.option("--protocol", metavar="NAME|HASH|FILE",
              help="Only results under this protocol (stored name, hash prefix or file).")
@click.option("--models", multiple=True, metavar="NAME[,NAME]", help="Only these models.")
@click.option("--sources", multiple=True, metavar="NAME[,NAME]",
              help="Only these training data sets.")
@click.option("--targets", multiple=True, metavar="NAME[,NAME]",
              help="Only these test data sets.")
@click.option("--summary", is_flag=True,
              help="Add the generalisation summary: drop per source, mean rank per model.")
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
              help="Write heat maps and confusion matrices (PNG and SVG) into this folder.")
@click.option("--publish", "do_publish", is_flag=True,
              help="Write Markdown boards (same, cross, summary) and their records to --out-dir.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("leaderboards"), show_default=True,
              help="Where --publish writes.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Results store to read (default: the data home's results.sqlite).")
@click.option("--date", metavar="YYYY-MM-DD", help="Date line of the boards (default: today).")
def leaderboard_command(
    cross: bool,
    metrics: tuple[str, ...],
    protocol: str | None,
    models: tuple[str, ...],
    sources: tuple[str, ...],
    targets: tuple[str, ...],
    summary: bool,
    compare: str | None,
    reference: str | None,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
    plots_dir: Path | None,
    do_publish: bool,
    out_dir: Path,
    store_path: Path | None,
    date: str | None,
) -> None:
    """Rank models: the paper's Table 2 layout, or Table 3 with --cross.

    Best value per column in bold, second underlined; several seeds show as mean ± std.
    Results under different protocols or data splits are never merged into one table.
    """
    import bench.leaderboard as lb
    from bench.leaderboard.groups import empty_store_error
    from bench.leaderboard.plots import confusion_jobs, heatmap_jobs
    from bench.store import open_store

    names = lb.Names.from_registries()
    filters = {
        "models": _names_list(models),
        "sources": _names_list(sources),
        "targets": _names_list(targets),
    }
    store = None
    if reference:
        if protocol:
            raise DataError("--protocol filters the results store; leave it out with "
                            "--reference (a published board has its own protocol).")
        groups = [lb.reference_group(reference, names, **filters)]
        names = names.with_labels(lb.published_labels(reference, names))
        present: list[str] = []
    else:
        if store_path is not None and not store_path.is_file():
            raise DataError(f"no results store at {store_path}; give the path of a "
                            "results.sqlite, or leave --store out to use the data home's.")
        store = open_store(store_path)
        frame = store.scores()
        if frame.empty:
            raise empty_store_error(store.path)
        present = sorted(frame["metric"].unique())
        groups = lb.store_groups(frame, names, protocol=protocol, **filters)
    asked = _names_list(metrics)
    chosen = lb.resolve_metrics(asked, present)
    focus = chosen[0] if asked else "f1"  # the metric of the summary, comparison and plots
    options = {
        "metrics": chosen,
        "compare": lb.reference_group(compare, names) if compare else None,
        "compare_metrics": chosen if asked else ["f1"],
        "date": date,
    }

    if do_publish:
        boards = lb.build_boards(groups, names, layouts=("same", "cross"),
                                 summary_metric=focus, **options)
        records = None if reference else {group.slug: group.cross for group in groups}
        for path in lb.publish(boards, out_dir, records):
            console.print(f"wrote {path}", highlight=False)

    if plots_dir is not None:
        jobs = []
        for group in groups:
            jobs += heatmap_jobs(group, names, plots_dir, metric=focus)
            if store is not None:
                jobs += confusion_jobs(group, names, plots_dir, store)
        count = _draw_plots(jobs, plots_dir)
        console.print(f"wrote {count} plot files into {plots_dir}", highlight=False)

    if do_publish and out is None and fmt is None and not as_json:
        return
    boards = lb.build_boards(groups, names, layouts=("cross",) if cross else ("same",),
                             summary_metric=focus if summary else None, **options)
    chosen_format = _output_format(fmt, as_json, out)
    if chosen_format == "table":
        from bench.leaderboard.render_rich import print_boards

        if out is not None:
            raise DataError("--format table prints to the terminal; choose md, csv, json, "
                            "latex or html with --out.")
        print_boards(boards, console)
        return
    text = lb.render(boards, chosen_format)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)


COMMANDS = [leaderboard_command]
