"""`bench site build|verify`: a static leaderboard site, its numbers checked against the records."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.leaderboard import MetricOption
from bench.cli.output import WholeHelpGroup, console, emit_table, errors

SOURCE_HELP = ("Published records (<board>.scores.csv, or folders of them) instead of the "
               "results store.")


def _inputs(records: tuple[Path, ...], store_path: Path | None, references: tuple[str, ...],
            no_reference: bool):  # noqa: ANN202 - a SiteInputs
    from bench.errors import OptionError
    from bench.site import load_inputs

    if records and store_path is not None:
        raise OptionError("--records and --store are two sources of scores; give one of them.")
    if no_reference and references:
        raise OptionError("--no-reference leaves the papers out; --reference names one. "
                          "Give one of them.")
    chosen = () if no_reference else (references or None)
    return load_inputs(records=records, store_path=store_path, references=chosen)


def source_options(command):  # noqa: ANN001, ANN201 - a click decorator
    for option in reversed([
        click.option("--records", multiple=True, type=click.Path(path_type=Path),
                     metavar="FILE|DIR", help=SOURCE_HELP),
        click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Results store to read (default: the data home's results.sqlite)."),
        click.option("--reference", "references", multiple=True, metavar="BOARD",
                     help="Published boards to include (default: every built-in one, "
                          "zedda2024)."),
        click.option("--no-reference", is_flag=True, help="Leave the published boards out."),
    ]):
        command = option(command)
    return command


@click.group("site", cls=WholeHelpGroup)
def site_group() -> None:
    """A static leaderboard site that opens from a folder, with no network."""


@site_group.command("build")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@source_options
@click.option("--metric", "metrics", multiple=True, metavar="NAME[,NAME]", cls=MetricOption,
              help="Metrics of the boards ({metrics}); default the paper's four.")
@click.option("--marks", type=click.Choice(["paper", "significance", "tiers"]), default="paper",
              show_default=True,
              help="paper: bold best, underlined second; significance: bold best and every "
                   "model not significantly worse; tiers: each model's rank tier and rank "
                   "interval (both need test predictions and 3 seeds).")
@click.option("--resamples", type=int, default=1000, show_default=True,
              help="Bootstrap resamples of the intervals (where test predictions exist).")
@click.option("--level", type=float, default=0.95, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--thumbnails", type=click.IntRange(min=0), default=48, show_default=True,
              help="Misclassified images shown per cell page (0: none); thumbnails where the "
                   "data set is prepared on this machine.")
@click.option("--date", metavar="YYYY-MM-DD",
              help="A date for the footer (default: none, so rebuilding changes nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def build_command(out: Path, records: tuple[Path, ...], store_path: Path | None,
                  references: tuple[str, ...], no_reference: bool, metrics: tuple[str, ...],
                  marks: str, resamples: int, level: float, thumbnails: int, date: str | None,
                  as_json: bool) -> None:
    """Write the site into OUT: index, boards, a page per model and per cell.

    From the results store, or from published records with --records (a folder: every
    <board>.scores.csv in it). Open OUT/index.html in a browser; nothing is fetched.
    """
    from bench.cli.leaderboard import _check_date, _names_list
    from bench.console import progress_bar
    from bench.errors import OptionError
    from bench.leaderboard import IntervalSettings
    from bench.metrics import resolve_metrics
    from bench.site import SiteSettings, build_site

    if date is not None:
        _check_date(date)
    IntervalSettings(resamples=resamples, level=level)  # a bad value is named before reading
    if metrics and not _names_list(metrics):
        raise OptionError("--metric needs a name, e.g. --metric f1.")
    chosen = tuple(resolve_metrics(_names_list(metrics))) if metrics else ()
    settings = SiteSettings(metrics=chosen, marks=marks,
                            resamples=resamples, level=level, thumbnails=thumbnails, date=date)
    inputs = _inputs(records, store_path, references, no_reference)
    if records and not inputs.record_names:
        errors.print(f"notice: no records file (*.scores.csv) in {', '.join(map(str, records))};"
                     " the site holds the published boards only.", highlight=False)
    with progress_bar(errors.is_terminal, transient=True) as bar:
        task = bar.add_task("site", total=None)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"site: {label}", completed=done, total=total)

        result = build_site(out, inputs, settings, progress=progress)
    summary = {"path": str(result.path), "boards": result.boards, "models": result.models,
               "cells": result.cells, "files": result.files, "bytes": result.bytes}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    console.print(f"wrote {result.path}/index.html: {result.boards} boards, {result.models} "
                  f"model pages, {result.cells} cell pages ({result.files} files, "
                  f"{result.bytes / 1e6:.1f} MB)", highlight=False)


@site_group.command("verify")
@click.argument("site", type=click.Path(file_okay=False, path_type=Path))
@source_options
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def verify_command(site: Path, records: tuple[Path, ...], store_path: Path | None,
                   references: tuple[str, ...], no_reference: bool, as_json: bool) -> None:
    """Re-read every number SITE shows and compare it with the records (exit 1 on any difference).

    Give the same source as the build: the results store (default) or --records.
    """
    import dataclasses

    from bench.site import verify_site

    inputs = _inputs(records, store_path, references, no_reference)
    differences, checked = verify_site(site, inputs)
    rows = [dataclasses.asdict(d) for d in differences]
    if as_json:
        click.echo(json.dumps({"checked": checked, "differences": rows}, indent=2,
                              ensure_ascii=False))
    elif differences:
        emit_table(rows, ["page", "key", "shown", "expected"],
                   title=f"{len(differences)} differences in {checked} numbers")
    else:
        console.print(f"OK: {checked} numbers on the pages of {site} match the records.",
                      highlight=False)
    if differences:
        raise click.exceptions.Exit(1)


COMMANDS = [site_group]
