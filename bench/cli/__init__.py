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
    """Turns a BenchError into one clear message and exit code 1 (traceback with --debug).

    Plugins' commands (``register_commands``) are added the first time a command is looked up,
    not when this module is imported.
    """

    def _add_plugin_commands(self) -> None:
        from bench.host import get_host

        host = get_host()
        if host.cli is self:  # once per discovery: a fresh host (tests) adds them again
            return
        host.cli = self
        for impl in host.plugins.manager.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:  # noqa: BLE001 - a broken plugin keeps the rest working
                errors.print(f"[yellow]plugin {impl.plugin_name!r} could not add its commands:"
                             f"[/] {escape(f'{type(exc).__name__}: {exc}')}", highlight=False)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

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
    from bench.cli import (
        compare,
        datasets,
        generate,
        generators,
        leaderboard,
        models,
        plugins,
        rescore,
        run,
    )

    for module in (plugins, datasets, models, generators, generate, run, leaderboard,
                   compare, rescore):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_commands()


def main() -> None:
    cli(prog_name="bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
