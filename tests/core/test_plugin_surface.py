"""The plugin surface stays small and documented: `bench` is the contract, `bench.kit` the helpers.

docs/plugins.md ("Every public name") lists exactly the names of both; a plugin's command says
itself what Ctrl-C keeps, so the core's command line names no plugin command.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

import bench
from bench.cli import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _documented(heading: str) -> list[str]:
    """The first column of the table under ``### heading`` in docs/plugins.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def test_the_contract_stays_small():
    assert len(bench.__all__) <= 40
    assert len(set(bench.__all__)) == len(bench.__all__)


def test_docs_list_every_name_of_the_contract_and_of_the_kit():
    assert sorted(_documented("The contract: `bench`")) == sorted(bench.__all__)
    assert sorted(_documented("The plugin kit: `bench.kit`")) == sorted(bench.kit.__all__)


def test_every_listed_name_resolves():
    for name in bench.__all__:
        assert getattr(bench, name) is not None, name
    for name in bench.kit.__all__:
        assert getattr(bench.kit, name) is not None, name
    assert not set(bench.__all__) & set(bench.kit.__all__)


def test_a_plugin_command_says_what_an_interrupt_keeps():
    @bench.kit.kept_on_interrupt("The half-knitted scarf is kept; the same command goes on.")
    @click.command("knit")
    def knit():
        """Knit until interrupted."""
        raise KeyboardInterrupt

    cli.add_command(knit)
    try:
        result = CliRunner().invoke(cli, ["knit"])
    finally:
        cli.commands.pop("knit")
    assert result.exit_code == 130
    assert "Interrupted (Ctrl-C) during `bench knit`" in result.output
    assert "The half-knitted scarf is kept" in result.output


def test_the_ddpm_plugin_brings_its_own_interrupt_text():
    generate = cli.get_command(click.Context(cli), "generate")
    assert "checkpoint" in generate.commands["train-ddpm"].kept_on_interrupt
