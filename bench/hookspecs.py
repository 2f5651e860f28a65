"""The plugin contract: the hooks a plugin implements, each documented with an example.

A plugin is a module (or object) with functions decorated by ``bench.hookimpl``, declared in
the ``bench`` entry-point group of its distribution::

    [project.entry-points.bench]
    my_plugin = "my_package.bench_plugin"
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pluggy

from bench.specs import DatasetSpec, GeneratorSpec, ModelSpec

PROJECT = "bench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_datasets() -> Iterable[DatasetSpec]:
    """Return the data sets this plugin provides.

    Example::

        @bench.hookimpl
        def register_datasets():
            return [bench.DatasetSpec(name="my-cells", scan=scan, class_map={"lym": "L"})]
    """


@hookspec
def register_models() -> Iterable[ModelSpec]:
    """Return the architectures this plugin provides.

    Example::

        @bench.hookimpl
        def register_models():
            return [bench.ModelSpec(name="tiny-cnn", factory=build, input_size=64,
                                    mean=(0.5,) * 3, std=(0.5,) * 3)]
    """


@hookspec
def register_generators() -> Iterable[GeneratorSpec]:
    """Return the synthetic-image generators this plugin provides.

    Example::

        @bench.hookimpl
        def register_generators():
            return [bench.GeneratorSpec(name="blobs", kind="cells", factory=BlobCells)]
    """


@hookspec
def find_datasets(home: Path) -> Iterable[DatasetSpec]:
    """Return the data sets found on this machine now, e.g. the ones a generator wrote.

    Unlike ``register_datasets`` this is asked again whenever a name is not found or the data
    sets are listed, so a set made while the process runs is seen at once. Keep it cheap (read
    small files under ``home``, the data home). A name already registered is not overridden.

    Example::

        @bench.hookimpl
        def find_datasets(home):
            return [my_spec(folder) for folder in (home / "my-sets").glob("*/")]
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add command-line commands: ``cli`` is the root ``bench`` click group.

    Add a top-level command with ``cli.add_command``, or a subcommand to one of bench's groups
    (``cli.commands["generate"]``). Commands should parse options and call the plugin's Python
    API, like bench's own. Called once, the first time the command line is used.

    Example::

        @bench.hookimpl
        def register_commands(cli):
            @cli.command("hello")
            def hello():
                click.echo("hello from my plugin")
    """
