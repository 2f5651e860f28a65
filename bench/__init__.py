"""bench: a plugin-based benchmark harness for white-blood-cell sub-type classification.

The public surface for plugin authors and scripts. Everything else is internal.
"""

from __future__ import annotations

from importlib import metadata

from bench.errors import (
    BenchError,
    DataError,
    DuplicateNameError,
    PluginError,
    ProtocolError,
    RunError,
    UnknownNameError,
)
from bench.home import data_home
from bench.hookspecs import hookimpl
from bench.host import get_plugins, get_registries, reset
from bench.labels import CLASS_NAMES, CLASSES, NUM_CLASSES
from bench.models import DataConfig, ModelFactory
from bench.protocol import Protocol, load_protocol
from bench.specs import DatasetSpec, Download, GeneratorSpec, ModelSpec, SourceImage
from bench.store import Cell, Evaluation, ResultsStore, open_store
from bench.weights import weights_record

try:
    __version__ = metadata.version("wbc-bench")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

__all__ = [
    "CLASSES",
    "CLASS_NAMES",
    "NUM_CLASSES",
    "BenchError",
    "Cell",
    "DataConfig",
    "DataError",
    "DatasetSpec",
    "Download",
    "DuplicateNameError",
    "Evaluation",
    "GeneratorSpec",
    "ModelFactory",
    "ModelSpec",
    "PluginError",
    "Protocol",
    "ProtocolError",
    "ResultsStore",
    "RunError",
    "SourceImage",
    "UnknownNameError",
    "__version__",
    "data_home",
    "get_plugins",
    "get_registries",
    "hookimpl",
    "load_protocol",
    "open_store",
    "reset",
    "weights_record",
]
