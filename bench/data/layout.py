"""Where a prepared data set's files live in the data home, and how they are written safely.

``datasets/<name>/``::

    prepared.json         written last: its presence means "prepared and complete"
    manifest.csv          the split manifest (its sha256 is the fingerprint)
    audit.json            duplicates, leakage, corrupt and converted files, size outliers
    cache/<size>px/       train.npy, val.npy, test.npy (N, size, size, 3) uint8 + cache.json
    source/               an official archive, extracted (only when --from was an archive)
    samples.png           the sample grid `bench datasets show` writes
    .tmp-*                work in progress; removed by the next prepare if a run was killed
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import home

TEMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_permissions(path: Path, mode: int) -> Path:
    """Give a file made by ``tempfile`` (private, 0600/0700) the permissions ``open`` would."""
    path.chmod(mode & ~_umask())
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        normal_permissions(Path(temporary), 0o666)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class DatasetFolder:
    root: Path

    @classmethod
    def of(cls, name: str, create: bool = False) -> DatasetFolder:
        if create:
            return cls(home.subdir("datasets", name))
        return cls(home.data_home(create=False) / "datasets" / name)

    @property
    def prepared(self) -> Path:
        return self.root / "prepared.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.csv"

    @property
    def audit(self) -> Path:
        return self.root / "audit.json"

    @property
    def extracted(self) -> Path:
        return self.root / "source"

    @property
    def samples(self) -> Path:
        return self.root / "samples.png"

    @property
    def cache_root(self) -> Path:
        return self.root / "cache"

    def cache_dir(self, size: int) -> Path:
        return self.cache_root / f"{size}px"

    def temporary(self, purpose: str) -> Path:
        """A new work folder, locked while this process lives (see ``remove_leftovers``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{purpose}-", dir=self.root))
        _lock(folder)
        return normal_permissions(folder, 0o777)

    def remove_leftovers(self) -> None:
        """Drop what a killed run left behind: work folders no live process holds, old files.

        A work folder is locked by its process (``flock``, released by the kernel when that
        process dies, ``kill -9`` included), so a run never removes another's work in progress.
        """
        now = time.time()
        for folder in (self.root, self.cache_root):
            if not folder.is_dir():
                continue
            for entry in folder.glob(f"{TEMP_PREFIX}*"):
                with contextlib.suppress(OSError):
                    young = now - entry.stat().st_mtime < FRESH_SECONDS
                    if entry.is_dir():
                        if str(entry) not in _held and not young and _unlocked(entry):
                            shutil.rmtree(entry, ignore_errors=True)
                    elif not young:
                        entry.unlink(missing_ok=True)


def prepared_requests() -> dict[str, str]:
    """Every prepared data set of the data home, by name, with the name it was prepared as.

    A family member (``folder:PATH``) is prepared under a name of its own; its plugin finds it
    again through this, so ``bench run --source my-cells`` works in a later process.
    """
    root = home.data_home(create=False) / "datasets"
    found = {}
    for info_path in sorted(root.glob("*/prepared.json")) if root.is_dir() else []:
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # half-written or damaged: `bench datasets verify` names it
        if isinstance(info, dict):
            found[info_path.parent.name] = str(info.get("requested_as") or info_path.parent.name)
    return found


FRESH_SECONDS = 2.0  # a folder this new may be between its creation and its lock
_held: dict[str, int] = {}  # work folders this process holds: path -> locked descriptor


def _lock(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held[str(folder)] = descriptor


def release(folder: Path) -> None:
    """Remove a work folder made by ``temporary`` and drop its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    descriptor = _held.pop(str(folder), None)
    if descriptor is not None:
        os.close(descriptor)


def _unlocked(folder: Path) -> bool:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live process is working in it
    finally:
        os.close(descriptor)
    return True
