"""What a prepare scans: the user's ``--from`` (a folder, a file, archives, or several) as one.

Publishers split a data set over several downloads (``Train.rar``, ``TestA.rar``) and nest
archives (a repository's "download all" zip holding the data set's own zip). Several ``--from``
are laid side by side in the data set's ``source/`` folder, each under the
name of its top folder (``Train``, ``TestA``): archives extracted there, folders linked, never
copied, so a plugin scans one folder whatever the user was given.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.data.archive import (
    MARKER,
    UNSUPPORTED_SUFFIXES,
    archive_stem,
    extract_archive,
    extract_nested,
    is_archive,
)
from bench.data.layout import TEMP_PREFIX, DatasetFolder
from bench.data.scan import is_litter, subfolders
from bench.errors import DataError

UNPACKED = ".archives"  # inside source/: one folder per archive of a several-source prepare


def recorded_sources(info: Mapping[str, Any]) -> list[Path]:
    """The ``--from`` paths a data set was prepared from (older records name one)."""
    return [Path(path) for path in info.get("sources") or [info["source"]]]


def materialise_sources(sources: Sequence[Path], folder: DatasetFolder, progress: bool) -> Path:
    """Return what the plugin scans: one folder (or file), every archive extracted first."""
    if len(sources) == 1:
        return _materialise(sources[0], folder.extracted, progress)
    return _side_by_side(sources, folder.extracted, progress)


def _materialise(source: Path, target: Path, progress: bool) -> Path:
    if source.is_dir():
        return source
    if is_archive(source):
        return extract_nested(extract_archive(source, target, progress=progress),
                              progress=progress)
    if source.name.lower().endswith(UNSUPPORTED_SUFFIXES):
        raise DataError(
            f"{source.name} is a {source.suffix} archive, which bench does not unpack. Extract "
            f"it first (e.g. `7z x {source.name}`) and pass the extracted folder with --from."
        )
    return source  # a single file (e.g. a CSV): the plugin's scan decides


def _content_root(folder: Path) -> Path:
    """Below folders that hold one folder only, down to the first with more (or with files).

    A class folder (files, no sub-folder) is never descended into: ``TestA/Basophil/*.jpg``
    stays ``TestA`` even when a download holds a single class.
    """
    for _ in range(4):
        entries = [entry for entry in folder.iterdir() if not is_litter(entry.name)]
        if len(entries) != 1 or not entries[0].is_dir() or not subfolders(entries[0]):
            break
        folder = entries[0]
    return folder


def _side_by_side(sources: Sequence[Path], combined: Path, progress: bool) -> Path:
    if (combined / MARKER).is_file():  # one archive was extracted here by an earlier prepare
        shutil.rmtree(combined)
    unpacked = combined / UNPACKED
    unpacked.mkdir(parents=True, exist_ok=True)
    entries: dict[str, tuple[str, Path, Path]] = {}  # lower-case name -> name, source, root
    for source in sources:
        if is_archive(source):
            digest = hashlib.sha256(str(source).encode()).hexdigest()[:8]
            where = _materialise(source, unpacked / f"{archive_stem(source)}-{digest}", progress)
            root = _content_root(where)
            name = root.name if root != where else archive_stem(source)
        elif source.is_dir():
            root = _content_root(source)
            name = root.name
        else:
            raise DataError(f"{source} is neither a folder nor an archive: with several --from, "
                            f"each must be a folder or an archive (.zip, .rar, .tar[.gz]).")
        if name.lower() in entries:
            raise DataError(
                f"{entries[name.lower()][1]} and {source} both hold a folder named {name!r}; "
                f"several --from are laid side by side by that name. Rename one of them.")
        entries[name.lower()] = (name, source, root)
    _drop_stale(combined, {root for _, _, root in entries.values()})
    for name, _, root in entries.values():
        (combined / name).symlink_to(root, target_is_directory=True)
    return combined


def _drop_stale(combined: Path, roots: set[Path]) -> None:
    """Remove the links of an earlier prepare and the archives it unpacked that are not named."""
    for entry in combined.iterdir():
        if entry.name == UNPACKED:
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink()
        else:
            shutil.rmtree(entry)
    for part in (combined / UNPACKED).iterdir():
        used = any(root.is_relative_to(part) for root in roots)
        if not used and not part.name.startswith(TEMP_PREFIX):
            shutil.rmtree(part, ignore_errors=True)
