"""Synthetic data sets: the layout, the cell-generator contract, and safe writing.

A *cells* generator (``GeneratorSpec(kind="cells")``) draws single-cell images; a *compositor*
(``kind="compositor"``) turns them into a data set in the WBC-USID layout::

    generated/<name>/dataset.json          what was asked for and what came out
    generated/<name>/annotations.jsonl     one JSON object per image ("path" is its key)
    generated/<name>/{train,test}/<Class>/*.png

Train images come from partition ``A`` of the cell source and test images from partition ``B``,
so the two splits never share a cell (the paper trains one generator per half of the source).
A data set is built in ``generated/.<name>.partial/`` and renamed into place when complete:
an interrupted run resumes there and nothing half-written ever carries the final name.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bench import home
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
INFO_FILE = "dataset.json"
ANNOTATIONS_FILE = "annotations.jsonl"
_FOLDER_ALIASES = {
    "esophil": "E",  # the WBC-USID release's spelling
    "eosinophils": "E",
    "rbc": RBC,
    "rbcs": RBC,
    "erythrocyte": RBC,
    "erythrocytes": RBC,
    "uninfected": RBC,  # NIH malaria cell images: healthy red blood cells
    "red_blood_cell": RBC,
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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


def label_of_folder(folder: str) -> str | None:
    """The cell label a class folder holds (``Lymphocyte``, ``L``, ``Esophil``, ``RBC``...)."""
    key = folder.strip().lower()
    for label, name in CLASS_FOLDERS.items():
        if key in (label.lower(), name.lower(), name.lower() + "s"):
            return label
    return _FOLDER_ALIASES.get(key)


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


def cell_generator(name: str, **options: Any) -> CellGenerator:
    """The cells generator registered as ``name`` (``procedural``, ``ddpm:DIR``, ...)."""
    generator = _build(name, "cells", options)
    if not isinstance(generator, CellGenerator):
        raise PluginError(f"generator {name!r}'s factory returned {type(generator).__name__}, "
                          "which has no generate(label, count, partition=, seed=, start=)")
    return generator


def compositor(name: str = "compositor", **options: Any) -> Any:
    """The compositor registered as ``name``, built with ``options`` (its level, settings)."""
    return _build(name, "compositor", options)


# -- writing a generated data set -----------------------------------------------------------


def dataset_path(name: str) -> Path:
    if not _NAME.match(name):
        raise DataError(f"{name!r} is not a usable data set name: use letters, digits, '.', '_' "
                        "and '-', starting with a letter or digit (e.g. wbc-usid-c-local)")
    return home.subdir("generated") / name


def read_info(folder: Path) -> dict[str, Any] | None:
    path = folder / INFO_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file so a reader never sees half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(temporary, path)


class Staging:
    """A data set under construction, renamed into place by ``publish``.

    ``complete`` is true when the final folder already holds exactly the requested data set.
    """

    def __init__(self, name: str, request: Mapping[str, Any], *, overwrite: bool = False):
        self.final = dataset_path(name)
        self.path = self.final.with_name(f".{name}.partial")
        self.request = dict(request)
        self.overwrite = overwrite
        self.complete = False
        existing = read_info(self.final) if self.final.exists() else None
        if existing is not None and existing.get("request") == _jsonable(self.request):
            self.complete = True
            return
        if self.final.exists() and not overwrite:
            held = (f"data set {existing.get('name')!r} made with other settings"
                    if existing else "files that are not a generated data set")
            raise DataError(f"{self.final} already holds {held}. Choose another name, or pass "
                            "--overwrite to replace it.")
        self._open_partial()

    def _open_partial(self) -> None:
        request_file = self.path / "request.json"
        if self.path.exists():
            previous = json.loads(request_file.read_text()) if request_file.is_file() else None
            if previous == _jsonable(self.request):
                return  # resume an interrupted run of the same request
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        write_json(request_file, self.request)

    def publish(self, info: Mapping[str, Any]) -> Path:
        """Write dataset.json, drop the work files and move the data set to its final name."""
        (self.path / "request.json").unlink(missing_ok=True)
        write_json(self.path / INFO_FILE, {**info, "request": _jsonable(self.request)})
        old = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
            os.replace(self.final, old)
        os.replace(self.path, self.final)
        if old is not None:
            shutil.rmtree(old)
        self.complete = True
        return self.final


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def split_counts(total: int, split: str) -> dict[str, int]:
    """Images per class for a split: balanced, any remainder going to the first classes."""
    if total < len(CLASSES):
        raise DataError(f"--{split} {total}: a split needs at least {len(CLASSES)} images, "
                        "one per class")
    base, extra = divmod(total, len(CLASSES))
    return {label: base + (i < extra) for i, label in enumerate(CLASSES)}


def generate_dataset(
    name: str,
    *,
    cells: str = "procedural",
    rbc_cells: str | None = None,
    level: str | float = "complex",
    train: int = 1000,
    test: int = 1000,
    size: int = 256,
    seed: int = 0,
    settings: Mapping[str, Any] | None = None,
    cell_options: Mapping[str, Any] | None = None,
    compositor_name: str = "compositor",
    overwrite: bool = False,
    workers: int | None = None,
    prepare: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Compose a data set in the WBC-USID layout and register it as data set ``name``.

    ``cells`` draws the central WBCs (and the added cells unless ``rbc_cells`` names another
    source for the background cells); ``level`` is ``base``, ``complex`` or a number on the
    release's scale (0 = base, 5 = complex). Returns the data set's folder.
    """
    if size < 16:
        raise DataError(f"--size {size}: images smaller than 16 pixels cannot show a cell")
    counts = {"train": split_counts(train, "train"), "test": split_counts(test, "test")}
    builder = compositor(compositor_name, level=level, **dict(settings or {}))
    options = dict(cell_options or {})
    central = cell_generator(cells, **options)
    background = cell_generator(rbc_cells, **options) if rbc_cells else central
    request = {
        "name": name, "cells": cells, "rbc_cells": rbc_cells or cells,
        "cell_options": options, "compositor": compositor_name,
        "settings": builder.describe(), "size": size, "train": train, "test": test,
        "seed": seed,
    }
    _check_name_is_free(name)
    staging = Staging(name, request, overwrite=overwrite)
    if not staging.complete:
        summary = builder.build(
            staging.path, central=central, background=background, counts=counts, size=size,
            seed=seed, workers=workers, progress=progress,
        )
        level_value = request["settings"]["level"]
        info = {
            "name": name,
            "description": (
                f"Synthetic WBC images, level {level_value:g} (0 = base, 5 = complex), "
                f"composed from {cells} cells by bench"
            ),
            "level": level_value,
            "level_name": {0: "base", 5: "complex"}.get(level_value),
            "generator": compositor_name,
            "cells": cells,
            "rbc_cells": rbc_cells or cells,
            "size": size,
            "train": train,
            "test": test,
            "seed": seed,
            "classes": {label: CLASS_FOLDERS[label] for label in CLASSES},
            "layout": "{split}/{Class}/*.png; annotations.jsonl has one record per image",
            **summary,
        }
        staging.publish(info)
    if prepare:
        _prepare(name)
    return staging.final


# -- training a cells generator ----------------------------------------------------------------


@dataclass
class TrainingCells:
    """The example cells of one label, and the fixed halving they are trained on."""

    label: str
    images: Sequence[np.ndarray]
    halving: Halving
    source: str

    def partition(self, partition: str) -> list[np.ndarray]:
        return [self.images[i] for i in self.halving.members[check_partition(partition)]]


def training_cells(
    labels: Sequence[str], *, dataset: str | None, rbc: Path | None, size: int = 64,
    seed: int = 0,
) -> dict[str, TrainingCells]:
    """Example cells per label: WBCs from a prepared data set's train split, RBCs from a folder.

    The halving into partitions A and B is per source (seeded by ``seed``); its fingerprint is
    recorded with every model trained on it.
    """
    found: dict[str, TrainingCells] = {}
    wbc = [label for label in labels if check_label(label) != RBC]
    if wbc:
        if not dataset:
            raise DataError("training WBC models needs --dataset NAME (e.g. raabin)")
        from bench import data

        arrays = data.load_prepared(dataset).split("train", size)
        names = [CLASSES[int(i)] for i in arrays.labels]
        halving = halve(arrays.images, names, seed)
        for label in wbc:
            index = [i for i, name in enumerate(names) if name == label]
            if not index:
                raise DataError(f"data set {dataset} has no {CLASS_FOLDERS[label]} images in its "
                                "train split")
            keep = set(index)
            members = {p: np.array([i for i in m if i in keep]) for p, m in
                       halving.members.items()}
            found[label] = TrainingCells(label, arrays.images, Halving(members,
                                         halving.fingerprint), f"{dataset} (train split)")
    if RBC in labels:
        if rbc is None:
            raise DataError("training the RBC model needs --rbc PATH: the NIH malaria data "
                            "set's cell_images folder (its Uninfected/ cells are used)")
        images = read_cell_folder(rbc, size)
        found[RBC] = TrainingCells(RBC, images, halve(images, [RBC] * len(images), seed),
                                   str(rbc))
    return found


def read_cell_folder(path: Path, size: int) -> list[np.ndarray]:
    """Every image in a folder (``cell_images`` means its ``Uninfected`` sub-folder), resized."""
    from PIL import Image

    path = Path(path).expanduser()
    if (path / "Uninfected").is_dir():
        path = path / "Uninfected"
    if not path.is_dir():
        raise DataError(f"--rbc {path}: not a folder. Give the NIH malaria cell_images folder "
                        "(or its Uninfected/ folder) of healthy red-blood-cell crops")
    suffixes = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes)
    if not files:
        raise DataError(f"--rbc {path}: no images found (expected *.png cell crops)")
    images = []
    for file in files:
        with Image.open(file) as image:
            image = image.convert("RGB")
            scale = size / max(image.size)
            if scale < 1:  # keep the aspect ratio; the trainer pads to a square
                image = image.resize((max(1, round(image.width * scale)),
                                      max(1, round(image.height * scale))),
                                     Image.Resampling.LANCZOS)
            images.append(np.asarray(image))
    return images


def _train_one(generator: str, label: str, images: list[np.ndarray], partition: str, seed: int,
               record: dict[str, Any], options: dict[str, Any],
               progress: Callable[[int, int, float], None] | None = None,
               home: str | None = None) -> dict[str, Any]:
    """One (class, partition) model; module-level so a Ray worker can run it."""
    if home is not None:  # on a Ray worker: the driver's data home
        import os

        os.environ["BENCH_HOME"] = home
    trainer = cell_generator(generator)
    return trainer.train(label, images, partition=partition, seed=seed, record=record,
                         progress=progress, **options)


def train_cells(
    generator: str,
    *,
    labels: Sequence[str],
    partitions: Sequence[str],
    dataset: str | None = None,
    rbc: Path | None = None,
    size: int = 64,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[str, int, int, float], None] | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> list[dict[str, Any]]:
    """Train one model per label and partition of a trainable cells generator (``ddpm:DIR``).

    With ``executor="ray"`` every (label, partition) model is a Ray task asking for a GPU when
    the cluster has one; the checkpoint folder should then be on a shared file system.
    """
    trainer = cell_generator(generator)
    if not isinstance(trainer, TrainableCellGenerator):
        raise DataError(f"generator {generator!r} cannot be trained; `bench generators list` "
                        "shows the generators there are")
    for partition in partitions:
        check_partition(partition)
    cells = training_cells(labels, dataset=dataset, rbc=rbc, size=size, seed=seed)
    minimum = getattr(trainer, "min_images", None)
    if minimum is not None:  # refuse before hours of training, not after
        needed = minimum(**dict(options or {}))
        short = [f"{CLASS_FOLDERS[label]} {partition}: {len(cells[label].partition(partition))}"
                 for partition in partitions for label in labels
                 if len(cells[label].partition(partition)) < needed]
        if short:
            raise DataError(f"too few images to train on ({', '.join(short)}); each model "
                            f"needs at least {needed}. Use a larger source data set.")
    jobs = []
    for partition in partitions:
        for label in labels:
            source = cells[label]
            record = {"source": source.source, "halving": source.halving.fingerprint,
                      "halving_seed": seed}
            jobs.append({"generator": generator, "label": label,
                         "images": source.partition(partition), "partition": partition,
                         "seed": seed, "record": record, "options": dict(options or {})})
    if executor == "ray":
        from bench.engine.ray_executor import map_on_ray
        from bench.home import data_home

        home = str(data_home())
        return map_on_ray(_train_one, [{**job, "home": home} for job in jobs],
                          address=ray_address,
                          describe=lambda job: f"{CLASS_FOLDERS[job['label']]} "
                                               f"{job['partition']}")
    results = []
    for job in jobs:
        task = f"{CLASS_FOLDERS[job['label']]} {job['partition']}"

        def report(step: int, total: int, loss: float, task: str = task) -> None:
            if progress:
                progress(task, step, total, loss)

        results.append(_train_one(**job, progress=report))
    return results


def _check_name_is_free(name: str) -> None:
    """A generated set may not take the name of another data set: it would never be found."""
    datasets = get_registries().datasets
    if name in datasets:
        spec = datasets.get(name)
        if spec.default_source is None or Path(spec.default_source) != dataset_path(name):
            raise DataError(f"{name!r} is already the name of data set {spec.label}; choose "
                            "another name for the generated one")


def _prepare(name: str) -> None:
    """Prepare the new folder (its plugin finds it), so `bench run --source NAME` works at once."""
    from bench import data

    prepare_dataset = getattr(data, "prepare_dataset", None)
    if prepare_dataset is not None:
        prepare_dataset(name)
