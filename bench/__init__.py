"""bench: a plugin-based benchmark harness for white-blood-cell sub-type classification.

The public surface for plugin authors and scripts: everything a first-party plugin uses is
here, and first-party plugins import nothing else from bench. Names whose modules pull in
numpy or the engine are loaded on first use, so ``import bench`` (and plugin discovery)
stays cheap.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from bench.data.classes import wbc_class_map
from bench.data.layout import prepared_requests
from bench.data.scan import (
    find_folder,
    has_class_folders,
    has_split_folders,
    scan_class_folders,
    scan_csv,
    scan_split_folders,
)
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
from bench.hub import WeightFile, WeightsUnavailable, pretrained_file
from bench.labels import CLASS_NAMES, CLASSES, NUM_CLASSES
from bench.lazy import lazy_getattr
from bench.models import DataConfig, ModelFactory
from bench.protocol import Protocol, load_protocol
from bench.specs import DatasetSpec, Download, GeneratorSpec, ModelSpec, SourceImage
from bench.store import Cell, Evaluation, ResultsStore, open_store
from bench.weights import load_weights_file, read_state_dict, weights_record

if TYPE_CHECKING:
    from bench.cli.output import emit_table
    from bench.data.parallel import die_with_parent
    from bench.data.prepared import PreparedDataset, load_prepared
    from bench.download import fetch_json
    from bench.engine.estimate import (
        human_bytes,
        human_duration,
        long_job_warning,
        tensor_bytes,
        time_steps,
    )
    from bench.engine.ray_executor import map_on_ray
    from bench.generated import ANNOTATIONS_FILE, write_json
    from bench.generators import (
        CELL_LABELS,
        CLASS_FOLDERS,
        PARTITIONS,
        RBC,
        SPLIT_PARTITIONS,
        CellGenerator,
        Halving,
        TrainableCellGenerator,
        cell_generator,
        check_label,
        check_partition,
        derive_seed,
        halve,
        label_of_folder,
        parse_labels,
        sample_cells,
    )
    from bench.progress import progress_bar, stage_progress

_LAZY = {
    "PreparedDataset": "bench.data.prepared",
    "load_prepared": "bench.data.prepared",
    "die_with_parent": "bench.data.parallel",
    "fetch_json": "bench.download",
    "map_on_ray": "bench.engine.ray_executor",
    **dict.fromkeys(["human_bytes", "human_duration", "long_job_warning", "tensor_bytes",
                     "time_steps"], "bench.engine.estimate"),
    "ANNOTATIONS_FILE": "bench.generated",
    "write_json": "bench.generated",
    **dict.fromkeys(
        ["CELL_LABELS", "CLASS_FOLDERS", "PARTITIONS", "RBC", "SPLIT_PARTITIONS",
         "CellGenerator", "Halving", "TrainableCellGenerator", "cell_generator", "check_label",
         "check_partition", "derive_seed", "halve", "label_of_folder"],
        "bench.generators",
    ),
    "parse_labels": "bench.generators",
    "sample_cells": "bench.generators",
    "progress_bar": "bench.progress",
    "stage_progress": "bench.progress",
    "emit_table": "bench.cli.output",
}


__getattr__ = lazy_getattr("bench", _LAZY)


try:
    __version__ = metadata.version("wbc-bench")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

__all__ = [
    "ANNOTATIONS_FILE",
    "CELL_LABELS",
    "CLASSES",
    "CLASS_FOLDERS",
    "CLASS_NAMES",
    "NUM_CLASSES",
    "PARTITIONS",
    "RBC",
    "SPLIT_PARTITIONS",
    "BenchError",
    "Cell",
    "CellGenerator",
    "DataConfig",
    "DataError",
    "DatasetSpec",
    "Download",
    "DuplicateNameError",
    "Evaluation",
    "GeneratorSpec",
    "Halving",
    "ModelFactory",
    "ModelSpec",
    "OptionError",
    "PluginError",
    "PreparedDataset",
    "Protocol",
    "ProtocolError",
    "ResultsStore",
    "RunError",
    "SourceImage",
    "TrainableCellGenerator",
    "UnknownNameError",
    "WeightFile",
    "WeightsUnavailable",
    "__version__",
    "cell_generator",
    "check_label",
    "check_partition",
    "data_home",
    "derive_seed",
    "die_with_parent",
    "emit_table",
    "fetch_json",
    "find_folder",
    "get_plugins",
    "get_registries",
    "halve",
    "has_class_folders",
    "has_split_folders",
    "hookimpl",
    "human_bytes",
    "human_duration",
    "label_of_folder",
    "load_weights_file",
    "load_prepared",
    "load_protocol",
    "long_job_warning",
    "map_on_ray",
    "open_store",
    "parse_labels",
    "prepared_requests",
    "pretrained_file",
    "progress_bar",
    "read_state_dict",
    "reset",
    "sample_cells",
    "scan_class_folders",
    "scan_csv",
    "scan_split_folders",
    "stage_progress",
    "tensor_bytes",
    "time_steps",
    "wbc_class_map",
    "weights_record",
    "write_json",
]
