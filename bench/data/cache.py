"""The decoded cache: every kept image at one square size, in one memory-mapped ``.npy`` file.

Rows are ordered split by split (train, val, test), each in manifest order, so a split is a
contiguous slice of the file: reading it is a memory map, with no decoding and no copy.
A cache is built once per size, in a temporary folder renamed into place when complete, and
is tied to the manifest fingerprint it was built from and to the sha256 of its pixels
(``cache.json``): ``verify`` recomputes that hash and ``prepare`` rebuilds a cache that fails
it, so a damaged cache is named and repaired, never read as data.

Its blocks are reserved on disk when the file is created (``posix_fallocate``), and rows are
written with ``pwrite``, never through a memory map: a full disk is an error at creation, not
a "Bus error" that kills the process halfway (a sparse file's page fault has nowhere to go).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.data.decode import RESIZE_RULE
from bench.data.layout import DatasetFolder, release, write_atomic
from bench.data.manifest import ManifestRow
from bench.data.parallel import available_cores, decode_into
from bench.data.splits import SPLITS
from bench.errors import DataError

IMAGES = "images.npy"
INFO = "cache.json"
GATHER_ROWS = 64  # rows copied at a time when reordering: bounds memory, keeps writes large
ZEROS = 1 << 23  # bytes written at a time where the file system cannot reserve blocks


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
    """Create an all-zero ``(count, size, size, 3)`` uint8 ``.npy``; return its data offset.

    Every block is reserved now, so a disk too small fails here (``OSError`` ENOSPC) and
    never while the rows are written.
    """
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                       shape=(count, size, size, 3))
    offset = images.offset
    del images
    with path.open("r+b") as stream:
        reserve_blocks(stream.fileno(), offset, offset + count * size * size * 3)
    return offset


def reserve_blocks(descriptor: int, offset: int, length: int) -> None:
    """Give a file its ``length`` bytes of blocks now: a disk too small fails here (ENOSPC).

    Where the file system cannot reserve (macOS, some file systems), zeros are written from
    ``offset`` (the data after a header already written): real blocks, never a sparse file.
    """
    try:
        os.posix_fallocate(descriptor, 0, length)
    except (AttributeError, OSError) as exc:  # no fallocate here (macOS, some file systems)
        if isinstance(exc, OSError) and exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        for start in range(offset, length, ZEROS):
            os.pwrite(descriptor, bytes(min(ZEROS, length - start)), start)


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _megabytes(count: float) -> str:
    return f"{count / 1e6:,.1f} MB"


@contextlib.contextmanager
def disk_space_for(folder: Path, what: str, needed: int) -> Iterator[None]:
    """Turn a full disk while writing ``what`` into one message: the cause and the fix.

    The caller removes its unfinished files on the way out (``release``), so the message can
    say that nothing half-written is left.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        sizes = [f"{_megabytes(needed)} needed"] if needed else []
        with contextlib.suppress(OSError):
            sizes.append(f"{_megabytes(shutil.disk_usage(folder).free)} free")
        raise DataError(
            f"no space left on the disk of {folder} for {what}"
            f"{' (' + ', '.join(sizes) + ')' if sizes else ''}; the unfinished cache was "
            f"removed. Free some space, or point BENCH_HOME at a disk with room, then run the "
            f"same command again."
        ) from exc


def cache_info(folder: DatasetFolder, size: int) -> dict | None:
    path = folder.cache_dir(size) / INFO
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None  # a torn or foreign cache.json: the cache is rebuilt


def _data_offset(path: Path) -> tuple[int, tuple[int, ...]]:
    """Where the pixels of an ``.npy`` file start, and its shape; ValueError if not uint8."""
    with path.open("rb") as stream:
        version = np.lib.format.read_magic(stream)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(stream)
        if dtype != np.uint8 or fortran:
            raise ValueError(f"holds {dtype} data, not uint8 images")
        return stream.tell(), shape


class ContentHash:
    """sha256 over the sha256 of each 64 MiB segment of the pixels, fed in writing order.

    Segments let :func:`content_hash` re-hash a large cache on every core at once.
    """

    SEGMENT = 1 << 26

    def __init__(self) -> None:
        self._segments: list[str] = []
        self._current = hashlib.sha256()
        self._filled = 0

    def update(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view.nbytes:
            take = min(view.nbytes, self.SEGMENT - self._filled)
            self._current.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self.SEGMENT:
                self._segments.append(self._current.hexdigest())
                self._current, self._filled = hashlib.sha256(), 0

    def hexdigest(self) -> str:
        segments = self._segments + ([self._current.hexdigest()] if self._filled else [])
        return hashlib.sha256("\n".join(segments).encode()).hexdigest()


def _segment_hash(path: Path, start: int, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        stream.seek(start)
        while length > 0 and (chunk := stream.read(min(length, 1 << 23))):
            digest.update(chunk)  # releases the GIL: segments hash in parallel threads
            length -= len(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """The :class:`ContentHash` of an images file's pixels (everything after the header)."""
    offset, _ = _data_offset(path)
    total = path.stat().st_size - offset
    starts = range(offset, offset + total, ContentHash.SEGMENT)
    lengths = [min(ContentHash.SEGMENT, offset + total - start) for start in starts]
    with ThreadPoolExecutor(available_cores()) as pool:
        segments = list(pool.map(_segment_hash, [path] * len(lengths), starts, lengths))
    return hashlib.sha256("\n".join(segments).encode()).hexdigest()


def cache_problem(folder: DatasetFolder, size: int, fingerprint: str, count: int | None = None,
                  *, deep: bool = False) -> str | None:
    """Why the cache at ``size`` cannot be used (None when it can).

    The shallow check (header, shape, file length) is cheap enough for every run; ``deep``
    also recomputes the pixels' sha256, which catches overwritten bytes.
    """
    info = cache_info(folder, size)
    path = folder.cache_dir(size) / IMAGES
    if not info:
        return f"{INFO} is missing or unreadable"
    if info.get("fingerprint") != fingerprint:
        return "built from another manifest"
    if not path.is_file():
        return f"{IMAGES} is missing"
    try:
        offset, shape = _data_offset(path)
    except (OSError, ValueError) as exc:
        return f"{path} has no valid .npy header ({exc})"
    rows = count if count is not None else max(stop for _, stop in info["offsets"].values())
    if shape != (rows, size, size, 3):
        return f"{path} has shape {shape}, expected {(rows, size, size, 3)}"
    length = path.stat().st_size
    if length != offset + rows * size * size * 3:
        return f"{path} is {length} bytes, expected {offset + rows * size * size * 3} (truncated?)"
    if deep:
        if "sha256" not in info:
            return "no content hash recorded (built by an older bench)"
        if content_hash(path) != info["sha256"]:
            return f"the pixels of {path} do not match their recorded sha256 (overwritten)"
    return None


def is_cached(folder: DatasetFolder, size: int, fingerprint: str) -> bool:
    return cache_problem(folder, size, fingerprint) is None


def _commit(staging: Path, folder: DatasetFolder, size: int, rows: Sequence[ManifestRow],
            fingerprint: str, sha256: str) -> None:
    info = {"fingerprint": fingerprint, "size": size, "resize": RESIZE_RULE,
            "offsets": split_offsets(rows), "sha256": sha256}
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
    folder.remove_leftovers()  # what a killed build of this data set left behind
    staging = folder.temporary(f"cache-{size}")
    what = f"the {size} px cache of {label or folder.root.name}"
    try:
        with disk_space_for(folder.root, what, len(ordered) * size * size * 3):
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
        with disk_space_for(folder.root, what, 0):
            _commit(staging, folder, size, ordered, fingerprint, content_hash(staging / IMAGES))
    finally:
        release(staging)


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
    with disk_space_for(folder.root, f"the {size} px cache of {folder.root.name}",
                        len(ordered) * row_bytes):
        target_offset = create_images_file(target / IMAGES, len(ordered), size)
        source_offset, _ = _data_offset(staging)
        sources = [staging_rows[row.path] for row in ordered]
        digest = ContentHash()  # hashed as written: no second pass over the cache
        with staging.open("rb") as source, (target / IMAGES).open("r+b") as sink:
            sink.seek(target_offset)
            for start in range(0, len(sources), GATHER_ROWS):
                block = b"".join(
                    os.pread(source.fileno(), row_bytes, source_offset + index * row_bytes)
                    for index in sources[start : start + GATHER_ROWS])
                digest.update(block)
                sink.write(block)
        _commit(target, folder, size, ordered, fingerprint, digest.hexdigest())


def open_split(folder: DatasetFolder, size: int, split: str) -> np.ndarray:
    """Open one split's images at ``size`` as a read-only memory map."""
    info = cache_info(folder, size)
    if info is None:
        raise DataError(f"no {size} px cache in {folder.root}")
    start, stop = info["offsets"][split]
    path = folder.cache_dir(size) / IMAGES
    try:
        # allow_pickle=False (numpy's default, stated): a planted pickle is refused, never run
        return np.load(path, mmap_mode="r", allow_pickle=False)[start:stop]
    except (OSError, ValueError) as exc:
        raise DataError(
            f"the {size} px cache {path} is damaged ({exc}). Rebuild it: "
            f"bench datasets prepare {folder.root.name}"
        ) from exc
