"""The real WBC-USID release (read-only, beside the checkout): both levels, official splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.data import load_prepared, prepare_dataset

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["WBC-USID-B", "WBC-USID-C"])
def test_release_prepares_with_official_splits(wbc_usid: Path, name: str) -> None:
    dataset = prepare_dataset(name, wbc_usid, progress=False, cache_size=16, workers=2)
    counts = dataset.counts()
    assert all(counts[label]["test"] == 200 for label in counts)
    assert sum(c["test"] for c in counts.values()) == 1000
    assert sum(c["train"] for c in counts.values()) == 750
    assert sum(c["val"] for c in counts.values()) == 250
    assert all(counts[label]["train"] == 150 and counts[label]["val"] == 50 for label in counts)
    assert dataset.info["paper_differences"]["E"]["difference"] == 0
    assert dataset.info["image_size"]["most_common"] == [256, 256]  # not the paper's 64x64
    assert dataset.info["class_map"]["Esophil"] == "E"
    test = load_prepared(name).split("test", 16)
    assert test.images.shape == (1000, 16, 16, 3)
    assert test.classes_present == ["L", "M", "N", "E", "B"]
    assert int(test.images.max()) > 0  # real pixels, not the zeros of an unwritten row
