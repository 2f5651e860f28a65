"""The decoded cache: every kept image at one square size, in one memory-mapped ``.npy`` file.

Rows are ordered split by split (train, val, test), each in manifest order, so a split is a
contiguous slice of the file: reading it is a memory map, with no decoding and no copy.
A cache is built once per size, in a temporary folder renamed into place when complete, and
is tied to the manifest fingerprint it was built from (``cache.json``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.data.decode import RESIZE_RULE
from bench.data.layout import DatasetFolder, write_atomic
from bench.data.manifest import ManifestRow
from bench.data.parallel import decode_into
from bench.data.splits import SPLITS
from bench.errors import DataError

IMAGES = "images.npy"
INFO = "cache.json"
GATHER_ROWS = 64  # rows copied at a time when reordering: bounds memory, keeps writes large


def cache_order(rows: Sequence[ManifestRow]) -> list[ManifestRow]:
    """Split-major order (train, val, test), manifest (path) order inside each split."""
    rank = {split: index for index, split in enumerate(SPLITS)}
    return sorted(rows, key=lambda row: (rank[row.split], row.path))


def split_offsets(rows: Sequence[ManifestRow]) -> dict[str, tuple[int, int]]:
    offsets, start = {}, 0
    for split in SPLITS:
        count = sum(row.split == split for row in rows)
        offsets[split] = (start, start + count)
        start += count
    return offsets


def create_images_file(path: Path, count: int, size: int) -> int:
    """Create an all-zero ``(count, size, size, 3)`` uint8 ``.npy``; return its data offset."""
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                       shape=(count, size, size, 3))
    offset = images.offset
    del images
    return offset


def cache_info(folder: DatasetFolder, size: int) -> dict | None:
    path = folder.cache_dir(size) / INFO
    return json.loads(path.read_text()) if path.is_file() else None


def is_cached(folder: DatasetFolder, size: int, fingerprint: str) -> bool:
    info = cache_info(folder, size)
    return bool(info) and info.get("fingerprint") == fingerprint and (
        folder.cache_dir(size) / IMAGES
    ).is_file()


def _commit(staging: Path, folder: DatasetFolder, size: int, rows: Sequence[ManifestRow],
            fingerprint: str) -> None:
    info = {"fingerprint": fingerprint, "size": size, "resize": RESIZE_RULE,
            "offsets": split_offsets(rows)}
    write_atomic(staging / INFO, json.dumps(info, indent=2).encode())
    final = folder.cache_dir(size)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    try:
        staging.rename(final)
    except OSError:  # another process finished the same cache first: keep theirs
        if not is_cached(folder, size, fingerprint):
            raise


def build_cache(folder: DatasetFolder, rows: Sequence[ManifestRow], root: Path, size: int,
                fingerprint: str, *, progress: bool = True, label: str = "") -> None:
    """Decode every manifest row from the source files at ``root`` into a cache of ``size``."""
    ordered = cache_order(rows)
    staging = folder.temporary(f"cache-{size}")
    try:
        create_images_file(staging / IMAGES, len(ordered), size)  # workers fill it
        paths = [root / row.path for row in ordered]
        facts = decode_into(paths, staging / IMAGES, size, progress=progress,
                            description=f"Caching {label or folder.root.name} at {size} px")
        changed = [row.path for row, fact in zip(ordered, facts, strict=True)
                   if fact.sha256 != row.sha256]
        if changed:
            raise DataError(
                f"{len(changed)} source file(s) under {root} are missing or changed since the "
                f"data set was prepared (e.g. {changed[0]}). Run `bench datasets verify "
                f"{folder.root.name}`, then prepare it again with --from."
            )
        _commit(staging, folder, size, ordered, fingerprint)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit_from_staging(folder: DatasetFolder, staging: Path, staging_rows: dict[str, int],
                        rows: Sequence[ManifestRow], size: int, fingerprint: str,
                        work: Path) -> None:
    """Reorder images decoded in scan order (``staging_rows``: path -> row) into a cache.

    Copies go through ``pread``/``write`` of a few rows at a time, never through memory maps,
    so resident memory stays bounded however large the data set.
    """
    ordered = cache_order(rows)
    target = work / f"cache-{size}"
    target.mkdir()
    row_bytes = size * size * 3
    target_offset = create_images_file(target / IMAGES, len(ordered), size)
    source_offset = np.load(staging, mmap_mode="r").offset
    sources = [staging_rows[row.path] for row in ordered]
    with staging.open("rb") as source, (target / IMAGES).open("r+b") as sink:
        sink.seek(target_offset)
        for start in range(0, len(sources), GATHER_ROWS):
            sink.write(b"".join(
                os.pread(source.fileno(), row_bytes, source_offset + index * row_bytes)
                for index in sources[start : start + GATHER_ROWS]))
    _commit(target, folder, size, ordered, fingerprint)


def open_split(folder: DatasetFolder, size: int, split: str) -> np.ndarray:
    """Open one split's images at ``size`` as a read-only memory map."""
    info = cache_info(folder, size)
    if info is None:
        raise DataError(f"no {size} px cache in {folder.root}")
    start, stop = info["offsets"][split]
    return np.load(folder.cache_dir(size) / IMAGES, mmap_mode="r")[start:stop]
