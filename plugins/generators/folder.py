"""Cells from a folder: ``folder:PATH`` reads single-cell images sorted into class folders.

``PATH/<Class>/*.png`` (or .jpg, .bmp, .tif), with class folders named like the WBC-USID
release or by label (``Lymphocyte`` or ``L``, ..., ``RBC``); what `bench generate sample`
writes is such a folder. Partitions A and B are disjoint halves of each class, fixed by a hash
of each file's path, so train and test images never share a cell.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

import bench
from bench.kit import CLASS_FOLDERS, check_label, check_partition, label_of_folder

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
# Publishers' own folder names for cell classes.
FOLDER_ALIASES = {
    "esophil": "E",  # the WBC-USID release's spelling
    "uninfected": bench.kit.RBC,  # NIH malaria cell images: healthy red blood cells
}


class FolderCells:
    """Single cells read from ``root``.

    Asking for more cells than a partition holds cycles through it in a new order each time,
    so a cell may then appear more than once within a split.
    """

    parallel = True

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise bench.DataError(f"folder:{root}: {self.root} is not a folder. Give a folder "
                                  "with one sub-folder per class (Lymphocyte/, ..., RBC/).")

    @cached_property
    def files(self) -> dict[str, list[Path]]:
        """Image files per label, sorted by their path relative to the root."""
        found: dict[str, list[Path]] = {}
        for child in sorted(p for p in self.root.iterdir() if p.is_dir()):
            label = label_of_folder(child.name, FOLDER_ALIASES)
            if label is None:
                continue
            found.setdefault(label, []).extend(
                sorted(p for p in child.rglob("*") if p.suffix.lower() in SUFFIXES)
            )
        return found

    def partition(self, label: str, partition: str) -> list[Path]:
        """The files of one half: ranked by a hash of their relative path, split in two."""
        check_label(label)
        check_partition(partition)
        files = self.files.get(label, [])
        ranked = sorted(files, key=lambda p: hashlib.sha256(
            p.relative_to(self.root).as_posix().encode()).hexdigest())
        half = (len(ranked) + 1) // 2
        return ranked[:half] if partition == "A" else ranked[half:]

    def generate(
        self, label: str, count: int, *, partition: str, seed: int, start: int = 0
    ) -> list[np.ndarray]:
        members = self.partition(label, partition)
        if not members:
            held = ", ".join(f"{CLASS_FOLDERS[k]}: {len(v)}" for k, v in self.files.items())
            raise bench.DataError(
                f"folder {self.root} has no {CLASS_FOLDERS[label]} images for partition "
                f"{partition} (found {held or 'no class folders'}). Add a folder "
                f"{CLASS_FOLDERS[label]}/ with at least two images, one per partition."
            )
        cells, orders = [], {}
        for index in range(start, start + count):
            epoch, position = divmod(index, len(members))
            if epoch not in orders:
                orders[epoch] = np.random.default_rng((seed, epoch)).permutation(len(members))
            cells.append(_read(members[orders[epoch][position]]))
        return cells


def _read(path: Path) -> np.ndarray:
    """RGB, or RGBA when the file has transparency (its alpha is then the cell's mask)."""
    with Image.open(path) as image:
        transparent = "A" in image.getbands() or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if transparent else "RGB"))
