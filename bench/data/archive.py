"""Unpacking an official download given as an archive, refusing members that escape the target.

A member with an absolute path, a ``..`` component, a link pointing outside, or a device node
rejects the whole archive before anything is written; a link chain that only the extraction
itself reveals (``tarfile``'s ``data`` filter) rejects it too, with the same message. Extraction
goes to a temporary folder that is renamed into place only when complete, so an interrupted
run leaves nothing behind. Zip and tar are read by the standard library; RAR is listed and
checked by ``rarfile`` and unpacked in one pass by ``bsdtar`` (libarchive) or ``unar``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bench.console import progress_bar
from bench.data.layout import TEMP_PREFIX, normal_permissions
from bench.data.scan import IMAGE_SUFFIXES, files_under
from bench.errors import DataError

ARCHIVE_SUFFIXES = (".zip", ".rar", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz",
                    ".txz")
UNSUPPORTED_SUFFIXES = (".7z",)
MARKER = ".bench-extracted.json"
MAX_NESTING = 3  # archives inside archives inside archives: deeper is not a publisher's layout
RAR_TOOLS = ("bsdtar", "unar")  # tried in this order; bsdtar lacks RAR 4 solid archives
RAR_TOOL_HINT = ("install libarchive-tools (Debian/Ubuntu: `apt-get install libarchive-tools`; "
                 "macOS ships bsdtar) or unar")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(path: Path) -> str:
    """The name without its archive suffix: ``Train.rar`` -> ``Train``, ``a.tar.gz`` -> ``a``."""
    lower = path.name.lower()
    suffix = max((s for s in ARCHIVE_SUFFIXES if lower.endswith(s)), key=len, default="")
    return path.name[: len(path.name) - len(suffix)] or path.name


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


@dataclass
class _Opened:
    """An archive listed and checked: its member count, what is unsafe, how to unpack it."""

    members: int
    problems: list[str]
    extract_all: Callable[[Path, Callable[[], None]], None]  # (staging, advance one member)


def _open_zip(archive: Path, stack: contextlib.ExitStack) -> _Opened:
    opened = stack.enter_context(zipfile.ZipFile(archive))
    problems = []
    for info in opened.infolist():
        reason = _unsafe_name(info.filename)
        # zip keeps the Unix mode in the high 16 bits; S_IFLNK marks a symbolic link.
        if reason is None and (info.external_attr >> 16) & 0o170000 == 0o120000:
            reason = "a symbolic link"
        if reason:
            problems.append(f"{info.filename!r} ({reason})")

    def extract_all(staging: Path, advance: Callable[[], None]) -> None:
        for info in opened.infolist():
            opened.extract(info, staging)
            advance()

    return _Opened(len(opened.infolist()), problems, extract_all)


def _open_tar(archive: Path, stack: contextlib.ExitStack) -> _Opened:
    opened = stack.enter_context(tarfile.open(archive))
    members, problems = opened.getmembers(), []
    for member in members:
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

    def extract_all(staging: Path, advance: Callable[[], None]) -> None:
        for member in members:
            # The data filter resolves links against what is already extracted: a chain of
            # links that leads outside (which no name check can see) stops here.
            opened.extract(member, staging, filter="data")
            advance()

    return _Opened(len(members), problems, extract_all)


def _open_rar(archive: Path, stack: contextlib.ExitStack) -> _Opened:
    import rarfile

    opened = stack.enter_context(rarfile.RarFile(archive))
    if opened.needs_password():
        raise DataError(f"{archive} is password-protected: extract it yourself with the "
                        f"password and pass the folder with --from.")
    if not opened.infolist():  # rarfile stops quietly at a header it cannot read
        raise rarfile.BadRarFile("it lists no member")
    problems = []
    for info in opened.infolist():
        reason = _unsafe_name(info.filename)
        if reason is None and (info.is_symlink() or info.file_redir):
            reason = "a link"  # RAR 5 links and file copies: a cell image is never one
        if reason:
            problems.append(f"{info.filename!r} ({reason})")

    def extract_all(staging: Path, advance: Callable[[], None]) -> None:
        _run_rar_tool(archive, staging, advance)

    return _Opened(len(opened.infolist()), problems, extract_all)


def _rar_command(tool: str, archive: Path, staging: Path) -> list[str]:
    if tool == "bsdtar":  # -v names each member on stderr: one progress step per line
        return [tool, "-x", "-v", "--no-same-owner", "-f", str(archive), "-C", str(staging)]
    return [tool, "-q", "-f", "-D", "-o", str(staging), str(archive)]


def _run_rar_tool(archive: Path, staging: Path, advance: Callable[[], None]) -> None:
    """Unpack a checked RAR in one pass: one tool run, not one per member (solid archives)."""
    tools = [tool for tool in RAR_TOOLS if shutil.which(tool)]
    if not tools:
        raise DataError(f"{archive.name} is a RAR archive, and unpacking RAR needs a tool that "
                        f"is not installed: {RAR_TOOL_HINT}. Or extract it yourself and pass "
                        f"the folder with --from.")
    failures = []
    for tool in tools:
        _empty(staging)  # of what a tool that failed before left behind
        with subprocess.Popen(_rar_command(tool, archive, staging), stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True, errors="replace") as run:
            lines = []
            for line in run.stderr or ():
                if line.startswith("x "):
                    advance()
                else:
                    lines.append(line.strip())
        if run.returncode == 0:
            return
        failures.append(f"{tool}: {' '.join(filter(None, lines))[-300:] or run.returncode}")
    raise DataError(f"could not unpack {archive.name} ({'; '.join(failures)}): it is damaged "
                    f"(download it again) or uses a RAR feature the tool lacks (RAR 4 solid "
                    f"archives: install unar). Or extract it yourself and pass the folder "
                    f"with --from.")


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _opener(archive: Path) -> Callable[[Path, contextlib.ExitStack], _Opened]:
    name = archive.name.lower()
    return _open_zip if name.endswith(".zip") else _open_rar if name.endswith(".rar") \
        else _open_tar


@contextlib.contextmanager
def _archive_errors(archive: Path, staging: Path | None = None) -> Iterator[None]:
    """Turn what a damaged, hostile or too large archive raises into one message."""
    import rarfile

    try:
        yield
    except tarfile.FilterError as exc:  # before TarError: it is one
        raise DataError(
            f"refusing to extract {archive}: {exc} (a member or a chain of links leads outside "
            f"the target folder). This is not a file the publisher ships.") from exc
    except rarfile.NeedFirstVolume as exc:
        raise DataError(f"{archive.name} is not the first part of a multi-part RAR: pass the "
                        f"first (.part1.rar), with the others beside it.") from exc
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise DataError(f"could not extract {archive}: {exc}") from exc
        where = staging.parent if staging else "the data home"
        raise DataError(
            f"no space left on the device while extracting {archive.name} into {where}. Free "
            f"some space (or point BENCH_HOME at a larger disk) and run the command again."
        ) from exc
    except (zipfile.BadZipFile, tarfile.TarError, rarfile.Error, EOFError, zlib.error) as exc:
        raise DataError(
            f"{archive} is not a readable archive ({exc or type(exc).__name__}). Download it "
            f"again, or extract it yourself and pass the folder with --from.") from exc


def extract_archive(archive: Path, target: Path, *, progress: bool = True) -> Path:
    """Unpack ``archive`` into ``target`` (reused when it already holds this very archive)."""
    signature = archive_signature(archive)
    marker = target / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == signature:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        with _archive_errors(archive):
            opened = _opener(archive)(archive, stack)
        if opened.problems:
            shown = "; ".join(opened.problems[:5]) + (" ..." if len(opened.problems) > 5 else "")
            raise DataError(
                f"refusing to extract {archive}: {len(opened.problems)} member(s) would land "
                f"outside the target folder: {shown}. This is not a file the publisher ships."
            )
        # Extract beside the target and rename: a killed extraction never looks complete.
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}extract-", dir=target.parent))
        normal_permissions(staging, 0o777)
        try:
            with progress_bar(progress) as bar, _archive_errors(archive, staging):
                task = bar.add_task(f"Extracting {archive.name}", total=opened.members)
                opened.extract_all(staging, lambda: bar.advance(task))
            (staging / MARKER).write_text(json.dumps(signature))
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def extract_nested(target: Path, *, progress: bool = True) -> Path:
    """Unpack the archives of an extracted folder that holds archives and no image.

    A data repository's "download all" is often a zip holding the data set's own zip: the inner
    archive is unpacked beside itself (into a folder named after it) and then deleted, since it
    is our own copy, not the user's download.
    """
    for _ in range(MAX_NESTING):
        files = files_under(target)
        inner = [file for file in files if is_archive(file)]
        if not inner or any(file.suffix.lower() in IMAGE_SUFFIXES for file in files):
            break
        for archive in inner:
            into = archive.with_name(archive_stem(archive))
            if into.exists() and not (into / MARKER).is_file():
                into = archive.with_name(f"{archive.name}.extracted")
            extract_archive(archive, into, progress=progress)
            archive.unlink()
    return target
