"""Damage to what bench wrote itself: decoded caches and generation progress logs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from fixtures.cli import invoke

import bench
import bench.data
from bench.data.drift import verify_dataset


def _cache(name: str):
    dataset = bench.data.load_prepared(name)
    size = dataset.cached_sizes()[0]
    return dataset, size, dataset.folder.cache_dir(size) / "images.npy"


def _damage(path, kind: str) -> None:
    images = np.load(path, mmap_mode="r")
    offset, data = images.offset, bytearray(path.read_bytes())
    if kind == "random-pixels":  # header kept: only a content hash can tell
        data[offset:] = np.random.default_rng(0).integers(0, 256, len(data) - offset,
                                                          dtype=np.uint8).tobytes()
    elif kind == "zeroed-test-image":
        row = images.shape[1] * images.shape[2] * 3
        data[len(data) - row:] = bytes(row)
    elif kind == "truncated":
        data = data[: len(data) // 2]
    else:  # garbage header
        data[:64] = os.urandom(64)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["random-pixels", "zeroed-test-image", "truncated",
                                  "garbage-header"])
def test_a_damaged_cache_is_named_by_verify_and_rebuilt_by_prepare(tiny_world, kind):
    dataset, size, path = _cache("colours-a")
    original = path.read_bytes()
    _damage(path, kind)
    report = verify_dataset("colours-a", progress=False)
    [check] = [c for c in report.checks if c.check == f"cache {size} px"]
    assert check.status == "drift" and "bench datasets prepare colours-a" in check.detail
    result = invoke("datasets", "prepare", "colours-a")
    assert result.exit_code == 0, result.output
    assert "rebuilt a damaged cache" in result.output and str(path.parent) in result.output
    assert path.read_bytes() == original
    assert verify_dataset("colours-a", progress=False).ok


def test_a_structurally_damaged_cache_is_rebuilt_before_a_run_reads_it(tiny_world):
    _, size, path = _cache("colours-b")
    original = path.read_bytes()
    _damage(path, "truncated")
    train = bench.data.load_prepared("colours-b").split("train", size)  # no mmap traceback
    assert len(train) == 30 and path.read_bytes() == original


def test_a_generation_killed_mid_line_loses_no_annotation(bench_home):
    from bench.generation.datasets import generate_dataset

    class Killed(Exception):
        pass

    def kill_at_six(stage, done, total):
        if stage == "images train" and done == 6:
            raise Killed

    options = dict(cells="procedural", level="complex", train=10, test=5, size=32, workers=1)
    with pytest.raises(Killed):
        generate_dataset("torn", progress=kill_at_six, **options)
    log = bench_home / "generated" / ".torn.partial" / ".progress" / "train.jsonl"
    with log.open("ab") as stream:  # the line being written when the process was killed
        stream.write(b'{"path": "train/Lymphocyte/smear_00007.png", "split": "tr')
    folder = generate_dataset("torn", **options)
    records = [json.loads(line) for line in (folder / "annotations.jsonl").read_text().splitlines()]
    assert len(records) == 15 and len({r["path"] for r in records}) == 15
    assert verify_dataset("torn", progress=False).ok

    lines = (folder / "annotations.jsonl").read_text().splitlines()
    (folder / "annotations.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    [check] = [c for c in verify_dataset("torn", progress=False).checks
               if c.check == "annotations"]
    assert check.status == "drift" and check.detail.startswith("3 problem(s)")
    assert "no annotation" in check.detail
