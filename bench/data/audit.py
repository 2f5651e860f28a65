"""The audit: what careful researchers check by hand, done for every prepared data set.

Exact duplicates (same sha256) within and across splits, and across prepared data sets; a
duplicate spanning train and test is leakage and an error-level finding. Corrupt and non-image
files, and images too large to decode safely (decompression bombs), are excluded from the
manifest and listed; grayscale, RGBA, palette and 16-bit images are converted to 8-bit RGB and
counted; images far from the expected size are listed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.data.decode import ImageFacts
from bench.data.layout import DatasetFolder
from bench.data.manifest import ManifestRow, read_manifest
from bench.home import data_home

SIZE_TOLERANCE = 0.2  # "far from the expected size": more than 20% off in width or height
EXAMPLES = 20  # paths listed per kind of conversion (all corrupt files are always listed)
LOUD_PAIRS = {("test", "train"), ("test", "val")}  # (a, b) with a < b: anything touching test
# The audit's lists of files left out of the manifest, and what each finding calls them.
EXCLUDED = {"corrupt": "corrupt file", "not_images": "non-image file",
            "too_large": "oversized image"}


@dataclass(frozen=True)
class FileRecord:
    """One decoded source file: where it is and what decoding found."""

    path: str
    facts: ImageFacts


def _finding(severity: str, message: str) -> dict[str, str]:
    return {"severity": severity, "message": message}


def _size_check(records: Sequence[FileRecord], expected: tuple[int, int] | None) -> dict[str, Any]:
    sizes = Counter((r.facts.width, r.facts.height) for r in records if r.facts.status == "ok")
    if not sizes:
        return {"expected": None, "outliers": []}
    reference = expected or sizes.most_common(1)[0][0]
    outliers = [
        {"path": r.path, "size": [r.facts.width, r.facts.height]}
        for r in records
        if r.facts.status == "ok"
        and any(abs(got - want) > SIZE_TOLERANCE * want
                for got, want in zip((r.facts.width, r.facts.height), reference, strict=True))
    ]
    return {"expected": list(reference), "from": "spec" if expected else "most common size",
            "tolerance": SIZE_TOLERANCE, "outliers": outliers}


def _duplicates(rows: Sequence[ManifestRow]) -> tuple[list[dict], list[dict], list[dict]]:
    groups: dict[str, list[ManifestRow]] = defaultdict(list)
    for row in rows:
        groups[row.sha256].append(row)
    duplicates, leakage, conflicts = [], [], []
    for sha, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        entry = {"sha256": sha, "paths": [m.path for m in members],
                 "in_splits": [m.split for m in members],  # row for row with paths
                 "splits": sorted({m.split for m in members}),
                 "labels": sorted({m.label for m in members})}
        duplicates.append(entry)
        if len(entry["splits"]) > 1:
            leakage.append(entry)
        if len(entry["labels"]) > 1:
            conflicts.append(entry)
    return duplicates, leakage, conflicts


def cross_dataset_overlaps(name: str, rows: Sequence[ManifestRow]) -> dict[str, dict[str, Any]]:
    """Images this data set shares (by content) with every other prepared data set."""
    ours = {row.sha256: row.path for row in rows}
    found: dict[str, dict[str, Any]] = {}
    datasets = data_home(create=False) / "datasets"
    if not datasets.is_dir():
        return found
    for other in sorted(p for p in datasets.iterdir() if p.is_dir() and p.name != name):
        folder = DatasetFolder(other)
        if not (folder.prepared.is_file() and folder.manifest.is_file()):
            continue
        theirs, _ = read_manifest(folder.manifest)
        shared = [(ours[r.sha256], r.path) for r in theirs if r.sha256 in ours]
        if shared:
            # "test/train": how many of our test images have their content in the other's
            # train split (what a model trained there has seen), each image counted once.
            splits = _splits_by_sha(theirs)
            by_split = Counter(f"{row.split}/{split}" for row in rows
                               for split in splits.get(row.sha256, ()))
            found[other.name] = {"shared": len(shared), "examples": shared[:EXAMPLES],
                                 "by_split": dict(sorted(by_split.items()))}
    return found


def _splits_by_sha(rows: Sequence[ManifestRow]) -> dict[str, set[str]]:
    splits: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        splits[row.sha256].add(row.split)
    return splits


def findings_for(audit: Mapping[str, Any]) -> list[dict[str, str]]:
    """Human-readable findings, most severe first, from an audit dictionary."""
    findings = []
    for entry in audit["leakage"]:
        pairs = {(a, b) for a in entry["splits"] for b in entry["splits"] if a < b}
        severity = "error" if pairs & LOUD_PAIRS else "warning"
        where = ", ".join(f"{path} ({split})"
                          for path, split in zip(entry["paths"], entry["in_splits"], strict=True))
        findings.append(_finding(severity, (
            f"LEAKAGE: identical image in {' and '.join(entry['splits'])}: {where}")))
    for entry in audit["label_conflicts"]:
        findings.append(_finding("warning", (
            f"identical image with different labels ({', '.join(entry['labels'])}): "
            f"{', '.join(entry['paths'])}")))
    for other, overlap in audit.get("cross_dataset", {}).items():
        findings.append(_finding("warning", (
            f"{overlap['shared']} image(s) also in data set {other!r} "
            f"(e.g. {overlap['examples'][0][0]} = {other}:{overlap['examples'][0][1]})")))
    for kind, what in EXCLUDED.items():
        for entry in audit.get(kind, []):
            findings.append(_finding("warning", f"excluded {what} {entry['path']}: "
                                                f"{entry['error']}"))
    within = [d for d in audit["duplicates"] if len(d["splits"]) == 1]
    if within:
        findings.append(_finding("info", (
            f"{len(within)} group(s) of identical images within one split, e.g. "
            f"{', '.join(within[0]['paths'])}")))
    for kind, count in sorted(audit["converted"]["counts"].items()):
        findings.append(_finding("info", f"{count} {kind} image(s) converted to 8-bit RGB"))
    outliers = audit["size"]["outliers"]
    if outliers:
        expected = "x".join(map(str, audit["size"]["expected"]))
        findings.append(_finding("info", (
            f"{len(outliers)} image(s) far from {expected} px, e.g. {outliers[0]['path']} "
            f"({'x'.join(map(str, outliers[0]['size']))})")))
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: rank[f["severity"]])


def run_audit(name: str, records: Sequence[FileRecord], rows: Sequence[ManifestRow],
              expected_size: tuple[int, int] | None) -> dict[str, Any]:
    """Audit the decoded files (``records``) and the manifest they produced (``rows``)."""
    duplicates, leakage, conflicts = _duplicates(rows)
    converted: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.facts.status == "ok" and record.facts.converted:
            converted[record.facts.converted].append(record.path)
    audit: dict[str, Any] = {
        "files_checked": len(records),
        "corrupt": [{"path": r.path, "error": r.facts.error}
                    for r in records if r.facts.status in ("corrupt", "missing")],
        "not_images": [{"path": r.path, "error": r.facts.error}
                       for r in records if r.facts.status == "not_image"],
        "too_large": [{"path": r.path, "error": r.facts.error}
                      for r in records if r.facts.status == "too_large"],
        "converted": {"counts": {k: len(v) for k, v in sorted(converted.items())},
                      "examples": {k: v[:EXAMPLES] for k, v in sorted(converted.items())}},
        "size": _size_check(records, expected_size),
        "duplicates": duplicates,
        "leakage": leakage,
        "label_conflicts": conflicts,
        "cross_dataset": cross_dataset_overlaps(name, rows),
    }
    audit["findings"] = findings_for(audit)
    return audit
