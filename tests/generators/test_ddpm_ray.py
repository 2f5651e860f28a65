"""DDPM training on Ray: one task per (class, partition), the same models as local training."""

from __future__ import annotations

import json

import pytest
from fixtures.cli import invoke
from safetensors.torch import load_file

from bench.generation.datasets import generate_dataset

pytest.importorskip("ray")


def train(out, executor: str) -> list[dict]:
    result = invoke(
        "generate", "train-ddpm", "--dataset", "source", "--partition", "A", "--classes", "L,E",
        "--config", "tiny", "--steps", "2", "--out", str(out), "--executor", executor, "--json",
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ray_trains_every_class_and_partition_like_the_local_executor(tmp_path):
    generate_dataset("source", train=40, test=5, size=32, level="base", workers=1)
    local = train(tmp_path / "local", "local")
    on_ray = train(tmp_path / "ray", "ray")
    assert [(r["label"], r["partition"], r["step"]) for r in on_ray] == [
        ("L", "A", 2), ("E", "A", 2)]
    assert [r["loss"] for r in on_ray] == [r["loss"] for r in local]
    for folder in ("A/Lymphocyte", "A/Eosinophil"):
        weights = [load_file(next((root / folder / "unet").glob("*.safetensors")))
                   for root in (tmp_path / "local", tmp_path / "ray")]
        assert weights[0].keys() == weights[1].keys()
        assert all((weights[0][k] == weights[1][k]).all() for k in weights[0])
