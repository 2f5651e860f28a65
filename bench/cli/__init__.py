"""The `bench` command: a thin click layer over the Python API.

Subcommand modules import only click and bench's core at import time, so `bench --help`
stays fast and never imports torch, timm or diffusers.
"""

from __future__ import annotations

import errno
import shlex
import sys

import click
from rich.markup import escape

from bench.cli.output import KEPT_ATTRIBUTE, WholeHelpGroup, errors
from bench.errors import BenchError

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
# What each command keeps when interrupted, so the message can say what a rerun does. A plugin's
# command says it itself (``bench.kit.kept_on_interrupt``).
KEPT_ON_INTERRUPT = {
    "run": "Finished cells are in the results store and the running cell keeps its last epoch "
           "checkpoint; the same command skips the finished cells and resumes that one from "
           "its checkpoint.",
    "demo": "The data sets already composed and the cells already trained are kept; the same "
            "command skips them and resumes training from the last epoch checkpoint.",
    "datasets prepare": "A data set is switched over only when its preparation is complete, so "
                        "the previous state (or nothing) is kept; the same command prepares it.",
    "datasets download": "The partial download is kept as a .part file; the same command "
                         "resumes it.",
    "weights download": "Files fetched whole are kept; the same command fetches the rest.",
    "generate dataset": "The images written so far are kept; the same command, with the same "
                        "options, resumes the generation.",
    "generate sample": "The cells written so far are kept; the same command continues from "
                       "the next one.",
}
# Errors of the file system rather than of the input, and what to do about each.
_SPACE = "free some space, or point BENCH_HOME (or --out) at another disk"
FILE_SYSTEM_FIXES = {
    errno.ENOSPC: _SPACE,
    errno.EDQUOT: _SPACE,
    errno.EROFS: "the file system is read-only: point BENCH_HOME (or --out) at a writable place",
    errno.EACCES: "check its permissions, or point BENCH_HOME (or --out) at a place you own",
    errno.EPERM: "check its permissions, or point BENCH_HOME (or --out) at a place you own",
}


def _unparsed(ctx: click.Context) -> list[str]:
    """The arguments a group passes on to its subcommand (click empties them as it does)."""
    protected = getattr(ctx, "_protected_args", None) or vars(ctx).get("protected_args", [])
    return [*protected, *ctx.args]


def _command_path(group: click.Group, ctx: click.Context,
                  args: list[str]) -> tuple[str, click.Command]:
    """The subcommand being run, e.g. "datasets prepare", read from the unparsed arguments."""
    names: list[str] = []
    command: click.Command = group
    for arg in args:
        found = command.get_command(ctx, arg) if isinstance(command, click.Group) else None
        if found is None:
            break
        names.append(arg)
        command = found
    return " ".join(names), command


def _error(message: str) -> None:
    errors.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)


class BenchGroup(WholeHelpGroup):
    """Turns a BenchError into one clear message and exit code 1 (traceback with --debug).

    Plugins' commands (``register_commands``) are added the first time a command is looked up,
    not when this module is imported.

    Ctrl-C says what was kept and how to resume instead of click's bare "Aborted!"; a full or
    read-only file system is named as such instead of a traceback.
    """

    argv: list[str] = []  # the arguments of this invocation, for "run it again" hints

    def main(self, args=None, *posargs, **kwargs):  # type: ignore[override]
        self.argv = list(sys.argv[1:] if args is None else args)
        return super().main(args, *posargs, **kwargs)

    def _add_plugin_commands(self) -> None:
        from bench.host import get_host
        from bench.registry import mark_failed

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
                mark_failed(host.plugins, impl.plugin_name, f"plugin {impl.plugin_name!r} "
                            f"raised in register_commands: {type(exc).__name__}: {exc}")

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        debug = ctx.find_root().params.get("debug")
        args = _unparsed(ctx)
        try:
            return super().invoke(ctx)
        except BenchError as exc:
            if debug:
                raise
            _error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            path, command = _command_path(self, ctx, args)
            kept = (getattr(command, KEPT_ATTRIBUTE, None) or KEPT_ON_INTERRUPT.get(path)
                    or "Nothing was changed after the interrupt.")
            again = shlex.join(["bench", *self.argv])
            errors.print(f"[bold yellow]Interrupted[/] (Ctrl-C) during `bench {escape(path)}`. "
                         f"{escape(kept)} To go on: {escape(again)}", highlight=False,
                         soft_wrap=True)
            ctx.exit(INTERRUPTED_EXIT_CODE)
        except OSError as exc:
            if debug or exc.errno not in FILE_SYSTEM_FIXES:
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            _error(f"{exc.strerror}{where}: {FILE_SYSTEM_FIXES[exc.errno]}. Work finished "
                   f"before this is kept; the same command goes on from there.")
            ctx.exit(1)


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
        evaluate,
        generate,
        generators,
        housekeeping,
        leaderboard,
        models,
        plugins,
        rescore,
        run,
        shifts,
        site,
        weights,
    )

    for module in (plugins, datasets, models, weights, generators, generate, run, evaluate,
                   leaderboard, compare, rescore, shifts, housekeeping, site):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_commands()


def main() -> None:
    cli(prog_name="bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
