"""A shifted test set: a prepared data set's test split under one shift, used as a target.

It has a test split only (it is never trained on), its own fingerprint (the base split's, the
suite's hash, the shift and severity) and its own decoded cache, built once from the base's
cache and byte-identical on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.data.cache import (
    IMAGES,
    _commit,
    content_hash,
    create_images_file,
    is_cached,
    open_split,
)
from bench.data.layout import DatasetFolder, release
from bench.data.parallel import available_cores
from bench.data.prepared import PreparedDataset, SplitArrays
from bench.errors import DataError
from bench.shifts.names import ShiftedName, is_shifted, parse_name, shifted_fingerprint
from bench.shifts.suite import ShiftSuite, load_suite

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
        return DatasetFolder(self.base.folder.root / "shifted" / f"{self.shifted.shift}-{level}")

    def counts(self) -> dict[str, dict[str, int]]:
        """The base's test images per label: the only split a shifted set has."""
        return {label: {"test": per_split.get("test", 0)}
                for label, per_split in self.base.counts().items()}

    def check_split_rule(self, splits: object) -> None:
        self.base.check_split_rule(splits)

    def ensure_cache(self, size: int) -> None:
        if not is_cached(self.folder, size, self.fingerprint):
            build_shifted_cache(self, size)

    def split(self, split: str, size: int | None = None) -> SplitArrays:
        """The test split, perturbed (built from the base's cache on first use, then cached)."""
        if split != "test":
            raise DataError(
                f"{self.name} is a shifted test set: it has only a test split and is never "
                f"trained on. Train on {self.base.name} (--source {self.base.name}) and test "
                f"on {self.name} (--target {self.name})."
            )
        size = int(size or self.base.default_cache_size)
        if size not in self._arrays:
            self.ensure_cache(size)
            base = self.base.split("test", size)
            images = open_split(self.folder, size, "test")
            self._arrays[size] = SplitArrays(images, base.labels, base.paths)
        return self._arrays[size]


def build_shifted_cache(dataset: ShiftedDataset, size: int) -> Path:
    """Perturb every test image of the base cache at ``size`` into this set's own cache."""
    source = dataset.base.split("test", size)
    rows = sorted((r for r in dataset.base.manifest if r.split == "test"), key=lambda r: r.path)
    folder = dataset.folder
    folder.remove_leftovers()
    staging = folder.temporary(f"cache-{size}")
    try:
        create_images_file(staging / IMAGES, len(rows), size)
        out = np.load(staging / IMAGES, mmap_mode="r+")

        def one(image: np.ndarray) -> np.ndarray:
            return dataset.suite.apply(image, dataset.shifted.shift, dataset.shifted.level)

        with ThreadPoolExecutor(available_cores()) as pool:  # Pillow and numpy drop the GIL
            for start in range(0, len(rows), CHUNK):  # bounded memory, however many images
                stop = min(start + CHUNK, len(rows))
                out[start:stop] = list(pool.map(one, source.images[start:stop]))
        out.flush()
        _commit(staging, folder, size, rows, dataset.fingerprint, content_hash(staging / IMAGES))
    finally:
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
