"""prepare_dataset end to end on fake downloads: mapping, counts, manifest, cache, idempotence."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import AML_COUNTS, PBC_COUNTS

import bench
from bench.data import load_prepared, prepare_dataset
from bench.data.layout import DatasetFolder


def kept(counts: dict[str, int], mapping: dict[str, str | None]) -> dict[str, int]:
    totals: dict[str, int] = dict.fromkeys(bench.CLASSES, 0)
    for name, count in counts.items():
        if mapping[name]:
            totals[mapping[name]] += count
    return totals


def test_pbc_maps_drops_and_excludes_corrupt_files(pbc_download: Path) -> None:
    dataset = prepare_dataset("pbc", pbc_download, progress=False)
    totals = {label: sum(row.values()) for label, row in dataset.counts().items()}
    expected = kept(PBC_COUNTS, {"basophil": "B", "eosinophil": "E", "lymphocyte": "L",
                                 "monocyte": "M", "neutrophil": "N", "ig": None,
                                 "erythroblast": None, "platelet": None})
    expected["L"] += 1  # the grayscale image is converted and kept
    assert totals == expected
    info = dataset.info
    assert info["dropped"] == {"classes": {"erythroblast": 2, "ig": 3, "platelet": 2},
                               "corrupt": 1, "not_image": 1, "too_large": 0}
    audit = dataset.audit
    assert [entry["path"] for entry in audit["corrupt"]] == ["neutrophil/BROKEN_0001.jpg"]
    assert [entry["path"] for entry in audit["not_images"]] == ["monocyte/notes.txt"]
    assert audit["converted"]["counts"] == {"grayscale": 1}
    paths = {row.path for row in dataset.manifest}
    assert "neutrophil/BROKEN_0001.jpg" not in paths and "monocyte/notes.txt" not in paths
    # relpaths are relative to the data set's folder, however deep the archive unpacked
    assert all(not p.startswith("PBC_dataset_normal_DIB") for p in paths)
    assert info["paper_differences"]["L"] == {"paper": 1214, "prepared": 8, "difference": -1206}


def test_manifest_is_the_documented_csv_and_fingerprint_is_its_hash(pbc_download: Path) -> None:
    dataset = prepare_dataset("pbc", pbc_download, progress=False)
    data = dataset.folder.manifest.read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == ["path", "sha256", "source_class", "label", "split"]
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    assert b"\r" not in data
    assert dataset.fingerprint == hashlib.sha256(data).hexdigest()
    first = rows[1]
    file = Path(dataset.info["root"]) / first[0]
    assert hashlib.sha256(file.read_bytes()).hexdigest() == first[1]
    prepared = json.loads(dataset.folder.prepared.read_text())
    assert prepared["fingerprint"] == dataset.fingerprint
    assert prepared["split_rule"] == {"policy": "stratified", "seed": 2024,
                                      "real": [0.6, 0.2, 0.2], "synthetic_val_fraction": 0.25}


def test_real_split_is_stratified_60_20_20(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False)
    counts = dataset.counts()
    assert counts["L"] == {"train": 4, "val": 1, "test": 1}  # 6 images
    assert counts["B"] == {"train": 3, "val": 1, "test": 1}  # 5 images
    assert dataset.spec.display_name == "Raabin"


def test_aml_converts_rgba_tiffs_and_merges_codes(aml_download: Path) -> None:
    dataset = prepare_dataset("AML", aml_download, progress=False)
    totals = {label: sum(row.values()) for label, row in dataset.counts().items()}
    assert totals == {"L": 7 + 1, "M": 4 + 2, "N": 8 + 1, "E": 3 + 1, "B": 3 + 1}
    assert dataset.info["dropped"]["classes"] == {
        code: count for code, count in AML_COUNTS.items()
        if code in ("EBO", "KSC", "MMZ", "MOB", "MYB", "MYO", "PMB", "PMO")}
    converted = dataset.audit["converted"]["counts"]
    kept_tiffs = sum(AML_COUNTS[c] for c in ("BAS", "EOS", "MON", "LYT", "LYA", "NGS", "NGB")) + 5
    assert converted == {"16bit": 1, "rgba": kept_tiffs}
    # 40x40 images are far from AML's published 400x400 and are listed; 400x400 ones are not
    outliers = {entry["path"] for entry in dataset.audit["size"]["outliers"]}
    assert "BAS/BAS_0900.tiff" not in outliers and "BAS/BAS_0000.tiff" in outliers
    images = dataset.split("train").images
    assert images.dtype == np.uint8 and images.shape[1:] == (256, 256, 3)


def test_ldwbc_accepts_alias_tolerant_class_names(ldwbc_download: Path) -> None:
    dataset = prepare_dataset("LDWBC", ldwbc_download, progress=False, cache_size=32)
    classes = dataset.info["class_map"]
    assert classes == {"EOS": "E", "Lymphocytes": "L", "MONO": "M", "basophils": "B",
                       "neutrophil": "N"}
    outliers = dataset.audit["size"]["outliers"]
    assert [o["path"] for o in outliers] == ["MONO/small.jpg"]
    assert dataset.info["image_size"]["most_common"] == [1280, 1280]


def test_official_split_policy_on_wbc_usid_layout(fake_wbc_usid: Path) -> None:
    dataset = prepare_dataset("wbc-usid-c", fake_wbc_usid, progress=False, cache_size=16)
    assert dataset.counts()["E"] == {"train": 6, "val": 2, "test": 8}
    test = dataset.split("test", 16)
    assert len(test) == 40 and test.classes_present == list(bench.CLASSES)
    assert all(path.startswith("test/") for path in test.paths)
    # the same file name in train and test stays two images
    assert {"train/Esophil/smear_0.png", "test/Esophil/smear_0.png"} <= {
        row.path for row in dataset.manifest}
    assert dataset.info["class_map"]["Esophil"] == "E"


def test_split_arrays_match_manifest_rows(pbc_download: Path) -> None:
    dataset = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    arrays = dataset.split("val", 16)
    rows = sorted((r for r in dataset.manifest if r.split == "val"), key=lambda r: r.path)
    assert arrays.paths == [r.path for r in rows]
    assert arrays.labels.dtype == np.int64
    assert arrays.labels.tolist() == [bench.CLASSES.index(r.label) for r in rows]
    assert isinstance(arrays.images, np.memmap) and arrays.images.shape == (len(rows), 16, 16, 3)
    # the cached pixels are the source image, centre-cropped and resized
    from PIL import Image

    from bench.data.decode import square_resize

    source = Image.open(Path(dataset.info["root"]) / rows[0].path).convert("RGB")
    assert np.array_equal(arrays.images[0], np.asarray(square_resize(source, 16)))


def test_second_prepare_does_nothing_new(pbc_download: Path) -> None:
    first = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    folder = first.folder
    stamps = {p: p.stat().st_mtime_ns for p in folder.root.rglob("*") if p.is_file()}
    again = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    assert again.reused and again.fingerprint == first.fingerprint
    assert {p: p.stat().st_mtime_ns for p in folder.root.rglob("*") if p.is_file()} == stamps
    # without --from it reuses the recorded source
    assert prepare_dataset("pbc", progress=False, cache_size=16).reused


def test_fingerprint_is_stable_across_machines_and_listing_order(
    pbc_download: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16).fingerprint
    # another machine: another data home, another path, another directory listing order
    copy = shutil.copytree(pbc_download, tmp_path / "elsewhere" / "pbc")
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "other-home"))
    bench.reset()
    listing = Path.iterdir

    def shuffled(self: Path):
        entries = list(listing(self))
        random.Random(7).shuffle(entries)
        return iter(entries)

    monkeypatch.setattr(Path, "iterdir", shuffled)
    second = prepare_dataset("pbc", copy, progress=False, cache_size=16)
    assert second.fingerprint == first
    assert not second.reused


def test_changed_download_is_prepared_again(pbc_download: Path) -> None:
    first = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    new = pbc_download / "PBC_dataset_normal_DIB" / "basophil" / "basophil_9999.jpg"
    from dataset_fakes import write_image

    write_image(new)
    second = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert "basophil/basophil_9999.jpg" in {row.path for row in second.manifest}
    assert len(second.split("train", 16)) + len(second.split("val", 16)) + len(
        second.split("test", 16)) == len(first.manifest) + 1


def test_interrupted_prepare_leaves_nothing_half_written(
    pbc_download: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.data.prepare as prepare_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    audit = prepare_module.run_audit
    monkeypatch.setattr(prepare_module, "run_audit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    folder = DatasetFolder.of("pbc")
    assert not folder.prepared.exists() and not folder.manifest.exists()
    assert not list(folder.root.glob(".tmp-*"))
    with pytest.raises(bench.DataError, match="not prepared"):
        load_prepared("pbc")
    monkeypatch.setattr(prepare_module, "run_audit", audit)
    dataset = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    assert not dataset.reused and folder.prepared.is_file()
    assert len(dataset.split("test", 16)) > 0
