"""`prepare`: from an official download to manifest, audit and decoded cache, in one pass.

Each kept file is read once: hashed and decoded (on every core) into a scan-order staging
memory map; the split is then derived from the hashes and the staging rows are reordered into
the cache. Everything is written under a temporary name and renamed into place, with
``prepared.json`` last, so an interrupted run leaves the previous state or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from bench.data.archive import is_archive
from bench.data.audit import FileRecord, run_audit
from bench.data.cache import (
    cache_info,
    cache_problem,
    commit_from_staging,
    create_images_file,
    disk_space_for,
)
from bench.data.catalogue import UNCONFIRMED_LAYOUT
from bench.data.classes import ClassMapper
from bench.data.counts import count_warning
from bench.data.decode import RESIZE_RULE, ImageFacts
from bench.data.downloads import materialise_sources, recorded_sources
from bench.data.layout import DatasetFolder, release, write_atomic
from bench.data.manifest import ManifestRow, count_table, fingerprint, render_manifest
from bench.data.parallel import decode_into
from bench.data.prepared import (
    PreparedDataset,
    load_prepared,
    prepare_command,
    read_prepared,
    resolve_spec,
)
from bench.data.scan import scan_csv
from bench.data.splits import SplitItem, SplitRule, assign_splits
from bench.errors import BenchError, DataError, PluginError
from bench.host import get_registries
from bench.labels import CLASSES
from bench.protocols import Protocol, default_protocol
from bench.specs import DatasetSpec, SourceImage


def _resolve_sources(spec: DatasetSpec, requested: str,
                     source: Path | Sequence[Path] | None,
                     existing: PreparedDataset | None) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        sources = [Path(source)]
    else:
        sources = [Path(each) for each in source or ()]
    if not sources and existing is not None:
        sources = recorded_sources(existing.info)
    if not sources and spec.default_source is not None:
        sources = [Path(spec.default_source)]
    if not sources:
        hint = f"Download it from: {spec.download_hint}. " if spec.download_hint else ""
        raise DataError(
            f"data set {spec.label} is prepared from its official download, which bench never "
            f"fetches itself. {hint}Then run: {prepare_command(spec, requested)}"
        )
    resolved = list(dict.fromkeys(Path(each).expanduser().resolve() for each in sources))
    for each in resolved:
        if not each.exists():
            raise DataError(f"{each} does not exist (expected the {spec.label} download)")
    return resolved


def _data_root(images: Sequence[SourceImage], plugin_hint: str) -> Path:
    roots = set()
    for image in images:
        parts = PurePosixPath(image.relpath).parts
        root = image.path.parents[len(parts) - 1]
        if root.joinpath(*parts) != image.path:
            raise PluginError(f"{plugin_hint}: {image.path} does not end with {image.relpath}")
        roots.add(root)
    if len(roots) != 1:
        raise PluginError(f"{plugin_hint}: relpaths relative to several folders: {sorted(roots)}")
    return roots.pop()


def _scan_download(spec: DatasetSpec, where: Path) -> list[SourceImage]:
    """The plugin's scan; for a layout no public source confirms, a CSV or the how-to as well."""
    if spec.layout_confirmed:
        return list(spec.scan(where))
    if where.is_file() and where.suffix.lower() == ".csv":
        return scan_csv(where)
    try:
        return list(spec.scan(where))
    except DataError as exc:
        raise DataError(f"{exc} {spec.label}: {UNCONFIRMED_LAYOUT}.") from exc


def _scan(spec: DatasetSpec, where: Path) -> tuple[list[SourceImage], Path]:
    images = sorted(_scan_download(spec, where), key=lambda image: image.relpath)
    if not images:
        expected = spec.download_hint or spec.description
        raise DataError(f"found no images for {spec.label} in {where}. Expected: {expected}")
    _check_utf8_names(images, where)
    relpaths = Counter(image.relpath for image in images)
    repeated = [path for path, count in relpaths.items() if count > 1]
    if repeated:
        raise PluginError(f"data set {spec.name}: the scan returned {repeated[0]!r} twice")
    return images, _data_root(images, f"data set {spec.name}")


def _check_utf8_names(images: Sequence[SourceImage], where: Path) -> None:
    """Refuse file names that are not UTF-8: the manifest and split fingerprint need text."""
    bad = []
    for image in images:
        try:
            f"{image.relpath}{image.source_class}".encode()
        except UnicodeEncodeError:
            bad.append(os.fsencode(image.relpath))
    if bad:
        shown = ", ".join(repr(name)[2:-1] for name in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise DataError(
            f"{len(bad)} file name(s) in {where} are not valid UTF-8 ({shown}{more}); the split "
            f"manifest must name every file the same way on every machine. Rename them, e.g. "
            f"`convmv -r -f latin1 -t utf-8 --notest {where}`, then prepare again."
        )


def _signature(images: Sequence[SourceImage], spec: DatasetSpec, rule: SplitRule) -> str:
    """Identity of the download as scanned (paths, sizes, times) plus what shapes the split."""
    digest = hashlib.sha256()
    digest.update(json.dumps([rule.as_dict(), dict(spec.class_map)], sort_keys=True).encode())
    for image in images:
        stat = image.path.stat()
        line = f"{image.relpath}\t{image.source_class}\t{image.official_split}\t"
        digest.update(f"{line}{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _size_stats(facts: Sequence[ImageFacts]) -> dict[str, Any]:
    widths = [f.width for f in facts]
    heights = [f.height for f in facts]
    common, count = Counter(zip(widths, heights, strict=True)).most_common(1)[0]
    return {
        "min": [min(widths), min(heights)],
        "median": [int(statistics.median(widths)), int(statistics.median(heights))],
        "max": [max(widths), max(heights)],
        "most_common": list(common),
        "most_common_share": round(count / len(facts), 4),
    }


def _paper_differences(spec: DatasetSpec, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    if not spec.paper_counts:
        return {}
    return {
        label: {"paper": spec.paper_counts.get(label, 0),
                "prepared": sum(counts[label].values()),
                "difference": sum(counts[label].values()) - spec.paper_counts.get(label, 0)}
        for label in CLASSES
    }


def _drop_stale_caches(folder: DatasetFolder, new_fingerprint: str) -> None:
    if not folder.cache_root.is_dir():
        return
    for cache in folder.cache_root.iterdir():
        size = cache.name.removesuffix("px")
        info = cache_info(folder, int(size)) if size.isdigit() else None
        if not info or info.get("fingerprint") != new_fingerprint:
            shutil.rmtree(cache, ignore_errors=True)


def _repair_caches(dataset: PreparedDataset) -> list[str]:
    """Check every cache of a reused data set in full (sha256); drop the damaged ones.

    Returns one line per dropped cache; ``ensure_cache`` then rebuilds the size asked for
    (another size is rebuilt when a run first needs it).
    """
    folder, repaired = dataset.folder, []
    sizes = [int(f.name[:-2]) for f in folder.cache_root.glob("*px") if f.name[:-2].isdigit()] \
        if folder.cache_root.is_dir() else []
    for size in sorted(sizes):
        problem = cache_problem(folder, size, dataset.fingerprint, len(dataset.manifest),
                                deep=True)
        if problem:
            shutil.rmtree(folder.cache_dir(size), ignore_errors=True)
            repaired.append(f"{folder.cache_dir(size)}: {problem}")
    return repaired


def _decode_and_split(spec: DatasetSpec, kept: Sequence[SourceImage], mapper: ClassMapper,
                      rule: SplitRule, staging: Path, size: int, progress: bool,
                      workers: int | None) -> tuple[list[FileRecord], list[ManifestRow]]:
    """Hash and decode every kept file into ``staging``; split the usable ones."""
    with disk_space_for(staging.parent.parent, f"the {size} px cache of {spec.label}",
                        len(kept) * size * size * 3):
        create_images_file(staging, len(kept), size)
        facts = decode_into([image.path for image in kept], staging, size, progress=progress,
                            description=f"Preparing {spec.label}", workers=workers)
    records = [FileRecord(image.relpath, fact) for image, fact in zip(kept, facts, strict=True)]
    usable = [(image, record.facts) for image, record in zip(kept, records, strict=True)
              if record.facts.status == "ok"]
    if not usable:
        raise DataError(f"none of the {len(kept)} {spec.label} images could be decoded")
    items = [SplitItem(image.relpath, fact.sha256, str(mapper.label(image.source_class)),
                       image.official_split) for image, fact in usable]
    assignment = assign_splits(items, rule)
    rows = [ManifestRow(item.relpath, item.sha256, image.source_class, item.label,
                        assignment[item.relpath])
            for item, (image, _) in zip(items, usable, strict=True)]
    return records, rows


def ensure_prepared(name: str) -> PreparedDataset:
    """The prepared data set; one that lies on this machine (a generated set) is prepared now."""
    spec = resolve_spec(name)
    if read_prepared(spec, DatasetFolder.of(spec.name)) is None \
            and spec.default_source is not None and Path(spec.default_source).exists():
        return prepare_dataset(name, progress=False)
    return load_prepared(name)


def prepare_dataset(name: str, source: Path | Sequence[Path] | None = None, *,
                    progress: bool = True, cache_size: int | None = None,
                    workers: int | None = None,
                    protocol: Protocol | None = None) -> PreparedDataset:
    """Prepare a data set from its official download (folder, file, .zip, .rar or .tar[.gz]).

    ``source`` may list several downloads (``[Train.rar, TestA.rar]``): they are scanned side
    by side, each under the name of its top folder. ``source=None`` reuses the last sources,
    or the spec's ``default_source``. Running it again on an unchanged download does nothing
    new. ``workers`` defaults to every core. The split rule and cache size come from
    ``protocol`` (default: the paper's).
    """
    spec = resolve_spec(name)
    protocol = protocol or default_protocol()
    rule = SplitRule.from_protocol(protocol.splits, spec.split_policy)
    size = int(cache_size or protocol.input.cache_size)
    folder = DatasetFolder.of(spec.name, create=True)
    folder.remove_leftovers()
    try:
        existing = read_prepared(spec, folder)
    except BenchError:
        existing = None  # a torn previous run: prepare from scratch
    sources = _resolve_sources(spec, name, source, existing)
    scanned = materialise_sources(sources, folder, progress)
    images, root = _scan(spec, scanned)
    mapper = ClassMapper(spec.class_map)
    mapper.check({image.source_class for image in images}, how_to_fix=(
        f"If --from points at the right download, the {spec.name} plugin needs to learn this "
        f"class (or, for folder data sets, add it to the mapping file; '-' drops it)."))
    signature = _signature(images, spec, rule)
    if existing is not None and (existing.info.get("source_signature"), existing.info["root"]) \
            == (signature, str(root)):
        existing.repaired = _repair_caches(existing)
        existing.ensure_cache(size, progress=progress)
        existing.reused = not existing.repaired
        return existing
    kept = [image for image in images if mapper.label(image.source_class) is not None]
    dropped = Counter(image.source_class for image in images
                      if mapper.label(image.source_class) is None)
    if not kept:
        raise DataError(
            f"none of the classes in {root} ({', '.join(sorted(dropped))}) maps onto "
            f"{', '.join(CLASSES)}: nothing to prepare"
        )
    work = folder.temporary("prepare")
    try:
        staging = work / "staging.npy"
        records, rows = _decode_and_split(spec, kept, mapper, rule, staging, size, progress,
                                          workers)
        manifest_bytes = render_manifest(rows)
        new_fingerprint = fingerprint(manifest_bytes)
        folder.prepared.unlink(missing_ok=True)  # from here on the folder is "not prepared"
        _drop_stale_caches(folder, new_fingerprint)
        staging_rows = {image.relpath: row for row, image in enumerate(kept)}
        commit_from_staging(folder, staging, staging_rows, rows, size, new_fingerprint, work)
        audit = run_audit(spec.name, records, rows, spec.image_size)
        write_atomic(folder.audit, json.dumps(audit, indent=2).encode())
        write_atomic(folder.manifest, manifest_bytes)
        statuses = Counter(record.facts.status for record in records)
        counts = count_table(rows)
        info = {
            "format": 1,
            "name": spec.name,
            "display_name": spec.label,
            "requested_as": name,
            "synthetic": spec.synthetic,
            "source": str(sources[0] if len(sources) == 1 else scanned),
            "sources": [str(each) for each in sources],
            "root": str(root),
            "from_archive": any(is_archive(each) for each in sources),
            "source_signature": signature,
            "protocol": protocol.name,
            "split_rule": rule.as_dict(),
            "fingerprint": new_fingerprint,
            "cache_size": size,
            "resize": RESIZE_RULE,
            "total": len(rows),
            "counts": counts,
            "image_size": _size_stats([r.facts for r in records if r.facts.status == "ok"]),
            "scanned": len(images),
            "dropped": {
                "classes": dict(sorted(dropped.items())),
                "corrupt": statuses["corrupt"] + statuses["missing"],
                "not_image": statuses["not_image"],
                "too_large": statuses["too_large"],
            },
            "paper_counts": dict(spec.paper_counts or {}),
            "paper_differences": _paper_differences(spec, counts),
            "count_warning": count_warning(
                spec, {label: sum(counts[label].values()) for label in CLASSES},
                get_registries().datasets),
            "class_map": {c: mapper.label(c) for c in sorted({i.source_class for i in images})},
            "findings": len(audit["findings"]),
            "prepared_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_atomic(folder.prepared, json.dumps(info, indent=2).encode())
    finally:
        release(work)
    prepared = read_prepared(spec, folder)
    assert prepared is not None
    return prepared
