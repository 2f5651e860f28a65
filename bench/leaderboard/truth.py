"""The test split a submission's predictions must cover: each image key and its true label.

Two sources, tried in this order, each used only when its split fingerprint is the one the
records name:

- a split manifest shipped in the package (``bench/reference/splits/<data set>.csv.gz``, for
  open data sets such as WBC-USID): the very bytes ``bench datasets prepare`` writes, so its
  sha256 is the split fingerprint and checking needs no download;
- the data set as prepared on this machine (its ``manifest.csv`` in the data home).

A shifted target (``NAME~SHIFT:LEVEL``) has its base's test images and labels; its fingerprint
is derived from the base's (``shifted_fingerprint``). When neither source has the split, the
check says so instead of guessing.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from bench.data.manifest import ManifestRow, fingerprint, parse_manifest
from bench.errors import BenchError
from bench.labels import CLASSES

SHIPPED_FOLDER = "splits"  # in bench/reference


@dataclass(frozen=True)
class TestSplit:
    """A target's test images (key -> label index) under one split fingerprint."""

    dataset: str
    fingerprint: str
    labels: dict[str, int]
    where: str  # for messages: which manifest the labels come from

    __test__ = False  # not a pytest class, whatever its name


def _test_split(dataset: str, rows: Sequence[ManifestRow], digest: str, where: str) -> TestSplit:
    labels = {row.path: CLASSES.index(row.label) for row in rows if row.split == "test"}
    return TestSplit(dataset, digest, labels, where)


def shipped_split(dataset: str) -> TestSplit | None:
    """The split manifest this package ships for ``dataset``; None when it ships none."""
    resource = resources.files("bench") / "reference" / SHIPPED_FOLDER / f"{dataset}.csv.gz"
    if not resource.is_file():
        return None
    where = f"bench/reference/{SHIPPED_FOLDER}/{dataset}.csv.gz"
    data = gzip.decompress(resource.read_bytes())
    return _test_split(dataset, parse_manifest(data, where), fingerprint(data), where)


def prepared_split(dataset: str) -> TestSplit | None:
    """The data set as prepared in this machine's data home; None when it is not."""
    from bench.data import load_prepared

    try:
        prepared = load_prepared(dataset)
    except (BenchError, OSError):
        return None
    return _test_split(dataset, prepared.manifest, prepared.fingerprint,
                       f"the {dataset} prepared here")


def shifted_base(target: str) -> tuple[str, object] | None:
    """(base data set, parsed name) of a shifted target; None for a plain one."""
    from bench.shifts.target_names import is_shifted, parse_name

    if not is_shifted(target):
        return None
    try:
        parsed = parse_name(target)
    except BenchError:
        return None
    return parsed.base, parsed


def derived_fingerprint(base_fingerprint: str, parsed: object, claimed: str = "") -> str:
    """A shifted target's split fingerprint, from its base's.

    Under the built-in shift suite that gives ``claimed`` (boards made under v1 still check),
    else under the suite in use.
    """
    from bench.shifts.target_names import built_in_fingerprint

    return built_in_fingerprint(base_fingerprint, parsed, claimed)  # type: ignore[arg-type]


def find_test_split(target: str, target_fingerprint: str) -> TestSplit | str:
    """The test split the records' target and fingerprint name, or why it cannot be had here."""
    shifted = shifted_base(target)
    base = shifted[0] if shifted else target
    candidates = [split for split in (shipped_split(base), prepared_split(base)) if split]
    for split in candidates:
        expected = derived_fingerprint(split.fingerprint, shifted[1], target_fingerprint) \
            if shifted else split.fingerprint
        if expected == target_fingerprint:
            return split
    if candidates:
        return (f"{candidates[0].where} has split {candidates[0].fingerprint}, not the one the "
                f"records name for {target} ({target_fingerprint})")
    return (f"no split manifest ships for {base} and it is not prepared here; prepare it "
            f"(`bench datasets prepare {base} --from PATH`) to check its image keys and labels")
