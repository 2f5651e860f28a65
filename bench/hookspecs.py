"""The plugin contract: three hooks, each returning the specs a plugin registers.

A plugin is a module (or object) with functions decorated by ``bench.hookimpl``, declared in
the ``bench`` entry-point group of its distribution::

    [project.entry-points.bench]
    my_plugin = "my_package.bench_plugin"
"""

from __future__ import annotations

from collections.abc import Iterable

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
