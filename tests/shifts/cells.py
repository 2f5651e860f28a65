"""A smear-like test picture the shift tests share."""

from __future__ import annotations

import numpy as np


def cell_image(height: int = 48, width: int = 40) -> np.ndarray:
    """A smear-like picture made by arithmetic only: pale blue background, pink cell, dark
    purple nucleus, a fine texture; no random generator, so it is the same everywhere."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), dtype=np.float64)
    image[...] = (205, 200, 240)
    radius = np.hypot(y - height / 2, x - width / 2)
    image[radius < 0.4 * min(height, width)] = (225, 150, 190)
    image[radius < 0.22 * min(height, width)] = (90, 40, 140)
    image += 12 * np.sin(x * 1.3)[..., None] * np.cos(y * 0.7)[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
