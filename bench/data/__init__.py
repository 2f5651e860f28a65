"""Data set preparation: scanning, auditing, fixed splits, manifests and the decoded cache.

Plugins use the scanning and class-mapping helpers (cheap to import); the engine and the CLI
use :func:`prepare_dataset`, :func:`load_prepared` and :class:`PreparedDataset`, which pull in
numpy and Pillow and are therefore imported on first use, keeping plugin discovery cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.data.classes import ClassMapper, normalise_class_name, wbc_class_map
from bench.data.layout import prepared_requests
from bench.data.scan import (
    IMAGE_SUFFIXES,
    OFFICIAL_SPLITS,
    files_under,
    find_folder,
    has_class_folders,
    has_split_folders,
    scan_class_folders,
    scan_csv,
    scan_split_folders,
)
from bench.lazy import lazy_getattr

if TYPE_CHECKING:
    from bench.data.archive import extract_archive
    from bench.data.drift import VerifyReport, verify_dataset
    from bench.data.grid import write_sample_grid
    from bench.data.manifest import ManifestRow
    from bench.data.prepare import ensure_prepared, prepare_dataset
    from bench.data.prepared import PreparedDataset, SplitArrays, load_prepared
    from bench.data.splits import SplitRule

_LAZY = {
    "extract_archive": "bench.data.archive",
    "write_sample_grid": "bench.data.grid",
    "ManifestRow": "bench.data.manifest",
    "prepare_dataset": "bench.data.prepare",
    "ensure_prepared": "bench.data.prepare",
    "PreparedDataset": "bench.data.prepared",
    "SplitArrays": "bench.data.prepared",
    "load_prepared": "bench.data.prepared",
    "SplitRule": "bench.data.splits",
    "VerifyReport": "bench.data.drift",
    "verify_dataset": "bench.data.drift",
}


__getattr__ = lazy_getattr("bench.data", _LAZY)


__all__ = [
    "ensure_prepared",
    "IMAGE_SUFFIXES",
    "OFFICIAL_SPLITS",
    "ClassMapper",
    "ManifestRow",
    "PreparedDataset",
    "prepared_requests",
    "SplitArrays",
    "SplitRule",
    "VerifyReport",
    "extract_archive",
    "files_under",
    "find_folder",
    "has_class_folders",
    "has_split_folders",
    "load_prepared",
    "normalise_class_name",
    "prepare_dataset",
    "scan_class_folders",
    "scan_csv",
    "scan_split_folders",
    "verify_dataset",
    "wbc_class_map",
    "write_sample_grid",
]
