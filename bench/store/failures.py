"""SQLite's failures translated into one message a user can act on: damage, read-only, full disk.

A store is called damaged only when its file fails SQLite's integrity check; bench never
overwrites a store it cannot read.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from bench.errors import BenchError


class StoreError(BenchError):
    """The results store cannot be opened or written; the message names the file and the fix."""


SQLITE_MAGIC = b"SQLite format 3\x00"


def damaged_error(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"the results store {path} is damaged ({detail}). Move it aside, e.g. "
        f"`mv {path} {path}.damaged` (bench never overwrites it): the next `bench run` starts a "
        f"new store and re-tests finished cells from their checkpoints in runs/ without "
        f"training them again; `sqlite3 {path}.damaged .recover` may salvage old rows."
    )


def read_only_error(path: Path) -> StoreError:
    return StoreError(
        f"the results store {path} (or its folder) is read-only, so bench cannot record "
        f"results in it. Make both writable (chmod u+w), or set BENCH_HOME to a writable data "
        f"home; commands that only read (runs list, runs show, leaderboard) work as they are."
    )


LOW_SPACE = 1 << 20  # free bytes below which a failed store read or write is the full disk


def low_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE
    except OSError:
        return False


def no_space_error(path: Path) -> StoreError:
    return StoreError(
        f"no space left on {path.parent}: the results store {path} cannot be written (SQLite "
        f"needs some free room beside it, at times even for reading). The store is not damaged "
        f"and nothing recorded was lost. Free some space and give the same command again."
    )


def _intact(path: Path) -> bool:
    """Whether the store's file passes SQLite's integrity check, read as is (writing nothing)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1",
                                                uri=True)) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


def translate_error(exc: BaseException, path: Path) -> BaseException:
    """The error a user can act on for a failed SQLite call (pandas wraps sqlite3's).

    An error is called damage only when the file fails SQLite's integrity check: a full disk,
    or an I/O error on an intact store, says so and keeps the store.
    """
    cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
    if not isinstance(cause, sqlite3.Error):
        return exc
    text = str(cause)
    name = getattr(cause, "sqlite_errorname", "")
    if "readonly" in text or "read-only" in text:
        return read_only_error(path)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return no_space_error(path)
    if "locked" in text or "busy" in text:
        return StoreError(f"the results store {path} stayed locked by another process for a "
                          f"minute ({text}); give the command again once it is done.")
    if low_space(path) and (name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN"))
                             or "disk I/O error" in text or "unable to open" in text):
        return no_space_error(path)
    if "unable to open" in text:
        return StoreError(f"cannot open the results store {path} ({text}): check that its "
                          f"folder exists and can be read.")
    if path.is_file() and _intact(path):
        return StoreError(f"SQLite could not use the results store {path} ({text}), though the "
                          f"store passes SQLite's integrity check: it is not damaged, keep it. "
                          f"Check the disk (`dmesg`, free space) and give the command again.")
    return damaged_error(path, text)


def check_file(path: Path) -> None:
    """Refuse an empty, foreign or truncated file before SQLite reads (or writes) it."""
    size = path.stat().st_size
    if size == 0:
        raise damaged_error(path, "it is empty, 0 bytes: not a results store")
    with path.open("rb") as stream:
        header = stream.read(100)
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise damaged_error(path, "it is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_valid = header[24:28] == header[92:96]  # SQLite's rule for trusting the page count
    # With a write-ahead log present the main file may lag behind it: only a closed store is
    # held to its page count.
    wal = path.with_name(path.name + "-wal")
    if size_valid and not wal.exists() and size < pages * page_size:
        raise damaged_error(path, f"it is truncated: {size} of {pages * page_size} bytes")


def log_pending(path: Path) -> bool:
    """Whether the store's write-ahead log holds changes not yet in the main file."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0
