"""Procedural cells: recognisable, seeded, disjoint per partition, fast."""

from __future__ import annotations

import numpy as np
import pytest
from bench_generators.masks import equivalent_diameter

import bench
from bench.generation.contract import CELL_LABELS, cell_generator


@pytest.fixture
def cells(procedural):
    return procedural


def test_registered_and_built_through_the_registry():
    generator = cell_generator("procedural")
    assert type(generator).__name__ == "ProceduralCells"


@pytest.mark.parametrize("label", CELL_LABELS)
def test_every_label_is_an_rgba_cell_centred_on_its_canvas(cells, label):
    (cell,) = cells.generate(label, 1, partition="A", seed=0)
    assert cell.dtype == np.uint8 and cell.ndim == 3 and cell.shape[2] == 4
    alpha = cell[..., 3] > 127
    assert alpha.mean() > 0.3  # the canvas fits the cell
    assert not alpha[0].any() and not alpha[-1].any()  # nothing cut by the canvas edge
    rows, cols = np.nonzero(alpha)
    centre = (np.array(cell.shape[:2]) - 1) / 2
    assert np.allclose([rows.mean(), cols.mean()], centre, atol=cell.shape[0] * 0.1)


def test_same_seed_same_cell_whatever_the_chunk_and_partitions_differ(cells):
    whole = cells.generate("N", 6, partition="A", seed=3)
    tail = cells.generate("N", 2, partition="A", seed=3, start=4)
    assert all(np.array_equal(a, b) for a, b in zip(whole[4:], tail, strict=True))
    other = cells.generate("N", 6, partition="B", seed=3)
    assert not any(a.shape == b.shape and np.array_equal(a, b) for a in whole for b in other)
    reseeded = cells.generate("N", 6, partition="A", seed=4)
    assert not np.array_equal(whole[0], reseeded[0]) or whole[0].shape != reseeded[0].shape


def _share(cell: np.ndarray, test) -> float:
    inside = cell[..., 3] > 200
    rgb = cell[..., :3].astype(int)[inside]
    return float(np.mean(test(rgb[:, 0], rgb[:, 1], rgb[:, 2])))


def test_morphology_is_recognisable(cells):
    sample = {label: cells.generate(label, 20, partition="A", seed=1) for label in CELL_LABELS}

    def mean_share(label, test):
        return np.mean([_share(cell, test) for cell in sample[label]])

    def dark_purple(r, g, b):
        return (r + g + b < 330) & (b > g)

    def orange(r, g, b):
        return (r > 180) & (r - b > 70) & (g < 150)

    def very_dark(r, g, b):
        return r + g + b < 220

    # a lymphocyte is mostly nucleus; a red cell has none
    assert mean_share("L", dark_purple) > 0.4
    assert mean_share("RBC", dark_purple) < 0.01
    assert mean_share("M", dark_purple) < mean_share("L", dark_purple)
    # eosinophils carry orange-red granules, nobody else does
    assert mean_share("E", orange) > 0.1
    assert all(mean_share(label, orange) < 0.02 for label in ("L", "M", "N", "B"))
    # basophil granules are the darkest pixels of all
    assert mean_share("B", very_dark) > 3 * max(mean_share(k, very_dark) for k in "LMNE")
    # a red cell is paler in the middle (central pallor) than near its rim
    for cell in sample["RBC"][:5]:
        c = cell.shape[0] // 2
        middle = cell[c - 1 : c + 2, c - 1 : c + 2, :3].astype(int).sum()
        ring = cell[..., 3] > 200
        assert middle / 9 > cell[..., :3].astype(int)[ring].sum(-1).mean()


def test_real_relative_sizes(cells):
    sizes = {label: np.median([equivalent_diameter(c) for c in cells.generate(
        label, 15, partition="B", seed=2)]) for label in CELL_LABELS}
    assert sizes["RBC"] < sizes["L"] < sizes["N"] < sizes["M"]
    assert sizes["M"] / sizes["RBC"] == pytest.approx(17.0 / 7.5, rel=0.2)


def test_a_batch_of_cells_is_one_call(cells):
    # The speed (about 2 ms a cell) is measured by benchmarks/bench_sampling.py, not here.
    batch = cells.generate("N", 300, partition="A", seed=0)
    assert len(batch) == 300


def test_bad_input():
    with pytest.raises(bench.DataError, match="cell label"):
        cell_generator("procedural").generate("X", 1, partition="A", seed=0)
    with pytest.raises(bench.DataError, match="partition"):
        cell_generator("procedural").generate("L", 1, partition="C", seed=0)
    with pytest.raises(bench.DataError, match="no option 'scheduler'|no option scheduler"):
        cell_generator("procedural", scheduler="ddim")
