"""The audit: leakage across splits, duplicates across data sets, findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_fakes import make_class_folders

from bench.data import prepare_dataset


def test_duplicate_across_train_and_test_is_loud_leakage(leaky_wbc_usid: Path) -> None:
    dataset = prepare_dataset("wbc-usid-b", leaky_wbc_usid, progress=False, cache_size=16)
    audit = dataset.audit
    [leak] = audit["leakage"]
    assert set(leak["paths"]) == {"train/Monocyte/smear_3.png", "test/Monocyte/smear_3.png"}
    assert "test" in leak["splits"]
    first = audit["findings"][0]
    assert first["severity"] == "error" and first["message"].startswith("LEAKAGE")
    # the level that has no copy is clean
    other = prepare_dataset("wbc-usid-c", leaky_wbc_usid, progress=False, cache_size=16)
    assert other.audit["leakage"] == [] and other.audit["findings"] == []


def test_duplicates_within_a_real_data_set_share_a_split(raabin_download: Path) -> None:
    folder = raabin_download / "Lymphocyte"
    original = sorted(folder.iterdir())[0]
    (folder / "copy.jpg").write_bytes(original.read_bytes())
    dataset = prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    [group] = dataset.audit["duplicates"]
    assert len(group["splits"]) == 1 and dataset.audit["leakage"] == []
    assert dataset.audit["findings"][0]["severity"] == "info"


def test_images_shared_with_another_prepared_data_set_are_reported(
    raabin_download: Path, raabin_cropped_download: Path
) -> None:
    shared = sorted((raabin_download / "Basophil").iterdir())[:2]
    for index, path in enumerate(shared):
        (raabin_cropped_download / "Train" / "Basophil" / f"dup{index}.jpg").write_bytes(
            path.read_bytes())
    prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    cropped = prepare_dataset("raabin-cropped", raabin_cropped_download, progress=False,
                              cache_size=16)
    overlap = cropped.audit["cross_dataset"]["raabin"]
    assert overlap["shared"] == 2
    assert any("also in data set 'raabin'" in f["message"] for f in cropped.audit["findings"])
    # Per pair of splits (ours/theirs): what a board needs to say how much of a test was seen.
    from collections import Counter

    from bench.data import load_prepared

    theirs = {row.sha256: row.split for row in load_prepared("raabin").manifest}
    expected = Counter(f"{row.split}/{theirs[row.sha256]}" for row in cropped.manifest
                       if row.sha256 in theirs)
    assert overlap["by_split"] == dict(expected) and sum(expected.values()) == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_a_decompression_bomb_is_skipped_and_named_and_the_rest_prepares(
    tmp_path: Path, bomb_pngs: dict[str, bytes], workers: int
) -> None:
    # 100 cells: past INLINE_BELOW, so two workers decode them as a real prepare does.
    root = make_class_folders(tmp_path / "Raabin", {"Basophil": 20, "Eosinophil": 20,
                                                    "Lymphocyte": 20, "Monocyte": 20,
                                                    "Neutrophil": 20})
    for kind, data in bomb_pngs.items():
        (root / "Lymphocyte" / f"bomb-{kind}.png").write_bytes(data)
    dataset = prepare_dataset("raabin", root, progress=False, cache_size=16, workers=workers)

    assert len(dataset.manifest) == 100
    assert dataset.info["dropped"]["too_large"] == 2
    listed = {entry["path"]: entry["error"] for entry in dataset.audit["too_large"]}
    assert set(listed) == {"Lymphocyte/bomb-refused.png", "Lymphocyte/bomb-warned.png"}
    assert "declares 10000x10000 pixels" in listed["Lymphocyte/bomb-warned.png"]
    assert "900000000 pixels" in listed["Lymphocyte/bomb-refused.png"]
    assert all("decompression bomb" in reason for reason in listed.values())
    findings = [f["message"] for f in dataset.audit["findings"] if f["severity"] == "warning"]
    assert sum(message.startswith("excluded oversized image Lymphocyte/bomb-")
               for message in findings) == 2
