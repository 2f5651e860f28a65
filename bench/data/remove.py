"""Removing a prepared data set from the data home; results and the user's download stay.

What goes: ``datasets/<name>/`` (manifest, prepared.json, audit, decoded caches, an archive
bench extracted there) and, for a data set generated on this machine, ``generated/<name>/``
(its images: otherwise it would be found and prepared again on the next run).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

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
    return removal


def _not_here(name: str) -> DataError:
    prepared = sorted(prepared_requests())
    listing = ", ".join(prepared) if prepared else "none"
    return DataError(f"data set {name!r} is not prepared in {data_home(create=False)}, so there "
                     f"is nothing to remove. Prepared here: {listing} (`bench datasets list`).")


def remove_dataset(removal: Removal | str) -> Removal:
    """Delete what :func:`planned_removal` lists; scores and runs in the store are kept."""
    if isinstance(removal, str):
        removal = planned_removal(removal)
    for path, _ in removal.paths:
        shutil.rmtree(path)
    return removal
