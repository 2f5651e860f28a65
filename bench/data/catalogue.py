"""The data set catalogue: every registered data set, prepared or not, and its counts.

What `bench datasets list` and `show` print, as plain records a script can use too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bench.home import subdir
from bench.host import get_registries
from bench.labels import CLASS_NAMES, CLASSES

if TYPE_CHECKING:
    from bench.data.prepared import PreparedDataset

SPLIT_NAMES = ("train", "val", "test")
# Said of every data set whose plugin sets layout_confirmed=False: whatever the user received
# can be prepared under the data set's name, or as their own data set.
UNCONFIRMED_LAYOUT = (
    "layout unconfirmed: no public source shows how this download is laid out. Prepare what "
    "you received with --from: the folder holding its class folders, or a `path,label` CSV of "
    "its images (paths relative to the CSV, labels such as lymphocyte or eos); or "
    "prepare it as your own data set, `bench datasets prepare folder:PATH`, with a "
    "bench-dataset.toml mapping its folder names onto the five classes")


def datasets_in_group(name: str) -> list:
    """The data sets whose ``group`` is ``name`` (empty when ``name`` is a data set itself)."""
    registry = get_registries().datasets
    if name in registry:
        return []
    return [spec for spec in registry if spec.group and spec.group.lower() == name.lower()]


def prepared_info(name: str) -> dict | None:
    path = subdir("datasets", name, create=False) / "prepared.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _per_class(counts: dict[str, Any]) -> str:
    return ", ".join(f"{label} {counts[label]}" for label in CLASSES if label in counts)


def _size(size: list[int] | tuple[int, int] | None) -> str | None:
    return "x".join(map(str, size)) if size else None


def _published_whole(spec) -> dict[str, int]:
    parts = (spec.published_counts or {}).values()
    return {label: sum(part.get(label, 0) for part in parts) for label in CLASSES} if parts \
        else {}


def catalogue() -> list[dict]:
    """One row per registered data set, prepared or not (counts from the paper until prepared)."""
    registry = get_registries().datasets
    rows = []
    for spec in registry:
        info = prepared_info(spec.name)
        if info:
            per_class = {label: sum(info["counts"][label].values()) for label in CLASSES}
            per_split = {split: sum(info["counts"][label][split] for label in CLASSES)
                         for split in SPLIT_NAMES}
            size = _size(info["image_size"]["most_common"])
        else:
            per_class, per_split = dict(spec.paper_counts or _published_whole(spec)), None
            size = _size(spec.image_size) and f"{_size(spec.image_size)} (published)"
        rows.append({
            "name": spec.name + (":PATH" if spec.resolve_argument else ""),
            "display_name": spec.label,
            "aliases": list(spec.aliases),
            "synthetic": spec.synthetic,
            "kind": spec.kind,  # benchmark sets make `all`; generated ones join `all+generated`
            "prepared": info is not None,
            "counts": info["counts"] if info else None,
            "per_class": (_per_class(per_class) + (
                "" if info else " (paper)" if spec.paper_counts else " (published)"))
            if per_class else None,
            "per_split": " / ".join(f"{s} {per_split[s]}" for s in SPLIT_NAMES)
            if per_split else None,
            "fingerprint": info["fingerprint"] if info else None,
            "image_size": size,
            "download": spec.homepage or spec.download_hint or None,
            "layout": "confirmed" if spec.layout_confirmed else "unconfirmed",
            "how_to_prepare": (spec.download_hint if spec.layout_confirmed
                               else f"{spec.download_hint}; {UNCONFIRMED_LAYOUT}"),
            "citation": spec.citation,
            "licence": spec.licence,
            "description": spec.description,
            "plugin": registry.owner(spec.name),
        })
    return rows


def count_rows(counts: dict[str, dict[str, int]], paper: dict[str, int] | None) -> list[dict]:
    """Label x split rows, a total row, and the paper's counts where it gives them."""
    rows = []
    for label in CLASSES:
        total = sum(counts[label].values())
        row = {"label": label, "class": CLASS_NAMES[label], **counts[label], "total": total}
        if paper:
            row["paper"] = paper.get(label, 0)
            row["difference"] = total - paper.get(label, 0)
        rows.append(row)
    totals = {split: sum(counts[label][split] for label in CLASSES) for split in SPLIT_NAMES}
    total_row = {"label": "all", "class": "", **totals, "total": sum(totals.values())}
    if paper:
        total_row["paper"] = sum(paper.values())
        total_row["difference"] = total_row["total"] - total_row["paper"]
    return [*rows, total_row]


def current_audit(dataset: PreparedDataset) -> dict[str, Any]:
    """The prepare-time audit, with its cross-data-set duplicates looked up again now.

    Data sets prepared after this one may share images with it (leakage into their tests).
    """
    from bench.data.audit import cross_dataset_overlaps, findings_for

    audit = dataset.audit
    if audit:
        audit["cross_dataset"] = cross_dataset_overlaps(dataset.name, dataset.manifest)
        audit["findings"] = findings_for(audit)
    return audit
