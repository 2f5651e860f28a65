"""Thumbnails of test images, read from a data set prepared on this machine (never downloaded).

Images come from the decoded cache that preparation built (the same pixels the model was tested
on), and only when the prepared split's fingerprint is the one the scores were computed on:
another split of the same name could put another image behind the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.leaderboard.groups import slugify

SIDE = 96  # px; small enough that a page of 48 stays light


@dataclass
class ThumbnailSource:
    """Where a target's test images are, found once per target; None images: not here."""

    images: Any = None  # (N, size, size, 3) uint8 memory map
    index: dict[str, int] = field(default_factory=dict)  # image key -> row
    reason: str = ""  # why there are none


def _cached_split(dataset: Any, fingerprint: str) -> Any:
    """The test split at a cache size already built, or None (nothing is built here)."""
    from bench.data.cache import is_cached

    sizes = [s for s in getattr(dataset, "base", dataset).cached_sizes()
             if is_cached(dataset.folder, s, fingerprint)]
    if not sizes:
        return None
    size = min((s for s in sizes if s >= SIDE), default=max(sizes))
    return dataset.split("test", size)


def open_target(target: str, fingerprint: str) -> ThumbnailSource:
    """The prepared test split of ``target`` if it lies here under the same fingerprint."""
    from bench.data import load_prepared
    from bench.shifts.dataset import ShiftedDataset
    from bench.shifts.target_names import ShiftedName, is_shifted, parse_name

    try:
        if is_shifted(target):
            suite = _suite()
            shifted = parse_name(target, suite)
            base = load_prepared(shifted.base)
            dataset: Any = ShiftedDataset(base, ShiftedName(base.name, shifted.shift,
                                                            shifted.level), suite)
        else:
            dataset = load_prepared(target)
    except BenchError:
        return ThumbnailSource(reason=f"{target} is not prepared on the machine that built "
                                      "this site")
    if dataset.fingerprint != fingerprint:
        return ThumbnailSource(reason=f"{target} is prepared here under another split "
                                      "(fingerprint) than the scores'")
    split = _cached_split(dataset, fingerprint)
    if split is None:
        return ThumbnailSource(reason=f"{target} has no decoded cache here")
    return ThumbnailSource(split.images, {path: i for i, path in enumerate(split.paths)})


def _suite() -> Any:
    from bench.shifts.suite import load_suite

    return load_suite()


def thumbnail_path(target: str, key: str) -> str:
    """Where the thumbnail of one image lives, relative to the site root (shared by pages)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"thumbs/{slugify(target)}/{digest}.png"


def write_thumbnail(source: ThumbnailSource, target: str, key: str, root: Path) -> str | None:
    """Write the image's thumbnail once (PNG, same bytes every time); its relative path."""
    from PIL import Image

    row = source.index.get(key)
    if source.images is None or row is None:
        return None
    relative = thumbnail_path(target, key)
    path = root / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(source.images[row]).resize((SIDE, SIDE), Image.Resampling.BOX)
        image.save(path, format="PNG", optimize=False)
    return relative
