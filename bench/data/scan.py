"""Finding images in an official download: the layouts publishers use, shared by every plugin.

Every helper returns :class:`bench.SourceImage` records whose ``relpath`` is relative to the
data set's own folder inside the download (found with :func:`find_folder`), so a manifest does
not depend on how deep the user's archive tool unpacked it. Hidden files and operating-system
litter (``.DS_Store``, ``Thumbs.db``, ``__MACOSX/``) are skipped; every other file in a class
folder is reported, and the audit counts the ones that are not images.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from bench.data.classes import ClassMapper
from bench.errors import DataError
from bench.specs import SourceImage

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
_LITTER = frozenset({"thumbs.db", "desktop.ini", "__macosx"})
OFFICIAL_SPLITS: dict[str, str] = {"train": "train", "test": "test"}


def is_litter(name: str) -> bool:
    """Hidden files and folders, and what file managers leave behind."""
    return name.startswith(".") or name.lower() in _LITTER


def files_under(folder: Path) -> list[Path]:
    """Every regular file below ``folder``, litter skipped, in a stable (sorted) order."""
    found: list[Path] = []
    # Sorted at every level: listing order differs between file systems, the manifest must not.
    for entry in sorted(folder.iterdir()):
        if is_litter(entry.name):
            continue
        if entry.is_dir():
            found.extend(files_under(entry))
        elif entry.is_file():
            found.append(entry)
    return found


def subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not is_litter(p.name))
    except OSError:  # unreadable (permissions): not where a download lies
        return []


def scan_class_folders(
    root: Path, *, official_split: str | None = None, base: Path | None = None
) -> list[SourceImage]:
    """One sub-folder per class (``root/<class>/**/<file>``); files directly in ``root`` ignored.

    ``base`` is the folder relpaths are relative to (default ``root``); an empty class folder
    is an error, because it almost always means an incomplete download or extraction.
    """
    base = base or root
    images: list[SourceImage] = []
    for class_dir in subfolders(root):
        files = files_under(class_dir)
        if not files:
            raise DataError(
                f"class folder {class_dir} is empty. The download looks incomplete: "
                f"extract it again (or remove the empty folder if that class has no images)."
            )
        for file in files:
            # The relative path, not the bare name, is the key: publishers reuse file names
            # across classes and splits.
            relpath = file.relative_to(base).as_posix()
            images.append(SourceImage(file, relpath, class_dir.name, official_split))
    return images


def _split_dirs(root: Path, splits: Mapping[str, str]) -> dict[str, Path]:
    wanted = {name.lower(): split for name, split in splits.items()}
    return {wanted[p.name.lower()]: p for p in subfolders(root) if p.name.lower() in wanted}


def has_split_folders(root: Path, splits: Mapping[str, str] = OFFICIAL_SPLITS) -> bool:
    """Whether ``root`` holds one folder per official split (names compared case-insensitively)."""
    return root.is_dir() and len(_split_dirs(root, splits)) == len(set(splits.values()))


def scan_split_folders(
    root: Path, splits: Mapping[str, str] = OFFICIAL_SPLITS
) -> list[SourceImage]:
    """Scan the official-split layout ``root/<split>/<class>/<file>`` (WBC-USID, generated).

    ``splits`` maps folder names (any case) onto ``"train"`` or ``"test"``, e.g.
    ``{"Train": "train", "TestA": "test"}``. Folders not named there are ignored.
    """
    found = _split_dirs(root, splits)
    missing = [name for name, split in splits.items() if split not in found]
    if missing:
        present = ", ".join(p.name for p in subfolders(root)) or "nothing"
        raise DataError(
            f"expected split folders {', '.join(splits)} in {root}; found {present} "
            f"(missing: {', '.join(missing)})."
        )
    images: list[SourceImage] = []
    for split, folder in sorted(found.items()):
        images.extend(scan_class_folders(folder, official_split=split, base=root))
    return images


def scan_csv(csv_path: Path) -> list[SourceImage]:
    """Read a CSV of ``path,label`` rows (header optional), paths relative to its folder."""
    base = csv_path.parent
    images: list[SourceImage] = []
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise DataError(f"{csv_path}:{number}: expected `path,label`, got {row!r}")
            path_text, label = row[0].strip(), row[1].strip()
            if number == 1 and path_text.lower() == "path" and label.lower() == "label":
                continue
            # CSVs written on Windows use backslashes; the manifest key is always POSIX.
            relative = PurePosixPath(path_text.replace("\\", "/"))
            if relative.is_absolute() or ".." in relative.parts:
                raise DataError(
                    f"{csv_path}:{number}: {path_text!r} must be relative to the CSV's folder "
                    f"{base} and stay inside it"
                )
            images.append(SourceImage(base / relative, relative.as_posix(), label))
    if not images:
        raise DataError(f"{csv_path} lists no images (expected rows of `path,label`)")
    return images


def has_class_folders(
    class_map: Mapping[str, str | None], minimum: int = 2
) -> Callable[[Path], bool]:
    """Make a :func:`find_folder` test: at least ``minimum`` sub-folders are map classes."""
    mapper = ClassMapper(class_map)

    def looks_right(folder: Path) -> bool:
        return sum(mapper.knows(p.name) for p in subfolders(folder)) >= minimum

    return looks_right


def find_folder(
    source: Path, looks_right: Callable[[Path], bool], *, what: str, max_depth: int = 4
) -> Path:
    """Find the shallowest folder at or below ``source`` that ``looks_right``.

    Archives often unpack one or two levels deeper than their documentation says; this finds
    the folder wherever it is, and refuses to guess between two equally shallow candidates.
    """
    if not source.is_dir():
        raise DataError(f"{source} is not a folder (expected {what})")
    level = [source]
    for _ in range(max_depth + 1):  # breadth first: the shallowest match wins
        matches = [folder for folder in level if looks_right(folder)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = ", ".join(str(m) for m in matches)
            raise DataError(
                f"found {what} in several places: {listed}. Pass the one you mean with --from."
            )
        level = [child for folder in level for child in subfolders(folder)]
        if not level:
            break
    top = [p.name + ("/" if p.is_dir() else "") for p in sorted(source.iterdir())[:12]]
    raise DataError(
        f"{source} does not look like the expected download: no {what} within {max_depth} "
        f"levels. Found at its top: {', '.join(top) or 'nothing (empty folder)'}."
    )
