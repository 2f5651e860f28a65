"""Cutting a cell out of its plain background, and refusing when there is none."""

from __future__ import annotations

import numpy as np
import pytest
from bench_generators.masks import equivalent_diameter, extract_cell


@pytest.mark.parametrize("label", ["L", "M", "N", "E", "B", "RBC"])
def test_mask_matches_the_drawn_cell(procedural, on_background, label):
    for truth in procedural.generate(label, 3, partition="A", seed=5):
        cut = extract_cell(on_background(truth))
        assert cut is not None
        assert cut.shape[2] == 4
        # within a pixel of ring: antialiased edge pixels count as cell
        assert equivalent_diameter(cut) == pytest.approx(equivalent_diameter(truth), abs=2.5)
        # the cut is tight: no background rows left around the cell
        assert (cut[0, :, 3] > 0).any() and (cut[:, 0, 3] > 0).any()


def test_black_background_as_in_the_nih_cell_crops(procedural, on_background):
    (rbc,) = procedural.generate("RBC", 1, partition="A", seed=1)
    cut = extract_cell(on_background(rbc, colour=(0, 0, 0)))
    assert cut is not None
    assert equivalent_diameter(cut) == pytest.approx(equivalent_diameter(rbc), abs=2.5)


def test_rgba_input_keeps_its_alpha(procedural):
    (cell,) = procedural.generate("M", 1, partition="A", seed=2)
    cut = extract_cell(cell)
    assert (cut[..., 3] > 127).sum() == (cell[..., 3] > 127).sum()


def test_no_separable_background_is_refused(procedural, on_background):
    rng = np.random.default_rng(0)
    (cell,) = procedural.generate("N", 1, partition="A", seed=3)
    noisy = on_background(cell).astype(int) + rng.integers(-60, 60, (1, 1, 3))
    noisy[:8] = rng.integers(0, 255, noisy[:8].shape)  # a cluttered border: no plain background
    assert extract_cell(np.clip(noisy, 0, 255).astype(np.uint8)) is None
    # nothing but background
    assert extract_cell(np.full((40, 40, 3), 200, np.uint8)) is None
    # a "cell" filling the whole frame, cut by every edge
    full = np.full((40, 40, 3), 200, np.uint8)
    full[1:-1, 1:-1] = (90, 30, 120)
    assert extract_cell(full) is None
    # wrong shapes
    assert extract_cell(np.zeros((40, 40), np.uint8)) is None
    assert extract_cell(np.zeros((4, 4, 3), np.uint8)) is None


def test_the_central_cell_wins_over_a_neighbour(procedural, on_background):
    (cell,) = procedural.generate("L", 1, partition="A", seed=4)
    image = on_background(cell, margin=20)
    image[:6, :6] = (80, 20, 100)  # a fragment of another cell in a corner
    cut = extract_cell(image)
    assert cut is not None
    rows = np.nonzero((cell[..., 3] > 0).any(1))[0]
    assert cut.shape[0] == pytest.approx(rows.max() - rows.min() + 1, abs=3)
