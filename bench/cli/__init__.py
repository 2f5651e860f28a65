"""The `bench` command: a thin click layer over the Python API.

Subcommand modules import only click and bench's core at import time, so `bench --help`
stays fast and never imports torch, timm or diffusers.
"""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from bench.cli.output import errors
from bench.errors import BenchError


class BenchGroup(click.Group):
    """Turns a BenchError into one clear message and exit code 1 (traceback with --debug)."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except BenchError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            errors.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            ctx.exit(exc.exit_code)


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.version_option(package_name="wbc-bench", prog_name="bench")
def cli(debug: bool) -> None:
    """Benchmark white-blood-cell classifiers under one fixed protocol.

    Train on one data set, early-stop on its validation split, test on every data set.
    """


def _add_commands() -> None:
    from bench.cli import datasets, generate, generators, leaderboard, models, plugins, run

    for module in (plugins, datasets, models, generators, generate, run, leaderboard):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_commands()


def main() -> None:
    cli(prog_name="bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
