"""Fixtures for the generator tests: small cells and single-cell images."""

from __future__ import annotations

import numpy as np
import pytest


def paste_on_background(rgba: np.ndarray, colour=(236, 228, 222), margin: int = 6) -> np.ndarray:
    """An RGB single-cell image: the cell on a plain (smear-beige) background, with a margin."""
    h, w = rgba.shape[:2]
    canvas = np.empty((h + 2 * margin, w + 2 * margin, 3), np.float32)
    canvas[:] = colour
    alpha = rgba[..., 3:4] / 255
    window = canvas[margin : margin + h, margin : margin + w]
    window[:] = window * (1 - alpha) + rgba[..., :3] * alpha
    return np.rint(canvas).astype(np.uint8)


@pytest.fixture
def on_background():
    return paste_on_background


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: tiny models run faster so, and never spin against other tests."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def procedural():
    from bench_generators.procedural import ProceduralCells

    return ProceduralCells()
