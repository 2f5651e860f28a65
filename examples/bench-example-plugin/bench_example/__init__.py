"""Hook implementations of the example plugin.

Importing this module must stay cheap: torch is imported inside the factory, not here.
"""

from __future__ import annotations

from pathlib import Path

import bench

CLASS_FOLDERS = {"lym": "L", "mono": "M", "neut": "N", "eos": "E", "baso": "B"}


def build_tiny_cnn(num_classes: int, pretrained: bool):
    """Factory called by bench; there are no pretrained weights for this toy model."""
    from bench_example.model import TinyCNN

    if pretrained:
        raise bench.RunError("example-cnn has no pretrained weights: use --no-pretrained")
    return TinyCNN(num_classes)


def scan_class_folders(root: Path):
    """Yield every PNG under root/<class folder>/."""
    for path in sorted(root.glob("*/*.png")):
        yield bench.SourceImage(
            path=path, relpath=path.relative_to(root).as_posix(), source_class=path.parent.name
        )


@bench.hookimpl
def register_models():
    return [
        bench.ModelSpec(
            name="example-cnn",
            aliases=("tinycnn",),
            description="A two-block CNN from the example plugin.",
            family="toy CNN",
            factory=build_tiny_cnn,
            input_size=64,
            mean=(0.5, 0.5, 0.5),
            std=(0.25, 0.25, 0.25),
        )
    ]


@bench.hookimpl
def register_datasets():
    return [
        bench.DatasetSpec(
            name="example-cells",
            description="Class folders lym/mono/neut/eos/baso of PNG cells.",
            scan=scan_class_folders,
            class_map=CLASS_FOLDERS,
            homepage="https://example.org/cells",
            licence="CC0-1.0",
        )
    ]
