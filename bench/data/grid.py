"""The sample grid: a few cached images per class in one PNG, to eyeball a mapping at a glance."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.data.layout import write_atomic
from bench.data.prepared import PreparedDataset
from bench.data.splits import SPLITS
from bench.labels import CLASS_NAMES, CLASSES

LABEL_WIDTH = 150


def write_sample_grid(dataset: PreparedDataset, path: Path | None = None, *,
                      per_class: int = 6, tile: int = 96) -> Path:
    """Write one row per class (evenly spread over its images, all splits) and return the path."""
    path = Path(path) if path else dataset.folder.samples
    # any cache at least as large as a tile will do: never decode a whole data set for a grid
    sizes = [size for size in dataset.cached_sizes() if size >= tile]
    size = sizes[0] if sizes else dataset.default_cache_size
    arrays = {split: dataset.split(split, size) for split in SPLITS}
    by_label: dict[int, list[tuple[str, int]]] = {}
    for split, data in arrays.items():
        for row, label in enumerate(data.labels.tolist()):
            by_label.setdefault(label, []).append((split, row))
    present = sorted(by_label)
    canvas = Image.new("RGB", (LABEL_WIDTH + per_class * tile, max(1, len(present)) * tile),
                       "white")
    draw = ImageDraw.Draw(canvas)
    for line, label in enumerate(present):
        members = by_label[label]
        letter = CLASSES[label]
        draw.text((8, line * tile + tile // 2 - 12),
                  f"{letter} {CLASS_NAMES[letter]}\n{len(members)} images", fill="black")
        picks = np.linspace(0, len(members) - 1, num=min(per_class, len(members))).round()
        for column, index in enumerate(dict.fromkeys(int(i) for i in picks)):
            split, row = members[index]
            image = Image.fromarray(np.asarray(arrays[split].images[row]))
            canvas.paste(image.resize((tile, tile), Image.Resampling.BILINEAR),
                         (LABEL_WIDTH + column * tile, line * tile))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())
    return path
