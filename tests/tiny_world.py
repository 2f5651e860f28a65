"""A tiny learnable data set and a tiny model, installed as a real third-party distribution.

The fixture `tiny_world` is imported by the conftest of each test folder that trains (engine,
site).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import bench

PLUGIN = '''
from pathlib import Path
import bench

ROOT = Path({root!r})


def scan(root):
    for path in sorted(Path(root).glob("*/*.png")):
        yield bench.SourceImage(path, path.relative_to(root).as_posix(), path.parent.name)


def tiny(num_classes, pretrained):
    import torch
    from torch import nn
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, num_classes))


@bench.hookimpl
def register_datasets():
    return [
        bench.DatasetSpec(name=name, scan=scan, class_map={{c: c for c in "LMNEB"}},
                          default_source=ROOT / name, description="colour-coded squares")
        for name in ("colours-a", "colours-b")
    ]


def tiny2(num_classes, pretrained):
    import torch
    from torch import nn
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(3, 4, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, num_classes))


def slow(num_classes, pretrained):
    """The tiny model, slowed down so a test can kill its process in the middle of an epoch."""
    import os
    import time
    from torch import nn

    if os.environ.get("TINY_PID_FILE"):  # tell the test which process trains
        with open(os.environ["TINY_PID_FILE"], "a") as pids:
            pids.write(f"{{os.getpid()}}\\n")

    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = tiny(num_classes, pretrained)

        def forward(self, x):
            time.sleep(0.03)
            return self.inner(x)

    return Slow()


def nan(num_classes, pretrained):
    from torch import nn

    class NaN(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = tiny(num_classes, pretrained)

        def forward(self, x):
            return self.inner(x) * float("nan")

    return NaN()


@bench.hookimpl
def register_models():
    common = dict(input_size=16, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    return [bench.ModelSpec(name="tiny", factory=tiny, **common),
            bench.ModelSpec(name="tiny2", factory=tiny2, **common),
            bench.ModelSpec(name="slow", factory=slow, **common),
            bench.ModelSpec(name="nan", factory=nan, **common)]
'''

COLOURS = {"L": (200, 40, 40), "M": (40, 200, 40), "N": (40, 40, 200), "E": (200, 200, 40),
           "B": (40, 200, 200)}


def write_colour_dataset(root: Path, per_class: int, seed: int) -> None:
    """Squares whose colour tells the class, with noise, so a tiny model learns them."""
    rng = np.random.default_rng(seed)
    for label, colour in COLOURS.items():
        folder = root / label
        folder.mkdir(parents=True)
        for index in range(per_class):
            noise = rng.normal(0, 25, size=(20, 20, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{index:03d}.png")


@pytest.fixture
def tiny_world(tmp_path: Path, install_distribution) -> Path:
    """Two prepared colour data sets and a tiny model, all registered through entry points."""
    root = tmp_path / "downloads"
    write_colour_dataset(root / "colours-a", per_class=15, seed=1)
    write_colour_dataset(root / "colours-b", per_class=10, seed=2)
    install_distribution("tiny-world", {"tiny": "tiny_world_plugin"},
                         {"tiny_world_plugin": PLUGIN.format(root=str(root))})
    bench.reset()
    from bench.data import prepare_dataset

    for name in ("colours-a", "colours-b"):
        prepare_dataset(name, progress=False)
    return root
