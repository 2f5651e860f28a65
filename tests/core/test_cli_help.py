"""Help text: every command's description shows whole, every option says what it does."""

from __future__ import annotations

import click
import pytest
from fixtures.cli import invoke

from bench.cli import cli


def _commands(command: click.Command = cli, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            yield from _commands(command.get_command(context, name), (*path, name))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("width", [60, 80, 200])
def test_every_commands_first_docstring_line_shows_whole_in_its_groups_help(width):
    checked = 0
    for path, group in _commands():
        if not isinstance(group, click.Group):
            continue
        result = invoke(*path, "--help", terminal_width=width)
        assert result.exit_code == 0, result.output
        listing = _flat(result.output.split("Commands:", 1)[1])
        for name, command in group.commands.items():
            first = _flat(command.help.strip().splitlines()[0])
            assert first in listing, (path, name, first)
            checked += 1
    assert checked >= 25  # the groups and their subcommands, plugin commands included


def test_every_option_of_every_command_has_help_text():
    missing = [f"bench {' '.join(path)} {param.opts[0]}"
               for path, command in _commands() for param in command.params
               if isinstance(param, click.Option) and not param.hidden and not param.help]
    assert missing == []
