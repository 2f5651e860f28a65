"""bench: a plugin-based benchmark harness for white-blood-cell sub-type classification.

The plugin contract: the specs a plugin registers, the hook marker, the errors, the labels,
the protocol, the registries, the data home and the results store scripts read. Everything
here is documented in docs/plugins.md; the helpers a plugin may use besides are in
:mod:`bench.kit`. Names whose modules pull in numpy are loaded on first use, so
``import bench`` (and plugin discovery) stays cheap.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from bench.errors import (
    BenchError,
    DataError,
    DuplicateNameError,
    OptionError,
    PluginError,
    ProtocolError,
    RunError,
    UnknownNameError,
)
from bench.home import data_home
from bench.hookspecs import hookimpl
from bench.host import get_plugins, get_registries, reset
from bench.hub import WeightFile, WeightsUnavailable
from bench.labels import CLASS_NAMES, CLASSES, NUM_CLASSES
from bench.lazy import lazy_getattr
from bench.models import DataConfig, ModelFactory
from bench.protocols import Protocol, load_protocol
from bench.specs import DatasetSpec, Download, GeneratorSpec, ModelSpec, SourceImage
from bench.store import Cell, Evaluation, ResultsStore, open_store

if TYPE_CHECKING:
    from bench.generation.contract import CellGenerator, TrainableCellGenerator

__getattr__ = lazy_getattr("bench", dict.fromkeys(["CellGenerator", "TrainableCellGenerator"],
                                                  "bench.generation.contract"))

try:
    __version__ = metadata.version("wbc-bench")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

__all__ = [
    # the version
    "__version__",
    # registering: the hook marker and the specs
    "hookimpl",
    "DatasetSpec",
    "Download",
    "SourceImage",
    "ModelSpec",
    "ModelFactory",
    "DataConfig",
    "WeightFile",
    "GeneratorSpec",
    "CellGenerator",
    "TrainableCellGenerator",
    # errors
    "BenchError",
    "DataError",
    "DuplicateNameError",
    "OptionError",
    "PluginError",
    "ProtocolError",
    "RunError",
    "UnknownNameError",
    "WeightsUnavailable",
    # labels
    "CLASSES",
    "CLASS_NAMES",
    "NUM_CLASSES",
    # the protocol
    "Protocol",
    "load_protocol",
    # registries and plugins
    "get_plugins",
    "get_registries",
    "reset",
    # the data home and the results store
    "data_home",
    "open_store",
    "ResultsStore",
    "Cell",
    "Evaluation",
]

from bench import kit as kit  # noqa: E402 - last, so `bench.kit.NAME` works after `import bench`
