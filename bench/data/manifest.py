r"""The split manifest: one CSV row per kept image, and its fingerprint.

The bytes are fully determined by the rows (sorted by relative path, ``\n`` line ends, UTF-8),
so the fingerprint, the sha256 of those bytes, is the same on every machine that prepared the
same files under the same split rule.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from bench.errors import DataError
from bench.labels import CLASSES


@dataclass(frozen=True)
class ManifestRow:
    path: str  # POSIX, relative to the data set's folder inside the download
    sha256: str
    source_class: str
    label: str  # canonical letter: L, M, N, E or B
    split: str  # train, val or test


COLUMNS = tuple(f.name for f in fields(ManifestRow))


def render_manifest(rows: Iterable[ManifestRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(row) for row in sorted(rows, key=lambda row: row.path))
    return buffer.getvalue().encode("utf-8")


def parse_manifest(data: bytes, where: str = "manifest") -> list[ManifestRow]:
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader, None)
    if tuple(header or ()) != COLUMNS:
        raise DataError(f"{where}: expected the columns {', '.join(COLUMNS)}, found {header}")
    try:
        return [ManifestRow(*row) for row in reader]
    except TypeError as exc:
        raise DataError(f"{where}: a row does not have {len(COLUMNS)} columns") from exc


def fingerprint(data: bytes) -> str:
    """Compute the split fingerprint: sha256 hex of the manifest's bytes."""
    return hashlib.sha256(data).hexdigest()


def count_table(rows: Iterable[ManifestRow]) -> dict[str, dict[str, int]]:
    """Images per canonical label (L, M, N, E, B order) and split (train, val, test)."""
    table = {label: dict.fromkeys(("train", "val", "test"), 0) for label in CLASSES}
    for row in rows:
        table[row.label][row.split] += 1
    return table


def read_manifest(path: Path) -> tuple[list[ManifestRow], str]:
    data = path.read_bytes()
    return parse_manifest(data, str(path)), fingerprint(data)
