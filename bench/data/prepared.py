"""A prepared data set, as the engine sees it: manifest, fingerprint, counts and cached splits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.data.cache import build_cache, is_cached, open_split
from bench.data.layout import DatasetFolder
from bench.data.manifest import ManifestRow, count_table, read_manifest
from bench.data.splits import SPLITS, SplitRule
from bench.errors import DataError
from bench.host import get_registries
from bench.labels import CLASSES
from bench.protocols import default_protocol
from bench.specs import DatasetSpec


@dataclass
class SplitArrays:
    """One split at one size: images (N, size, size, 3) uint8 memory map, labels, paths."""

    images: np.ndarray
    labels: np.ndarray  # int64 indices into bench.CLASSES
    paths: list[str]  # manifest relative paths, row for row

    @property
    def classes_present(self) -> list[str]:
        return [CLASSES[index] for index in sorted(set(self.labels.tolist()))]

    def __len__(self) -> int:
        return len(self.labels)


def prepare_command(spec: DatasetSpec, requested: str | None = None) -> str:
    """Return the command that prepares ``spec`` (what error messages tell users to run)."""
    name = requested or spec.name
    if spec.downloads is not None:
        return f"bench datasets download {name}"
    if spec.default_source is not None:
        return f"bench datasets prepare {name}"
    if name.lower().startswith("folder:"):
        return f"bench datasets prepare {name}"
    return f"bench datasets prepare {name} --from PATH"


@dataclass
class PreparedDataset:
    """A data set prepared in the data home; cheap to create, caches built on demand."""

    spec: DatasetSpec
    folder: DatasetFolder
    info: dict[str, Any]
    manifest: list[ManifestRow]
    fingerprint: str
    reused: bool = False  # True when prepare_dataset found it already prepared and did nothing
    repaired: list[str] = field(default_factory=list)  # damaged caches prepare rebuilt, and why
    _arrays: dict[tuple[str, int], SplitArrays] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def root(self) -> Path:
        """The folder the manifest paths are relative to (inside the user's download)."""
        return Path(self.info["root"])

    @property
    def split_rule(self) -> SplitRule:
        return SplitRule.from_dict(self.info["split_rule"])

    @property
    def default_cache_size(self) -> int:
        """The default protocol's cache side (``input.cache_size``), whatever size prepare built."""
        return int(default_protocol().input.cache_size)

    @property
    def audit(self) -> dict[str, Any]:
        path = self.folder.audit
        return json.loads(path.read_text()) if path.is_file() else {}

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per canonical label (L, M, N, E, B order) and split."""
        return count_table(self.manifest)

    def check_split_rule(self, splits: Any) -> None:
        """Raise unless this data set was split under ``splits`` (a protocol's splits section)."""
        wanted = SplitRule.from_protocol(splits, self.split_rule.policy)
        if wanted != self.split_rule:
            raise DataError(
                f"data set {self.name} was split under {self.split_rule.as_dict()}, but the "
                f"protocol asks for {wanted.as_dict()}. Prepare it again under this protocol's "
                f"split rule before comparing results."
            )

    def cached_sizes(self) -> list[int]:
        """Sizes whose cache is built and current (no decoding needed to read them)."""
        folders = self.folder.cache_root.glob("*px") if self.folder.cache_root.is_dir() else []
        sizes = (int(f.name[:-2]) for f in folders if f.name[:-2].isdigit())
        return sorted(s for s in sizes if is_cached(self.folder, s, self.fingerprint))

    def ensure_cache(self, size: int, *, progress: bool = True) -> None:
        """Build the cache at ``size`` from the source files if it is not there yet."""
        if not is_cached(self.folder, size, self.fingerprint):
            if not self.root.is_dir():
                raise DataError(
                    f"the {size} px cache of {self.name} must be built from its source files, "
                    f"but {self.root} is gone. Prepare it again: "
                    f"{prepare_command(self.spec)}"
                )
            build_cache(self.folder, self.manifest, self.root, size, self.fingerprint,
                        progress=progress, label=self.spec.label)

    def split(self, split: str, size: int | None = None) -> SplitArrays:
        """One split at ``size`` px (default: the protocol's cache size), memory-mapped."""
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
        size = int(size or self.default_cache_size)
        key = (split, size)
        if key not in self._arrays:
            self.ensure_cache(size)
            rows = sorted((r for r in self.manifest if r.split == split), key=lambda r: r.path)
            labels = np.array([CLASSES.index(r.label) for r in rows], dtype=np.int64)
            images = open_split(self.folder, size, split)
            self._arrays[key] = SplitArrays(images, labels, [r.path for r in rows])
        return self._arrays[key]


def read_prepared(spec: DatasetSpec, folder: DatasetFolder) -> PreparedDataset | None:
    """Read the prepared data set in ``folder``; None when it is not (completely) prepared."""
    if not (folder.prepared.is_file() and folder.manifest.is_file()):
        return None
    info = json.loads(folder.prepared.read_text())
    manifest, fingerprint = read_manifest(folder.manifest)
    if fingerprint != info.get("fingerprint"):
        raise DataError(
            f"{folder.manifest} does not match the fingerprint in {folder.prepared}: it was "
            f"edited, or preparation was interrupted. Prepare it again: {prepare_command(spec)}"
        )
    return PreparedDataset(spec, folder, info, manifest, fingerprint)


def resolve_spec(name: str) -> DatasetSpec:
    return get_registries().datasets.get(name)


def load_prepared(name: str) -> PreparedDataset:
    """Open a prepared data set by name or alias; it only reads.

    Raises :class:`bench.DataError` naming the command when it is not prepared
    (:func:`bench.data.prepare.ensure_prepared` prepares the ones that lie on this machine).
    """
    spec = resolve_spec(name)
    prepared = read_prepared(spec, DatasetFolder.of(spec.name))
    if prepared is not None:
        return prepared
    hint = f" Download: {spec.download_hint}" if spec.download_hint else ""
    raise DataError(
        f"data set {spec.label} is not prepared. Run: {prepare_command(spec, name)}.{hint}"
    )

