"""A shifted test set: a prepared data set's test split under one shift, used as a target.

It has a test split only (it is never trained on), its own fingerprint (the base split's, the
suite's hash, the shift and severity) and its own decoded cache, built once and byte-identical
on every machine: under a native-resolution suite (v2) from the source files, each shifted as
published and then cropped and resized like the base cache; under v1 from the base's cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.console import progress_bar
from bench.data.cache import (
    IMAGES,
    _commit,
    content_hash,
    create_images_file,
    disk_space_for,
    is_cached,
    open_split,
)
from bench.data.decode import decode_native
from bench.data.layout import DatasetFolder, release
from bench.data.manifest import ManifestRow
from bench.data.parallel import available_cores
from bench.data.prepared import PreparedDataset, SplitArrays, prepare_command
from bench.errors import DataError
from bench.labels import CLASSES
from bench.shifts.preview import shift_image
from bench.shifts.suite import ShiftSuite, load_suite
from bench.shifts.target_names import ShiftedName, is_shifted, parse_name, shifted_fingerprint

CHUNK = 256  # images perturbed at a time while building a cache


@dataclass
class ShiftedDataset:
    """A prepared data set's test split under one shift; used like a prepared set as a target."""

    base: PreparedDataset
    shifted: ShiftedName
    suite: ShiftSuite
    _arrays: dict[int, SplitArrays] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.shifted.name

    @property
    def spec(self):  # noqa: ANN201 - the base's DatasetSpec (labels, licence, download)
        return self.base.spec

    @property
    def fingerprint(self) -> str:
        return shifted_fingerprint(self.base.fingerprint, self.shifted, self.suite)

    @property
    def folder(self) -> DatasetFolder:
        level = self.shifted.level.replace(".", "_")
        # v1's folders predate suite versions; later suites keep theirs apart, so two suites
        # in use at once never rebuild each other's caches.
        version = "" if self.suite.version == "1" else f"-v{self.suite.version}"
        name = f"{self.shifted.shift}-{level}{version}"
        return DatasetFolder(self.base.folder.root / "shifted" / name)

    def counts(self) -> dict[str, dict[str, int]]:
        """The base's test images per label: the only split a shifted set has."""
        return {label: {"test": per_split.get("test", 0)}
                for label, per_split in self.base.counts().items()}

    def check_split_rule(self, splits: object) -> None:
        self.base.check_split_rule(splits)

    def ensure_cache(self, size: int, *, progress: bool = True) -> None:
        if not is_cached(self.folder, size, self.fingerprint):
            build_shifted_cache(self, size, progress=progress)

    def split(self, split: str, size: int | None = None) -> SplitArrays:
        """The test split, shifted (built on first use, then cached)."""
        if split != "test":
            raise DataError(
                f"{self.name} is a shifted test set: it has only a test split and is never "
                f"trained on. Train on {self.base.name} (--source {self.base.name}) and test "
                f"on {self.name} (--target {self.name})."
            )
        size = int(size or self.base.default_cache_size)
        if size not in self._arrays:
            self.ensure_cache(size)
            rows = ordered_test_rows(self.base)  # labels from the manifest: no base cache
            labels = np.array([CLASSES.index(row.label) for row in rows], dtype=np.int64)
            images = open_split(self.folder, size, "test")
            self._arrays[size] = SplitArrays(images, labels, [row.path for row in rows])
        return self._arrays[size]


def ordered_test_rows(base: PreparedDataset) -> list[ManifestRow]:
    """The base's test rows in the order of its cache (and so of every shifted cache)."""
    return sorted((r for r in base.manifest if r.split == "test"), key=lambda r: r.path)


def _from_sources(dataset: ShiftedDataset, rows: list[ManifestRow], size: int
                  ) -> Callable[[int], np.ndarray]:
    """Row ``i``: its source file as published, shifted, then cropped and resized."""
    root = dataset.base.root
    if not root.is_dir():
        raise DataError(
            f"{dataset.name} is shifted at the images' native resolution, from the source "
            f"files of {dataset.base.name}, but {root} is gone. Prepare it again: "
            f"{prepare_command(dataset.base.spec)}"
        )

    def one(index: int) -> np.ndarray:
        data = (root / rows[index].path).read_bytes()
        if hashlib.sha256(data).hexdigest() != rows[index].sha256:
            raise DataError(
                f"{root / rows[index].path} changed since {dataset.base.name} was prepared. "
                f"Run `bench datasets verify {dataset.base.name}`, then prepare it again."
            )
        return shift_image(decode_native(data), dataset.suite, dataset.shifted.shift,
                           dataset.shifted.level, size)

    return one


def _from_cache(dataset: ShiftedDataset, size: int) -> Callable[[int], np.ndarray]:
    """Row ``i``: the base cache's image at ``size``, shifted (suite v1)."""
    images = dataset.base.split("test", size).images
    return lambda index: dataset.suite.apply(images[index], dataset.shifted.shift,
                                             dataset.shifted.level)


def build_shifted_cache(dataset: ShiftedDataset, size: int, *, progress: bool = True) -> Path:
    """Shift every test image into this set's own cache at ``size``."""
    rows = ordered_test_rows(dataset.base)
    image = (_from_sources(dataset, rows, size) if dataset.suite.native
             else _from_cache(dataset, size))
    folder = dataset.folder
    folder.remove_leftovers()
    row_bytes = size * size * 3
    staging = None
    try:
        with disk_space_for(dataset.base.folder.root, f"the {size} px cache of {dataset.name}",
                            len(rows) * row_bytes):
            staging = folder.temporary(f"cache-{size}")
            offset = create_images_file(staging / IMAGES, len(rows), size)  # blocks reserved
            descriptor = os.open(staging / IMAGES, os.O_WRONLY)
            try:
                with (ThreadPoolExecutor(available_cores()) as pool,  # Pillow, numpy drop GIL
                      progress_bar(progress) as bar):
                    task = bar.add_task(f"Shifting {dataset.name} at {size} px",
                                        total=len(rows))
                    for start in range(0, len(rows), CHUNK):  # bounded memory, however many
                        stop = min(start + CHUNK, len(rows))
                        block = b"".join(np.ascontiguousarray(pixels).tobytes()
                                         for pixels in pool.map(image, range(start, stop)))
                        os.pwrite(descriptor, block, offset + start * row_bytes)
                        bar.advance(task, stop - start)
            finally:
                os.close(descriptor)
            _commit(staging, folder, size, rows, dataset.fingerprint,
                    content_hash(staging / IMAGES))
    finally:
        if staging is not None:
            release(staging)
    return folder.cache_dir(size)


def load_shifted(name: str, suite: ShiftSuite | None = None) -> ShiftedDataset:
    """Open ``NAME~SHIFT:LEVEL``; its base must be prepared (a generated one is prepared now)."""
    from bench.data.prepare import ensure_prepared

    suite = suite or load_suite()
    shifted = parse_name(name, suite)
    base = ensure_prepared(shifted.base)
    return ShiftedDataset(base, ShiftedName(base.name, shifted.shift, shifted.level), suite)


def open_target(name: str, opener: Callable[[str], PreparedDataset]
                ) -> PreparedDataset | ShiftedDataset:
    """A target by name: a shifted test set, or whatever ``opener`` gives for a plain name."""
    return load_shifted(name) if is_shifted(name) else opener(name)
