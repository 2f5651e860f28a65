"""`bench shifts ...`: the shift suite's shifts and parameters, and pictures of what they do."""

from __future__ import annotations

from pathlib import Path

import click

from bench.cli.output import WholeHelpGroup, console, emit_table
from bench.errors import OptionError

SUITE_HELP = ("Which built-in suite: v1 or v2 (default: $BENCH_SHIFT_SUITE, else v2; v1 is "
              "kept for boards made under it).")


def shift_rows(version: str | None = None) -> list[dict]:
    """One row per shift of the suite: what it applies, where, and its parameters per severity."""
    from bench.shifts.suite import SEVERITIES, load_suite

    suite = load_suite(version)
    rows = []
    for shift in suite.shifts:
        row = {"shift": shift, "perturbation": suite.perturbation(shift).name,
               "suite": f"v{suite.version}", "hash": suite.hash,
               "applied_at": "published image" if suite.native else
               f"cache image ({suite.reference_size} px reference)",
               "severity": suite.perturbation(shift).severity,
               "description": suite.descriptions[shift]}
        for severity in SEVERITIES:
            row[f"severity_{severity}"] = suite.parameters(shift, str(severity))
        rows.append(row)
    return rows


@click.group("shifts", cls=WholeHelpGroup)
def shifts_group() -> None:
    """The shift suite: test sets under stain, light, focus, JPEG, resolution and noise shifts."""


@shifts_group.command("list")
@click.option("--suite", "version", default=None, help=SUITE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_shifts(version: str | None, as_json: bool) -> None:
    """List the shifts (targets NAME~SHIFT:SEVERITY) and what a higher severity means."""
    rows = shift_rows(version)
    title = (f"Shift suite v{rows[0]['suite'][1:]} ({rows[0]['hash']}), applied to the "
             f"{rows[0]['applied_at']}") if rows else None
    emit_table(rows, ["shift", "perturbation", "severity"], title=title, as_json=as_json,
               headers={"severity": "what rises with the severity"})


@shifts_group.command("render")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shift", "spec", metavar="SHIFT:SEVERITY",
              help="The shift and severity to show, e.g. stain:5 (scale also takes its factor, "
                   "scale:0.5).")
@click.option("--grid", is_flag=True,
              help="Every shift (a row each) at severities 0 to 5 (a column each) instead.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PNG to write.")
@click.option("--size", type=click.IntRange(min=8), default=None,
              help="Also crop and resize as a cache of this side does (what a model at this "
                   "size sees); default: the image's own size.")
@click.option("--suite", "version", default=None, help=SUITE_HELP)
def render(image: Path, spec: str | None, grid: bool, out: Path, size: int | None,
           version: str | None) -> None:
    """Draw IMAGE under a shift (--shift stain:5) or under all of them (--grid) into a PNG."""
    from bench.shifts import preview as pictures
    from bench.shifts.suite import load_suite

    if grid == bool(spec):
        raise OptionError("--shift/--grid: give one of them: --shift stain:5 for one "
                          "picture, or --grid for every shift at every severity.")
    suite = load_suite(version)
    pixels = pictures.read_image(image)
    if grid:
        picture = pictures.grid(pixels, suite, size)
        what = f"{len(suite.shifts)} shifts x severities 0-5"
    else:
        shift, colon, level = str(spec).partition(":")
        if not colon:
            raise OptionError(f"--shift {spec}: give SHIFT:SEVERITY, e.g. stain:5 (shifts: "
                              f"{', '.join(suite.shifts)}).")
        shift = suite.check_shift(shift.strip().lower())
        level = "0" if level.strip() == "0" else suite.level(shift, level)
        picture = pictures.shift_image(pixels, suite, shift, level, size)
        what = f"{shift}:{level}"
    written = pictures.save_png(picture, out)
    console.print(f"Wrote {written} ({what}, suite v{suite.version} {suite.hash}).",
                  highlight=False, soft_wrap=True)


COMMANDS = [shifts_group]
