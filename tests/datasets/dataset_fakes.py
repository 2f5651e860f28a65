"""Builders of tiny images and downloads for the data set tests (imported by conftest and tests)."""

from __future__ import annotations

import itertools
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from fixtures.rar_writer import write_rar
from PIL import Image

_seeds = itertools.count(1)

PBC_COUNTS = {"basophil": 6, "eosinophil": 6, "lymphocyte": 7, "monocyte": 5, "neutrophil": 8,
              "ig": 3, "erythroblast": 2, "platelet": 2}
AML_COUNTS = {"BAS": 3, "EOS": 3, "MON": 4, "LYT": 5, "LYA": 2, "NGS": 6, "NGB": 2, "EBO": 2,
              "KSC": 1, "MMZ": 1, "MOB": 1, "MYB": 1, "MYO": 2, "PMB": 1, "PMO": 1}


def noise(size: tuple[int, int], channels: int = 3, seed: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(next(_seeds) if seed is None else seed)
    shape = (size[1], size[0], channels) if channels > 1 else (size[1], size[0])
    return rng.integers(0, 256, shape, dtype=np.uint8)

def write_image(path: Path, size: tuple[int, int] = (20, 20), mode: str = "RGB",
                fmt: str | None = None) -> Path:
    """A distinct image; mode RGB, RGBA, L or I;16 (16-bit grayscale)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        values = (noise(size, 1).astype(np.uint16) * 257)
        image = Image.fromarray(values)
    else:
        channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
        pixels = noise(size, channels)
        if mode == "RGBA":
            pixels[..., 3] = 255
        image = Image.fromarray(pixels)
    image.save(path, format=fmt)
    return path

def write_truncated(path: Path, fmt: str = "PNG") -> Path:
    """An image file cut in half, as an interrupted download leaves it."""
    write_image(path, (32, 32), fmt=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path

def make_class_folders(root: Path, counts: dict[str, int], suffix: str = ".jpg",
                       size: tuple[int, int] = (20, 20), mode: str = "RGB") -> Path:
    for name, count in counts.items():
        for index in range(count):
            write_image(root / name / f"{name}_{index:04d}{suffix}", size, mode)
    return root

def make_wbc_usid(root: Path, per_class: int = 8, size: tuple[int, int] = (24, 24)) -> Path:
    """The WBC-USID release layout with both levels; file names repeat across train and test."""
    for level in ("level_0", "level_5"):
        for split in ("train", "test"):
            for name in ("Basophil", "Esophil", "Lymphocyte", "Monocyte", "Neutrophil"):
                for index in range(per_class):
                    write_image(root / "dataset" / level / split / name / f"smear_{index}.png",
                                size)
    (root / "LICENSE").write_text("MIT License\n")
    return root

def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            bundle.write(path, path.relative_to(folder.parent).as_posix())
    return archive

def tar_folder(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as bundle:
        bundle.add(folder, arcname=folder.name)
    return archive


def rar_folder(folder: Path, archive: Path, *, with_top: bool = True) -> Path:
    """``folder`` as a RAR: under its own name (``Train/...``), or its content at the top."""
    base = folder.parent if with_top else folder
    return write_rar(archive, {path.relative_to(base).as_posix(): path.read_bytes()
                               for path in sorted(folder.rglob("*")) if path.is_file()})
