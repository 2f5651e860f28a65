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

import json
import os
import shutil
import tempfile
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
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{purpose}-", dir=self.root))
        return normal_permissions(folder, 0o777)

    def remove_leftovers(self) -> None:
        """Drop what an interrupted run left behind (temporary folders and files)."""
        for folder in (self.root, self.cache_root):
            if folder.is_dir():
                for entry in folder.glob(f"{TEMP_PREFIX}*"):
                    if entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
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
