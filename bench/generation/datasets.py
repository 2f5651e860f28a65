"""Generated data sets: the folder layout, safe writing, and registration on this machine.

A compositor writes a data set in this layout::

    generated/<name>/dataset.json          what was asked for and what came out
    generated/<name>/annotations.jsonl     one JSON object per image ("path" is its key)
    generated/<name>/{train,test}/<Class>/*.png

It is built in ``generated/.<name>.partial/`` and renamed into place when complete: an
interrupted run resumes there and nothing half-written ever carries the final name. The data
set plugins find it there (``find_datasets``) and it is prepared at once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import home
from bench.errors import DataError
from bench.generation.contract import (
    CLASS_FOLDERS,
    accepted_options,
    cell_generator,
    compositor,
    default_generator,
)
from bench.host import get_registries
from bench.labels import CLASSES

INFO_FILE = "dataset.json"
ANNOTATIONS_FILE = "annotations.jsonl"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def dataset_path(name: str) -> Path:
    if not _NAME.match(name):
        raise DataError(f"{name!r} is not a usable data set name: use letters, digits, '.', '_' "
                        "and '-', starting with a letter or digit (e.g. wbc-usid-c-local)")
    if name.lower() == "all":  # `--source all` means every prepared data set
        raise DataError("'all' is reserved (`bench run --source all` means every prepared data "
                        "set); choose another name, e.g. all-cells")
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
    cells: str | None = None,
    rbc_cells: str | None = None,
    level: str | float = "complex",
    train: int = 1000,
    test: int = 1000,
    size: int = 256,
    seed: int = 0,
    settings: Mapping[str, Any] | None = None,
    cell_options: Mapping[str, Any] | None = None,
    compositor_name: str | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    prepare: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Compose a data set (train/test class folders) that is found as data set ``name``.

    ``cells`` draws the central WBCs (and the added cells unless ``rbc_cells`` names another
    source for the background cells); ``level`` is ``base``, ``complex`` or a number on the
    release's scale (0 = base, 5 = complex). Returns the data set's folder.
    """
    if size < 16:
        raise DataError(f"--size {size}: images smaller than 16 pixels cannot show a cell")
    counts = {"train": split_counts(train, "train"), "test": split_counts(test, "test")}
    cells = cells or default_generator("cells")
    compositor_name = compositor_name or default_generator("compositor")
    builder = compositor(compositor_name, level=level, **dict(settings or {}))
    options = dict(cell_options or {})
    if rbc_cells:  # each generator takes the options it knows; one nobody takes is an error
        taken = {cells: accepted_options(cells, options),
                 rbc_cells: accepted_options(rbc_cells, options)}
        if unused := sorted(set(options) - {key for each in taken.values() for key in each}):
            raise DataError(f"neither --cells {cells} nor --rbc-cells {rbc_cells} has an option "
                            f"{', '.join(unused)}; `bench generators show NAME` lists them")
        central = cell_generator(cells, **taken[cells])
        background = cell_generator(rbc_cells, **taken[rbc_cells])
    else:
        central = background = cell_generator(cells, **options)
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
    from bench.data.prepare import prepare_dataset

    prepare_dataset(name)
