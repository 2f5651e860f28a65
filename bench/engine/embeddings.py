"""The embedding cache: a frozen backbone's embeddings of one split, made once, memory-mapped.

An entry is keyed by everything that decides its numbers: the sha256 of the backbone's tensors,
the data set's split fingerprint (a shifted test set has its own), the split, the input size and
the preprocessing (decoded-cache side, centre crop, normalisation, precision). Every probe,
seed, number of shots and target on the same backbone reads the same entry, so a second probe
makes no backbone pass at all.

``<data home>/embeddings/<key digest>/`` holds ``embeddings.npy`` (float32, one row per image
in split order) and ``embedding.json`` (the key, shape, sha256 of the rows). Like the decoded
cache (:mod:`bench.data.cache`) an entry is written in a locked work folder and renamed into
place when complete; its blocks are reserved when the file is created (``posix_fallocate``)
and rows are written with ``pwrite``, never through a memory map, so a full disk is one clear
error and never a half-written entry or a sparse file that faults later.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.data.cache import disk_space_for, reserve_blocks
from bench.data.layout import DatasetFolder, release, write_atomic
from bench.errors import DataError
from bench.home import subdir

EMBEDDINGS = "embeddings.npy"
INFO = "embedding.json"
RULE = 1  # how embeddings are made (bench.engine.backbone); a change makes new keys
DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class EmbeddingKey:
    """What an entry's numbers depend on; its digest names the entry's folder."""

    weights: str  # sha256 of the backbone's tensors, its classifier removed
    dataset: str  # the data set's split fingerprint
    split: str
    input_size: int
    preprocessing: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs

    def as_dict(self) -> dict[str, Any]:
        return {"rule": RULE, "weights": self.weights, "dataset": self.dataset,
                "split": self.split, "input_size": self.input_size,
                "preprocessing": dict(self.preprocessing)}

    @property
    def digest(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_root(create: bool = True) -> Path:
    return subdir("embeddings", create=create)


def entry_folder(key: EmbeddingKey) -> Path:
    return cache_root() / key.digest


def _header(path: Path) -> tuple[int, tuple[int, ...], np.dtype]:
    """Where an ``.npy`` file's data starts, its shape and dtype."""
    with path.open("rb") as stream:
        version = np.lib.format.read_magic(stream)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(stream)
        if fortran:
            raise ValueError("stored in Fortran order")
        return stream.tell(), shape, dtype


def entry_problem(key: EmbeddingKey, count: int) -> str | None:
    """Why the entry for ``key`` cannot be read (None when it can); cheap enough for every run."""
    folder = entry_folder(key)
    try:
        info = json.loads((folder / INFO).read_text())
    except FileNotFoundError:
        return "not cached"
    except (OSError, ValueError):
        return f"{folder / INFO} is unreadable"
    if info.get("key") != json.loads(json.dumps(key.as_dict())):
        return "made under another key"
    path = folder / EMBEDDINGS
    try:
        offset, shape, dtype = _header(path)
    except (OSError, ValueError) as exc:
        return f"{path} has no valid .npy header ({exc})"
    if dtype != DTYPE or len(shape) != 2 or shape[0] != count:
        return f"{path} holds {dtype} {shape}, expected float32 ({count}, dim)"
    expected = offset + shape[0] * shape[1] * DTYPE.itemsize
    if path.stat().st_size != expected:
        return f"{path} is {path.stat().st_size} bytes, expected {expected} (truncated?)"
    return None


def read_embeddings(key: EmbeddingKey, count: int) -> np.ndarray | None:
    """The cached embeddings for ``key`` as a read-only memory map; None when not cached.

    A damaged entry (torn header, wrong length) is removed and reads as not cached: it is
    made again from the images.
    """
    problem = entry_problem(key, count)
    if problem == "not cached":
        return None
    if problem is not None:
        shutil.rmtree(entry_folder(key), ignore_errors=True)
        return None
    return np.load(entry_folder(key) / EMBEDDINGS, mmap_mode="r", allow_pickle=False)


def write_embeddings(key: EmbeddingKey, count: int, batches: Iterable[np.ndarray], *,
                     about: dict[str, Any]) -> np.ndarray:
    """Write ``count`` rows arriving in ``batches`` as the entry for ``key``; return it mapped.

    ``about`` (model, data set name, initialisation) is kept in the entry's JSON for people.
    """
    root = cache_root()
    work = DatasetFolder(root)  # its locked work folders serve any folder of the data home
    work.remove_leftovers()
    staging = work.temporary(f"embed-{key.digest[:12]}")
    path = staging / EMBEDDINGS
    try:
        with disk_space_for(root, f"the embeddings of {count} images", 0):
            digest = _write_rows(path, count, iter(batches))
        info = {"key": key.as_dict(), "count": count, "sha256": digest, **about}
        write_atomic(staging / INFO, json.dumps(info, indent=2).encode())
        final = entry_folder(key)
        if entry_problem(key, count) is not None:  # else another process made it meanwhile
            shutil.rmtree(final, ignore_errors=True)  # a damaged entry
            try:
                staging.rename(final)
            except OSError:  # another process finished the same entry first: keep theirs
                if entry_problem(key, count) is not None:
                    raise
    finally:
        release(staging)
    mapped = read_embeddings(key, count)
    if mapped is None:
        raise DataError(f"the embeddings just written to {entry_folder(key)} cannot be read "
                        f"back: {entry_problem(key, count)}")
    return mapped


def _write_rows(path: Path, count: int, batches: Iterator[np.ndarray]) -> str:
    """Create the preallocated file once the first batch tells the width; pwrite every batch."""
    first = next(batches, None)
    width = first.shape[1] if first is not None else 0
    row_bytes = width * DTYPE.itemsize
    digest = hashlib.sha256()
    with path.open("wb") as stream:
        np.lib.format.write_array_header_1_0(
            stream, {"descr": DTYPE.str, "fortran_order": False, "shape": (count, width)})
        offset = stream.tell()
        stream.flush()
        reserve_blocks(stream.fileno(), offset, offset + count * row_bytes)
        written = 0
        for batch in itertools.chain([] if first is None else [first], batches):
            rows = np.ascontiguousarray(batch, dtype=DTYPE)
            if rows.ndim != 2 or rows.shape[1] != width:
                raise DataError(f"embedding batches changed shape: {rows.shape}, width {width}")
            if written + len(rows) > count:
                raise DataError(f"more embeddings than the {count} images of the split")
            data = rows.tobytes()
            os.pwrite(stream.fileno(), data, offset + written * row_bytes)
            digest.update(data)
            written += len(rows)
    if written != count:
        raise DataError(f"{written} embeddings for the {count} images of the split")
    return digest.hexdigest()


def cached_entries() -> list[dict[str, Any]]:
    """Every complete entry's JSON (key, count, model, data set), for housekeeping and tests."""
    root = cache_root(create=False)
    entries = []
    for info in sorted(root.glob(f"*/{INFO}")) if root.is_dir() else []:
        try:
            entries.append({**json.loads(info.read_text()), "folder": str(info.parent)})
        except (OSError, ValueError):
            continue
    return entries
