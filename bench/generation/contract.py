"""The generator contract: cell labels, partitions, seeds, and looking generators up.

A *cells* generator (``GeneratorSpec(kind="cells")``) draws single-cell images; a *compositor*
(``kind="compositor"``) turns them into a data set (see :mod:`bench.generation.datasets`).
Train images come from partition ``A`` of a cell source and test images from partition ``B``,
so the two splits never share a cell: a trainable generator learns one model per half of its
source.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bench.errors import DataError, PluginError
from bench.host import get_registries
from bench.labels import CLASSES

RBC = "RBC"
CELL_LABELS: tuple[str, ...] = (*CLASSES, RBC)  # RBCs only ever appear as background cells
CLASS_FOLDERS: dict[str, str] = {
    "L": "Lymphocyte",
    "M": "Monocyte",
    "N": "Neutrophil",
    "E": "Eosinophil",
    "B": "Basophil",
    RBC: "RBC",
}
PARTITIONS: tuple[str, ...] = ("A", "B")
SPLIT_PARTITIONS: dict[str, str] = {"train": "A", "test": "B"}
_RBC_NAMES = ("rbc", "rbcs", "erythrocyte", "erythrocytes", "red_blood_cell")


@runtime_checkable
class CellGenerator(Protocol):
    """Draws single-cell images; what a ``GeneratorSpec(kind="cells")`` factory returns.

    ``generate`` returns cells ``start .. start+count-1`` of one deterministic sequence per
    ``(label, partition, seed)``, so callers may ask in chunks and resume. Each cell is a uint8
    array, RGB on a plain background (a mask is extracted from it) or RGBA (alpha is the mask).
    Partitions ``A`` and ``B`` must never yield the same cell.
    """

    def generate(
        self, label: str, count: int, *, partition: str, seed: int, start: int = 0
    ) -> list[np.ndarray]: ...


@runtime_checkable
class TrainableCellGenerator(CellGenerator, Protocol):
    """A cell generator that learns one model per label and partition from example cells."""

    def train(
        self, label: str, images: Sequence[np.ndarray], *, partition: str, **options: Any
    ) -> dict[str, Any]: ...

    def trained(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What is trained so far: partition -> label -> facts (step, images, loss, ...)."""
        ...


def label_of_folder(folder: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The cell label a class folder holds (``Lymphocyte``, ``L``, ``Basophils``, ``RBC``...).

    ``aliases`` adds a source's own spellings (lower-case folder name -> label).
    """
    key = folder.strip().lower()
    if aliases and key in aliases:
        return aliases[key]
    for label, name in CLASS_FOLDERS.items():
        if key in (label.lower(), name.lower(), name.lower() + "s"):
            return label
    return RBC if key in _RBC_NAMES else None


def check_label(label: str) -> str:
    if label not in CELL_LABELS:
        raise DataError(f"unknown cell label {label!r}; expected one of {', '.join(CELL_LABELS)}")
    return label


def check_partition(partition: str) -> str:
    if partition not in PARTITIONS:
        raise DataError(f"unknown partition {partition!r}; expected A (train) or B (test)")
    return partition


def derive_seed(*parts: int | str) -> int:
    """A 32-bit seed from a tuple of ints and strings, the same on every machine."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little")


# -- the halving of a source into partitions A and B ----------------------------------------


@dataclass(frozen=True)
class Halving:
    """A fixed split of a cell source into partitions A and B, with its fingerprint."""

    members: dict[str, np.ndarray]  # partition -> sorted indices into the source
    fingerprint: str


def halve(images: Sequence[np.ndarray], labels: Sequence[int | str], seed: int = 0) -> Halving:
    """Split images into two halves, per label, by a seeded hash of each image's content.

    Content hashing makes the halving independent of the order in which the source lists its
    images, so it is the same on every machine that prepared the same data.
    """
    keys = [
        hashlib.sha256(f"{seed}:".encode() + np.ascontiguousarray(image).tobytes()).hexdigest()
        for image in images
    ]
    members: dict[str, list[int]] = {"A": [], "B": []}
    labels = [str(label) for label in labels]
    for label in sorted(set(labels)):
        ranked = sorted((keys[i], i) for i in range(len(labels)) if labels[i] == label)
        half = (len(ranked) + 1) // 2
        members["A"] += [i for _, i in ranked[:half]]
        members["B"] += [i for _, i in ranked[half:]]
    digest = hashlib.sha256()
    for partition in PARTITIONS:
        for i in sorted(members[partition], key=lambda i: keys[i]):
            digest.update(f"{partition}:{labels[i]}:{keys[i]}\n".encode())
    return Halving(
        {part: np.array(sorted(index), dtype=np.int64) for part, index in members.items()},
        digest.hexdigest()[:16],
    )


# -- looking generators up ------------------------------------------------------------------


def _build(name: str, kind: str, options: Mapping[str, Any]) -> Any:
    spec = get_registries().generators.get(name)
    if spec.kind != kind:
        raise DataError(f"generator {name!r} makes {spec.kind}, not {kind}; "
                        f"see `bench generators list`")
    options = {key: value for key, value in options.items() if value is not None}
    parameters = inspect.signature(spec.factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(set(options) - set(parameters)) if not takes_any else []
    if unknown:
        raise DataError(f"generator {spec.name!r} has no option {', '.join(unknown)}; "
                        f"it takes: {', '.join(parameters) or 'no options'}")
    return spec.factory(**options)


def accepted_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that generator ``name`` takes.

    A sampler option means nothing to a generator without a model: it is left out, not an error.
    """
    parameters = inspect.signature(get_registries().generators.get(name).factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}


def cell_generator(name: str, **options: Any) -> CellGenerator:
    """The cells generator registered as ``name`` (``NAME`` or ``NAME:ARGUMENT`` of a family)."""
    generator = _build(name, "cells", options)
    if not isinstance(generator, CellGenerator):
        raise PluginError(f"generator {name!r}'s factory returned {type(generator).__name__}, "
                          "which has no generate(label, count, partition=, seed=, start=)")
    return generator


def default_generator(kind: str) -> str:
    """The generator of ``kind`` that a command uses when none is named.

    The one whose spec says ``default=True``, else the only one of its kind; the core names
    none itself, so a plugin set without the first-party generators still works.
    """
    registry = get_registries().generators
    specs = [spec for spec in map(registry.get, registry.names()) if spec.kind == kind]
    chosen = [spec for spec in specs if spec.default] or (specs if len(specs) == 1 else [])
    if len(chosen) != 1:
        known = ", ".join(sorted(spec.name for spec in specs)) or "none is installed"
        raise PluginError(f"no default {kind} generator; name one (known: {known}; "
                          "`bench generators list`).")
    return chosen[0].name


def compositor(name: str | None = None, **options: Any) -> Any:
    """The compositor registered as ``name`` (default: the default one), built with ``options``."""
    return _build(name or default_generator("compositor"), "compositor", options)


def parse_labels(raw: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """Cell labels from a comma list of letters or class names (``--classes L,Monocyte``)."""
    if not raw:
        return tuple(default)
    labels = []
    for part in raw.split(","):
        name = part.strip()
        label = name.upper() if name.upper() in CELL_LABELS else label_of_folder(name)
        if label is None:
            raise DataError(f"--classes: {name!r} is not a cell class; use "
                            f"{', '.join(CELL_LABELS)} or their names")
        labels.append(label)
    return tuple(dict.fromkeys(labels))


def sample_cells(cells: str, out: Path, *, per_class: int, labels: Sequence[str] = CELL_LABELS,
                 partition: str = "A", seed: int = 0, options: Mapping[str, Any] | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
    """Write ``per_class`` cells of each label to ``out/<Class>/cell_NNNNN.png``.

    Cells are numbered in the generator's deterministic order, so a rerun after an interruption
    skips the files already there and continues with the same cells an uninterrupted run makes.
    """
    import time

    from PIL import Image

    if per_class < 1:
        raise DataError(f"--per-class {per_class}: ask for at least one cell")
    check_partition(partition)
    generator = cell_generator(cells, **dict(options or {}))
    rows = []
    for label in labels:
        folder = Path(out) / CLASS_FOLDERS[check_label(label)]
        folder.mkdir(parents=True, exist_ok=True)
        have = 0
        while have < per_class and (folder / f"cell_{have + 1:05d}.png").is_file():
            have += 1
        started = time.perf_counter()
        chunk = max(1, getattr(generator, "batch_size", 64))
        for start in range(have, per_class, chunk):
            count = min(chunk, per_class - start)
            for offset, cell in enumerate(generator.generate(
                    label, count, partition=partition, seed=seed, start=start)):
                path = folder / f"cell_{start + offset + 1:05d}.png"
                temporary = path.with_name(f".{path.name}.tmp")
                Image.fromarray(cell).save(temporary, format="PNG")
                temporary.replace(path)  # a killed run never leaves a torn PNG under the name
            if progress:
                progress(CLASS_FOLDERS[label], start + count, per_class)
        rows.append({"class": CLASS_FOLDERS[label], "cells": per_class, "new": per_class - have,
                     "seconds": round(time.perf_counter() - started, 2), "folder": str(folder)})
    return rows
