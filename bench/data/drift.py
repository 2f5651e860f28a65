"""`bench datasets verify`: recompute a prepared set's fingerprints and hashes; report drift."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.console import progress_bar
from bench.data.audit import EXCLUDED
from bench.data.cache import cache_problem
from bench.data.downloads import materialise_sources, recorded_sources
from bench.data.layout import DatasetFolder
from bench.data.manifest import fingerprint, parse_manifest
from bench.data.parallel import available_cores
from bench.data.prepared import prepare_command, resolve_spec
from bench.data.splits import SplitItem, SplitRule, assign_splits
from bench.errors import BenchError, DataError
from bench.generation.datasets import ANNOTATIONS_FILE
from bench.protocols import default_protocol

EXAMPLES = 5


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # "ok" or "drift"
    detail: str


@dataclass
class VerifyReport:
    name: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status == "ok" for check in self.checks)

    def add(self, check: str, problems: list[str], ok_detail: str, what: str = "") -> None:
        if problems:
            shown = ", ".join(problems[:EXAMPLES]) + (" ..." if len(problems) > EXAMPLES else "")
            self.checks.append(Check(check, "drift", f"{len(problems)} {what}: {shown}"))
        else:
            self.checks.append(Check(check, "ok", ok_detail))


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


def _check_annotations(report: VerifyReport, root: Path, images: list[str]) -> None:
    """A generated data set's annotations.jsonl must describe each of its images once."""
    path = root / ANNOTATIONS_FILE
    if not path.is_file():
        return
    described: Counter[str] = Counter()
    garbled = 0
    for line in path.read_bytes().splitlines():
        try:
            described[json.loads(line)["path"]] += 1
        except (ValueError, KeyError, TypeError):
            garbled += 1
    problems = [f"{p}: no annotation" for p in images if p not in described]
    problems += [f"{p}: {n} annotations" for p, n in described.items() if n > 1]
    problems += [f"{p}: annotation of an image that is not in the manifest"
                 for p in described if p not in set(images)]
    problems += [f"{garbled} unreadable line(s)"] if garbled else []
    report.add("annotations", problems, f"{len(images)} images, one annotation each",
               "problem(s)")


def verify_dataset(name: str, *, progress: bool = True) -> VerifyReport:
    """Check manifest, split rule, every source file's hash, new files and caches."""
    spec = resolve_spec(name)
    folder = DatasetFolder.of(spec.name)
    if not folder.prepared.is_file() or not folder.manifest.is_file():
        command = prepare_command(spec, name)
        raise DataError(f"data set {spec.label} is not prepared. Run: {command}")
    info = json.loads(folder.prepared.read_text())
    data = folder.manifest.read_bytes()
    rows = parse_manifest(data, str(folder.manifest))
    report = VerifyReport(spec.name)
    actual = fingerprint(data)
    report.add("manifest fingerprint", [] if actual == info["fingerprint"] else
               [f"manifest.csv hashes to {actual[:16]}, prepared.json says "
                f"{info['fingerprint'][:16]}"], info["fingerprint"], "mismatch")

    rule = SplitRule.from_dict(info["split_rule"])
    current = SplitRule.from_protocol(default_protocol().splits, spec.split_policy)
    report.add("split rule", [] if current == rule else
               [f"prepared under {rule.as_dict()}, the protocol now says {current.as_dict()}"],
               str(rule.as_dict()), "difference")
    items = [SplitItem(r.path, r.sha256, r.label, "test" if r.split == "test" else "train")
             for r in rows]
    again = assign_splits(items, rule)
    report.add("split assignment", [r.path for r in rows if again[r.path] != r.split],
               "the manifest's splits follow from its hashes", "row(s) in another split")

    root = Path(info["root"])
    with progress_bar(progress) as bar, ThreadPoolExecutor(2 * available_cores()) as pool:
        task = bar.add_task(f"Hashing {spec.label}", total=len(rows))
        hashes = []
        for digest in pool.map(_sha256, (root / r.path for r in rows)):
            hashes.append(digest)
            bar.advance(task)
    hashed = list(zip(rows, hashes, strict=True))
    report.add("files present", [r.path for r, h in hashed if h is None],
               f"{len(rows)} files under {root}", "missing")
    report.add("file hashes", [r.path for r, h in hashed if h and h != r.sha256],
               "every file matches its sha256", "changed")

    audit = json.loads(folder.audit.read_text()) if folder.audit.is_file() else {}
    excluded = {e["path"] for kind in EXCLUDED for e in audit.get(kind, [])}
    known = {r.path for r in rows} | excluded
    dropped = {c for c, label in info.get("class_map", {}).items() if label is None}
    try:
        scanned = spec.scan(materialise_sources(recorded_sources(info), folder, progress))
        new = [i.relpath for i in scanned
               if i.relpath not in known and i.source_class not in dropped]
        report.add("new files", sorted(new), "no files the manifest does not know", "new")
    except BenchError as exc:
        report.add("new files", [f"cannot rescan {info['source']}: {exc}"], "", "problem")

    _check_annotations(report, Path(info["root"]), [r.path for r in rows])

    for cache in sorted(folder.cache_root.glob("*px")) if folder.cache_root.is_dir() else []:
        if not cache.name[:-2].isdigit():
            continue
        size = int(cache.name.removesuffix("px"))
        problem = cache_problem(folder, size, info["fingerprint"], len(rows), deep=True)
        report.add(f"cache {size} px", [problem] if problem else [],
                   "matches the manifest and its recorded sha256",
                   f"problem (`bench datasets prepare {spec.name}` rebuilds it)")
    return report
