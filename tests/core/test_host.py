"""The plugin host: one discovery per process, commands from plugins, data sets found later."""

from __future__ import annotations

from fixtures.cli import invoke

import bench
from bench.cli import cli
from bench.host import get_host


def test_a_plugin_adds_a_command_through_register_commands(install_distribution):
    install_distribution("acme-cli", {"acme": "acme_cli"})
    bench.reset()
    listed = invoke("--help")
    assert "acme-hello" in listed.output
    result = invoke("acme-hello", "world")
    assert result.exit_code == 0, result.output
    assert result.output == "hello world from acme\n"


def test_a_plugin_whose_commands_fail_is_named_and_the_rest_works(install_distribution):
    install_distribution("bad-cli", {"badcli": "bad_cli"})
    bench.reset()
    result = invoke("models", "list", "--json")
    assert result.exit_code == 0
    assert "plugin 'badcli' could not add its commands" in result.stderr
    assert "no commands today" in result.stderr


def test_first_party_generators_bring_train_ddpm_through_the_hook():
    generate = cli.get_command(None, "generate")
    assert "train-ddpm" in generate.commands
    assert generate.commands["train-ddpm"].callback.__module__ == "bench_generators.commands"


def test_a_data_set_generated_later_is_found_by_the_same_host():
    from bench.generation.datasets import generate_dataset

    host = get_host()
    assert "later-set" not in host.registries.datasets
    generate_dataset("later-set", level="base", train=10, test=10, size=32, prepare=False)
    assert get_host() is host  # nothing was reset
    spec = host.registries.datasets.get("later-set")
    assert spec.synthetic and spec.name in host.registries.datasets.names()
