"""Tiny fake downloads in each publisher's layout, with the flaws real downloads have.

Every image has distinct content (seeded noise) unless a test wants a duplicate; flaws:
truncated files, a text file in a class folder, grayscale, RGBA TIFFs, 16-bit PNGs, an
``Esophil`` folder, one archive level too many, identical file names across train and test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_fakes import (
    AML_COUNTS,
    PBC_COUNTS,
    make_class_folders,
    make_wbc_usid,
    write_image,
    write_truncated,
)


@pytest.fixture
def pbc_download(tmp_path: Path) -> Path:
    """PBC as its zip unpacks: one PBC_dataset_normal_DIB folder inside another."""
    outer = tmp_path / "downloads" / "PBC_dataset_normal_DIB"
    root = make_class_folders(outer / "PBC_dataset_normal_DIB", PBC_COUNTS)
    write_truncated(root / "neutrophil" / "BROKEN_0001.jpg", fmt="JPEG")
    write_image(root / "lymphocyte" / "GRAY_0001.jpg", mode="L")
    (root / "monocyte" / "notes.txt").write_text("not an image")
    (root / "monocyte" / ".DS_Store").write_bytes(b"\0litter")
    return outer


@pytest.fixture
def aml_download(tmp_path: Path) -> Path:
    """AML-Cytomorphology_LMU: RGBA TIFFs in class-code folders, 400x400 like the real ones."""
    top = tmp_path / "downloads" / "AML-Cytomorphology_LMU"
    make_class_folders(top / "AML-Cytomorphology", AML_COUNTS, ".tiff", (40, 40), "RGBA")
    for code in ("BAS", "EOS", "MON", "LYT", "NGS"):  # the published size for a few
        write_image(top / "AML-Cytomorphology" / code / f"{code}_0900.tiff", (400, 400), "RGBA")
    write_image(
        top / "AML-Cytomorphology" / "MON" / "MON_0901.tiff", (40, 40), "I;16", fmt="PNG"
    )  # 16-bit content under a .tiff name: still decoded and counted
    (top / "annotations.dat").write_text("code\tfile\n")
    return top


@pytest.fixture
def raabin_download(tmp_path: Path) -> Path:
    return make_class_folders(
        tmp_path / "downloads" / "Raabin" / "images",
        {"Basophil": 5, "Eosinophil": 5, "Lymphocyte": 6, "Monocyte": 5, "Neutrophil": 6},
    )


@pytest.fixture
def raabin_cropped_download(tmp_path: Path) -> Path:
    top = tmp_path / "downloads" / "Cropped_double_labeled"
    classes = {"Basophil": 3, "Eosinophil": 3, "Lymphocyte": 4, "Monocyte": 3, "Neutrophil": 4}
    make_class_folders(top / "Train", classes)
    make_class_folders(top / "TestA", classes)
    return top


@pytest.fixture
def ldwbc_download(tmp_path: Path) -> Path:
    """Class folders with unconfirmed, varied names; 1280x1280 images and one small outlier."""
    root = make_class_folders(
        tmp_path / "downloads" / "LDWBC",
        {"Lymphocytes": 3, "MONO": 3, "neutrophil": 3, "EOS": 3, "basophils": 3},
        ".jpg",
        (1280, 1280),
    )
    write_image(root / "MONO" / "small.jpg", (300, 300))
    return root.parent


@pytest.fixture
def fake_wbc_usid(tmp_path: Path) -> Path:
    return make_wbc_usid(tmp_path / "downloads" / "WBC-USID")


@pytest.fixture
def leaky_wbc_usid(fake_wbc_usid: Path) -> Path:
    """A release in which one test image is a byte copy of a training image (leakage)."""
    level = fake_wbc_usid / "dataset" / "level_0"
    source = level / "train" / "Monocyte" / "smear_3.png"
    (level / "test" / "Monocyte" / "smear_3.png").write_bytes(source.read_bytes())
    return fake_wbc_usid


@pytest.fixture
def generated_set(bench_home: Path) -> Path:
    """A data set as the generator helper writes it into the data home."""
    folder = bench_home / "generated" / "ddpm-level2"
    for split, count in (("train", 8), ("test", 4)):
        make_class_folders(
            folder / split,
            dict.fromkeys(
                ("Basophil", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"), count
            ),
            ".png",
        )
    (folder / "dataset.json").write_text(
        json.dumps(
            {"name": "ddpm-level2", "description": "test set", "level": 2, "generator": "blobs"}
        )
    )
    return folder
