"""How close generated cells are to the cells they were learnt from: two cheap statistics.

A sampler that leaves noise in its images, or drives them into saturation, is far from its
training set on both; a faithful one is about as far as two training images are from each
other. ``disc_cells`` is a fixed synthetic training set small enough for a CPU: the sample
quality check (tests/generators/test_ddpm_quality.py, benchmarks/bench_sampling.py) trains a
tiny DDPM on it and compares every sampler's cells with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BACKGROUND = (236, 228, 222)  # smear beige, as around a real single-cell crop
NUCLEUS = (120, 60, 160)  # stained purple
# The DDPM of the check: the tiny preset at 8x8 without attention, trained fast (lr 1e-2,
# batch 64): about 300 steps reach a noise-prediction loss of 0.05 on eight discs.
CHECK_TRAINING: dict = {"config": "tiny", "resolution": 8, "attention": (False, False),
                        "batch_size": 64, "learning_rate": 1e-2, "warmup_steps": 0,
                        "min_images": 2}


def disc_cells(count: int, size: int = 8, seed: int = 0, colour_jitter: float = 10.0
               ) -> list[np.ndarray]:
    """``count`` RGB images: one purple disc of random radius, position and shade on beige."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] + 0.5
    cells = []
    for _ in range(count):
        image = np.empty((size, size, 3), np.float32)
        image[:] = BACKGROUND
        radius = rng.uniform(0.22, 0.34) * size
        cy, cx = size / 2 + rng.uniform(-0.1, 0.1, 2) * size
        colour = np.array(NUCLEUS) + rng.uniform(-colour_jitter, colour_jitter, 3)
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = colour
        cells.append(np.rint(image).astype(np.uint8))
    return cells


def colour_distance(cells: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> float:
    """How far the colour histograms are apart, in grey levels (0-255).

    The earth mover's distance between the pixel values of each channel; the largest of three.
    """
    from scipy.stats import wasserstein_distance

    a = np.stack([c[..., :3] for c in cells]).reshape(-1, 3).astype(float)
    b = np.stack([c[..., :3] for c in reference]).reshape(-1, 3).astype(float)
    return max(float(wasserstein_distance(a[:, c], b[:, c])) for c in range(3))


def _features(cells: Sequence[np.ndarray], grid: int = 4) -> np.ndarray:
    """Each image as its mean colour in a grid x grid layout, in [0, 1]: blur-proof layout."""
    x = np.stack([c[..., :3] for c in cells]).astype(np.float32) / 255
    n, h, w, _ = x.shape
    if h % grid or w % grid:
        raise ValueError(f"{h}x{w} images do not divide into a {grid}x{grid} grid")
    return x.reshape(n, grid, h // grid, grid, w // grid, 3).mean((2, 4)).reshape(n, -1)


def nearest_neighbour_distance(cells: Sequence[np.ndarray], reference: Sequence[np.ndarray],
                               *, leave_one_out: bool = False) -> float:
    """Mean over ``cells`` of the RMS distance to the nearest reference image (features above).

    ``leave_one_out`` (``cells`` is ``reference``): each image's distance to its nearest
    other, the spread of the reference itself.
    """
    from scipy.spatial.distance import cdist

    a, b = _features(cells), _features(reference)
    distances = cdist(a, b) / np.sqrt(a.shape[1])
    if leave_one_out:
        np.fill_diagonal(distances, np.inf)
    return float(distances.min(axis=1).mean())


def saturated_share(cells: Sequence[np.ndarray]) -> float:
    """The share of channel values at the ends of the range (<= 2 or >= 253)."""
    x = np.stack([c[..., :3] for c in cells])
    return float(((x <= 2) | (x >= 253)).mean())


def quality(cells: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> dict[str, float]:
    """All three statistics of ``cells`` against ``reference``, rounded for reports."""
    return {
        "colour_distance": round(colour_distance(cells, reference), 2),
        "nearest_neighbour": round(nearest_neighbour_distance(cells, reference), 4),
        "saturated_share": round(saturated_share(cells), 4),
    }
