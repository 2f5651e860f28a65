"""The plugin kit: the helpers a plugin may use beyond the contract in ``bench``.

``bench`` holds the contract (specs, hook marker, errors, labels, protocol, registries, the data
home); this module names, in one place, the utilities bench's own plugins use to scan
downloads, find pretrained weights, describe generators, show progress and check a plugin.
Each name is documented in docs/plugins.md ("The plugin kit"); first-party plugins import
nothing from bench but ``bench`` and ``bench.kit``. Names are imported on first use, so
``import bench.kit`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.lazy import lazy_getattr

if TYPE_CHECKING:
    pass

_SOURCES = {
    # reading a publisher's download
    "bench.data.scan": ["find_folder", "has_class_folders", "has_split_folders",
                        "scan_class_folders", "scan_csv", "scan_split_folders"],
    "bench.data.classes": ["wbc_class_map"],
    "bench.data.layout": ["prepared_requests"],
    "bench.data.prepared": ["PreparedDataset", "load_prepared"],
    "bench.download": ["fetch_json"],
    # pretrained weights
    "bench.hub": ["pretrained_file"],
    "bench.weights": ["load_weights_file", "read_state_dict", "weights_record"],
    # generators: labels, partitions, seeds, files
    "bench.generation.contract": ["CELL_LABELS", "CLASS_FOLDERS", "PARTITIONS", "RBC",
                                  "SPLIT_PARTITIONS", "Halving", "cell_generator", "check_label",
                                  "check_partition", "derive_seed", "halve", "label_of_folder",
                                  "parse_labels", "sample_cells"],
    "bench.generation.datasets": ["ANNOTATIONS_FILE", "write_json"],
    # long work: estimates, progress, tables, worker processes
    "bench.engine.job_cost": ["human_bytes", "human_duration", "long_job_warning",
                              "tensor_bytes", "time_steps"],
    "bench.console": ["progress_bar", "stage_progress"],
    "bench.cli.output": ["emit_table", "kept_on_interrupt"],
    "bench.data.parallel": ["die_with_parent"],
    "bench.engine.ray_executor": ["map_on_ray"],
    # checking a plugin
    "bench.testing": ["ContractError", "check_dataset", "check_generator", "check_model",
                      "check_plugins"],
}
_LAZY = {name: module for module, names in _SOURCES.items() for name in names}

__getattr__ = lazy_getattr("bench.kit", _LAZY)

__all__ = sorted(_LAZY)
