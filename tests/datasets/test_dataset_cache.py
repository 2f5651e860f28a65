"""The decoded cache: on-demand sizes, worker pool parity, and the guards around it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import make_wbc_usid

import bench
from bench.data import load_prepared, prepare_dataset
from bench.data.cache import cache_info


def test_default_split_size_is_the_protocols_cache_size(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False)
    expected = bench.load_protocol("zedda2024").input.cache_size
    assert dataset.split("train").images.shape[1:] == (expected, expected, 3)


def test_other_sizes_are_built_on_demand_then_reused(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    assert cache_info(dataset.folder, 24) is None
    small = load_prepared("raabin").split("test", 24)
    assert small.images.shape == (5, 24, 24, 3) and int(small.images.max()) > 0
    stamp = (dataset.folder.cache_dir(24) / "cache.json").stat().st_mtime_ns
    again = load_prepared("raabin").split("test", 24)
    assert np.array_equal(again.images, small.images)
    assert (dataset.folder.cache_dir(24) / "cache.json").stat().st_mtime_ns == stamp


def test_on_demand_build_needs_the_source(raabin_download: Path) -> None:
    prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    shutil.rmtree(raabin_download)
    dataset = load_prepared("raabin")
    assert len(dataset.split("train", 16)) == 17  # built at prepare time: still readable
    with pytest.raises(bench.DataError, match="bench datasets prepare raabin --from PATH"):
        dataset.split("train", 32)


def test_changed_source_file_stops_an_on_demand_build(raabin_download: Path) -> None:
    prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    victim = sorted((raabin_download / "Monocyte").iterdir())[0]
    victim.write_bytes(sorted((raabin_download / "Basophil").iterdir())[0].read_bytes())
    with pytest.raises(bench.DataError, match="changed since the data set was prepared"):
        load_prepared("raabin").split("val", 32)


def test_worker_pool_gives_the_same_cache_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = make_wbc_usid(tmp_path / "release", per_class=10)  # 100 files: uses the pool
    pooled = prepare_dataset("wbc-usid-b", release, progress=False, cache_size=16, workers=2)
    pooled_images = np.array(pooled.split("train", 16).images)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "second-home"))
    bench.reset()
    single = prepare_dataset("wbc-usid-b", release, progress=False, cache_size=16, workers=1)
    assert single.fingerprint == pooled.fingerprint
    assert np.array_equal(np.array(single.split("train", 16).images), pooled_images)


def test_split_rule_check(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    dataset.check_split_rule(bench.load_protocol("zedda2024").splits)
    dataset.check_split_rule(bench.load_protocol("quick").splits)  # same split settings
    other = bench.load_protocol("zedda2024").with_overrides(splits={"seed": 1})
    with pytest.raises(bench.DataError, match="split under"):
        dataset.check_split_rule(other.splits)


def test_edited_manifest_is_detected(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    text = dataset.folder.manifest.read_text()
    dataset.folder.manifest.write_text(text.replace(",train\n", ",test\n", 1))
    with pytest.raises(bench.DataError, match="does not match the fingerprint"):
        load_prepared("raabin")


def test_unknown_split_name(raabin_download: Path) -> None:
    dataset = prepare_dataset("raabin", raabin_download, progress=False, cache_size=16)
    with pytest.raises(bench.DataError, match="unknown split 'validation'"):
        dataset.split("validation", 16)


def test_an_images_file_reserves_its_blocks_when_created(tmp_path):
    """A sparse file would fail later, in a memory-map page fault ("Bus error")."""
    from bench.data.cache import create_images_file

    path = tmp_path / "images.npy"
    offset = create_images_file(path, 40, 64)
    length = offset + 40 * 64 * 64 * 3
    assert path.stat().st_size == length
    assert path.stat().st_blocks * 512 >= length  # allocated, not a hole
    assert not np.load(path, mmap_mode="r").any()
