"""Removing a prepared data set from the data home; results and the user's download stay.

What goes: ``datasets/<name>/`` (manifest, prepared.json, audit, decoded caches, an archive
bench extracted there) and, for a data set generated on this machine, ``generated/<name>/``
(its images: otherwise it would be found and prepared again on the next run).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.data.layout import DatasetFolder, prepared_requests
from bench.errors import DataError, UnknownNameError
from bench.home import data_home

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Removal:
    """What removing one data set deletes: each path with its size in bytes."""

    name: str
    paths: list[tuple[Path, int]] = field(default_factory=list)
    generated: bool = False
    in_use: list[dict[str, Any]] = field(default_factory=list)  # runs training or testing on it

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.paths)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def planned_removal(name: str) -> Removal:
    """What ``remove_dataset`` would delete for ``name`` (a name, alias or folder:PATH).

    A name that is neither prepared nor generated here is an error listing those that are.
    """
    from bench.data.prepared import resolve_spec

    home = data_home(create=False)
    generated_root = home / "generated"
    try:
        spec = resolve_spec(name)
        canonical = spec.name
        source = Path(spec.default_source) if spec.default_source is not None else None
        generated = bool(spec.synthetic and source is not None
                         and _inside(source, generated_root) and source != generated_root)
    except UnknownNameError:
        if not _PLAIN_NAME.match(name):
            raise _not_here(name) from None
        canonical = name  # prepared once, but its plugin is gone: still removable
        source = generated_root / name
        generated = (source / "dataset.json").is_file()
    removal = Removal(canonical, generated=generated)
    folder = DatasetFolder.of(canonical)
    if folder.root.is_dir():
        removal.paths.append((folder.root, _size(folder.root)))
    if generated and source is not None:
        for path in (source, source.with_name(f".{source.name}.partial")):
            if path.is_dir():
                removal.paths.append((path, _size(path)))
    if not removal.paths:
        raise _not_here(name)
    removal.in_use = runs_using(canonical)
    return removal


def runs_using(name: str) -> list[dict[str, Any]]:
    """The runs still training (their process alive) that train or test on data set ``name``."""
    from bench.runs import shown_status
    from bench.store import open_store

    found = []
    for run in open_store(read_only=True).runs("running").to_dict("records"):
        targets = json.loads(run["settings"] or "{}").get("targets") or []
        if (run["source"] == name or name in targets) and shown_status(run) == "running":
            found.append(run)
    return found


def in_use_message(removal: Removal) -> str:
    runs = "; ".join(f"run {run['id']} ({run['model']} on {run['source']}, seed {run['seed']}, "
                     f"process {run['owner']})" for run in removal.in_use)
    return f"data set {removal.name} is in use by a run still training: {runs}"


def _not_here(name: str) -> DataError:
    prepared = sorted(prepared_requests())
    listing = ", ".join(prepared) if prepared else "none"
    return DataError(f"data set {name!r} is not prepared in {data_home(create=False)}, so there "
                     f"is nothing to remove. Prepared here: {listing} (`bench datasets list`).")


def refuse_in_use(removal: Removal) -> None:
    """Refuse to remove a data set a live run trains or tests on, naming the run."""
    if removal.in_use:
        raise DataError(f"{in_use_message(removal)}. Removing it now would fail that run: wait "
                        f"for it to end (or stop its process), or give --force to remove it "
                        f"anyway. Nothing was removed.")


def remove_dataset(removal: Removal | str, *, force: bool = False) -> Removal:
    """Delete what :func:`planned_removal` lists; scores and runs in the store are kept.

    A data set a live run trains or tests on is refused (it would fail that run) unless
    ``force``.
    """
    if isinstance(removal, str):
        removal = planned_removal(removal)
    if not force:
        refuse_in_use(removal)
    for path, _ in removal.paths:
        shutil.rmtree(path)
    return removal
