"""Training a cells generator: example cells per class, halved into partitions A and B.

WBCs come from a prepared data set's train split; red blood cells from a folder of crops (the
NIH malaria set's ``cell_images``, whose ``Uninfected/`` cells are healthy RBCs). One model per
(class, partition) is trained, locally one after another or as Ray tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import CLASSES, DataError, TrainableCellGenerator, data_home
from bench.kit import (
    CLASS_FOLDERS,
    RBC,
    Halving,
    cell_generator,
    check_label,
    check_partition,
    halve,
    load_prepared,
    map_on_ray,
)


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
        arrays = load_prepared(dataset).split("train", size)
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
        os.environ["BENCH_HOME"] = home
    trainer = cell_generator(generator)
    return trainer.train(label, images, partition=partition, seed=seed, record=record,
                         progress=progress, **options)


def _jobs(trainer: Any, generator: str, *, labels: Sequence[str], partitions: Sequence[str],
          dataset: str | None, rbc: Path | None, size: int, seed: int,
          options: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One job per (partition, label), its cells checked before anything trains."""
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
    return jobs


def _trainer(generator: str) -> TrainableCellGenerator:
    trainer = cell_generator(generator)
    if not isinstance(trainer, TrainableCellGenerator):
        raise DataError(f"generator {generator!r} cannot be trained; `bench generators list` "
                        "shows the generators there are")
    return trainer


def estimate_cells(
    generator: str,
    *,
    labels: Sequence[str],
    partitions: Sequence[str],
    dataset: str | None = None,
    rbc: Path | None = None,
    size: int = 64,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """What ``train_cells`` would train, per model: steps left, a step timed here, disk.

    The same checks run first (data, image counts); nothing is trained or written.
    """
    trainer = _trainer(generator)
    cost = getattr(trainer, "training_cost", None)
    if cost is None:
        raise DataError(f"generator {generator!r} cannot estimate its training (it has no "
                        "training_cost); train it without --dry-run")
    jobs = _jobs(trainer, generator, labels=labels, partitions=partitions, dataset=dataset,
                 rbc=rbc, size=size, seed=seed, options=options)
    rows = []
    for job in jobs:
        measured = cost(job["label"], job["partition"], **job["options"])
        rows.append({"label": job["label"], "partition": job["partition"],
                     "images": len(job["images"]), **measured,
                     "seconds": measured["steps"] * measured["seconds_per_step"]})
    return rows


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
    trainer = _trainer(generator)
    jobs = _jobs(trainer, generator, labels=labels, partitions=partitions, dataset=dataset,
                 rbc=rbc, size=size, seed=seed, options=options)
    if executor == "ray":
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
