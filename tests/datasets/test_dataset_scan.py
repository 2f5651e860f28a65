"""Scanning helpers and class mapping: tolerant names, unknown or empty classes, nesting."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_fakes import make_class_folders, write_image

import bench
from bench.data import (
    ClassMapper,
    find_folder,
    has_class_folders,
    scan_class_folders,
    scan_csv,
    scan_split_folders,
    wbc_class_map,
)
from bench.data.prepare import prepare_dataset


def test_mapper_is_tolerant_of_case_punctuation_and_plurals() -> None:
    mapper = ClassMapper(wbc_class_map(platelet=None))
    assert [mapper.label(n) for n in ("Lymphocytes", "ESOPHIL", "neutro-phil", "Mono", "BAS")] \
        == ["L", "E", "N", "M", "B"]
    assert mapper.label("Platelets") is None


def test_unknown_classes_are_listed_not_dropped() -> None:
    mapper = ClassMapper({"lym": "L"})
    with pytest.raises(bench.DataError, match="does not know: artefact, smudge"):
        mapper.check(["lym", "smudge", "artefact"])


def test_class_map_with_a_bad_label_is_rejected() -> None:
    with pytest.raises(bench.DataError, match="must be one of"):
        ClassMapper({"lym": "X"})


def test_unknown_class_folder_stops_prepare(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "pbc", dict.fromkeys(
        ("basophil", "eosinophil", "lymphocyte", "monocyte", "neutrophil", "smudge"), 2))
    with pytest.raises(bench.DataError, match="smudge"):
        prepare_dataset("pbc", root, progress=False)


def test_empty_class_folder_is_an_error(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "d", {"Lymphocyte": 2})
    (root / "Monocyte").mkdir()
    with pytest.raises(bench.DataError, match="Monocyte is empty"):
        scan_class_folders(root)


def test_relpaths_keep_the_split_folder(tmp_path: Path) -> None:
    for split in ("train", "test"):
        write_image(tmp_path / split / "Basophil" / "smear_1.png")
    found = scan_split_folders(tmp_path)
    assert [(i.relpath, i.official_split) for i in found] == [
        ("test/Basophil/smear_1.png", "test"), ("train/Basophil/smear_1.png", "train")]


def test_missing_split_folder_is_named(tmp_path: Path) -> None:
    make_class_folders(tmp_path / "train", {"Basophil": 1})
    with pytest.raises(bench.DataError, match="missing: test"):
        scan_split_folders(tmp_path)


def test_find_folder_goes_deeper_and_refuses_to_guess(tmp_path: Path) -> None:
    looks_right = has_class_folders(wbc_class_map(), minimum=2)
    make_class_folders(tmp_path / "a" / "b" / "images", {"Basophil": 1, "Monocyte": 1})
    assert find_folder(tmp_path, looks_right, what="x") == tmp_path / "a" / "b" / "images"
    make_class_folders(tmp_path / "a" / "b" / "masks", {"Basophil": 1, "Monocyte": 1})
    with pytest.raises(bench.DataError, match="several places"):
        find_folder(tmp_path, looks_right, what="class folders")


def test_wrong_folder_says_what_was_expected_and_found(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    (tmp_path / "photos").mkdir()
    with pytest.raises(bench.DataError, match=r"PBC_dataset_normal_DIB.*Found at its top: "
                                              r"photos/, readme.txt"):
        prepare_dataset("pbc", tmp_path, progress=False)


def test_csv_scan_and_its_errors(tmp_path: Path) -> None:
    write_image(tmp_path / "img" / "a.png")
    (tmp_path / "labels.csv").write_text("path,label\nimg/a.png,lym\n")
    [image] = scan_csv(tmp_path / "labels.csv")
    assert (image.relpath, image.source_class) == ("img/a.png", "lym")
    (tmp_path / "bad.csv").write_text("../escape.png,lym\n")
    with pytest.raises(bench.DataError, match="stay inside"):
        scan_csv(tmp_path / "bad.csv")


def test_7z_archives_get_an_extraction_hint(tmp_path: Path) -> None:
    archive = tmp_path / "Raabin.7z"
    archive.write_bytes(b"7z\xbc\xaf\x27\x1c")
    with pytest.raises(bench.DataError, match="7z x Raabin.7z"):
        prepare_dataset("raabin", archive, progress=False)
