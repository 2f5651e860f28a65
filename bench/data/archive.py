"""Unpacking an official download given as an archive, refusing members that escape the target.

A member with an absolute path, a ``..`` component, a link pointing outside, or a device node
rejects the whole archive before anything is written. Extraction goes to a temporary folder
that is renamed into place only when complete, so an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from bench.data.layout import TEMP_PREFIX, normal_permissions
from bench.errors import DataError
from bench.progress import progress_bar

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
UNSUPPORTED_SUFFIXES = (".rar", ".7z")
MARKER = ".bench-extracted.json"


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_signature(path: Path) -> dict[str, object]:
    """Cheap identity of an archive (name, size, modification time): hashing gigabytes is not."""
    stat = path.stat()
    return {"archive": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _unsafe_name(name: str) -> str | None:
    posix = name.replace("\\", "/")  # zips made on Windows may use backslashes
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "an absolute path"
    depth = 0  # "a/../../b" climbs out although it does not start with ".."
    for part in PurePosixPath(posix).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return "a '..' that climbs out"
    return None


def _check_zip(archive: zipfile.ZipFile) -> list[str]:
    problems = []
    for info in archive.infolist():
        reason = _unsafe_name(info.filename)
        # zip keeps the Unix mode in the high 16 bits; S_IFLNK marks a symbolic link.
        if reason is None and (info.external_attr >> 16) & 0o170000 == 0o120000:
            reason = "a symbolic link"
        if reason:
            problems.append(f"{info.filename!r} ({reason})")
    return problems


def _check_tar(archive: tarfile.TarFile) -> list[str]:
    problems = []
    for member in archive.getmembers():
        reason = _unsafe_name(member.name)
        if reason is None and (member.issym() or member.islnk()):
            link = member.linkname
            if member.issym():  # a symlink's target is relative to its own folder
                link = str(PurePosixPath(member.name).parent / link)
            reason = _unsafe_name(link) and f"a link to {member.linkname!r} outside the folder"
        if reason is None and (member.isdev() or member.isfifo()):
            reason = "a device or FIFO"
        if reason:
            problems.append(f"{member.name!r} ({reason})")
    return problems


def _open(archive: Path) -> zipfile.ZipFile | tarfile.TarFile:
    try:
        if archive.name.lower().endswith(".zip"):
            return zipfile.ZipFile(archive)
        return tarfile.open(archive)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(
            f"{archive} is not a readable archive ({exc}). Download it again, or extract it "
            f"yourself and pass the folder with --from."
        ) from exc


def extract_archive(archive: Path, target: Path, *, progress: bool = True) -> Path:
    """Unpack ``archive`` into ``target`` (reused when it already holds this very archive)."""
    signature = archive_signature(archive)
    marker = target / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == signature:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(archive) as opened:
        if isinstance(opened, zipfile.ZipFile):
            problems, members = _check_zip(opened), opened.infolist()
        else:
            problems, members = _check_tar(opened), opened.getmembers()
        if problems:
            shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
            raise DataError(
                f"refusing to extract {archive}: {len(problems)} member(s) would land outside "
                f"the target folder: {shown}. This is not a file the publisher ships."
            )
        # Extract beside the target and rename: a killed extraction never looks complete.
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}extract-", dir=target.parent))
        normal_permissions(staging, 0o777)
        try:
            with progress_bar(progress) as bar:
                task = bar.add_task(f"Extracting {archive.name}", total=len(members))
                for member in members:
                    if isinstance(opened, zipfile.ZipFile):
                        opened.extract(member, staging)
                    else:
                        opened.extract(member, staging, filter="data")  # no setuid, no devices
                    bar.advance(task)
            (staging / MARKER).write_text(json.dumps(signature))
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
