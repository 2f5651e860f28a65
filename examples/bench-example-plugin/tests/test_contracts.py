"""The example plugin runs bench's contract checks on its own specs, as any plugin should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import bench


def test_the_example_model_honours_the_model_contract():
    spec = bench.get_registries().models.get("example-cnn")
    config = bench.kit.check_model(spec)
    assert config["input_size"] == 64


def test_the_example_data_set_scans_its_own_layout(tmp_path: Path):
    for index, folder in enumerate(("lym", "mono", "neut", "eos", "baso")):
        (tmp_path / folder).mkdir()
        pixels = np.full((8, 8, 3), 40 * index, dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / folder / "cell.png")
    spec = bench.get_registries().datasets.get("example-cells")
    assert len(bench.kit.check_dataset(spec, tmp_path)) == 5
