"""Sample quality: every sampler's cells are as close to the training set as its own images are.

A tiny DDPM is trained on a fixed synthetic set (eight purple discs on beige, 8x8) until its
loss is below a threshold; then the faithful DDPM-1000 sampler and the fast ones with their
default settings (DDIM-50, DPM-Solver++-20) each draw 16 cells, which are compared with the
training set by the colour histograms' distance and by the nearest-neighbour distance in a
4x4-colour-grid feature space. Random noise fails both, as do diffusers' default fast samplers
on this model (DDIM with eta 0 leaves noise; DPM-Solver++ without x0 clipping saturates).
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.generation.contract import cell_generator

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow  # 18 s of one core: 300 training steps (12 s), 1,070 evaluations

LOSS_THRESHOLD = 0.055  # mean noise-prediction MSE of the last 50 steps
MAX_STEPS = 600
SPREAD_FACTOR = 1.25  # a sample may lie this much further from the set than its images do
MAX_COLOUR_DISTANCE = 25.0  # grey levels; random noise is 86 away
MAX_SATURATED = 0.05


def train_until_threshold(folder, cells) -> dict:
    from bench_generators.cell_quality import CHECK_TRAINING

    generator = cell_generator(f"ddpm:{folder}")
    for steps in range(300, MAX_STEPS + 1, 100):  # resumes where the last round stopped
        info = generator.train("L", cells, partition="A", max_steps=steps, checkpoint_every=100,
                               **CHECK_TRAINING)
        if info["loss"] <= LOSS_THRESHOLD:
            break
    return info


def test_every_sampler_draws_cells_like_its_training_set(tmp_path):
    from bench_generators.cell_quality import (
        colour_distance,
        disc_cells,
        nearest_neighbour_distance,
        quality,
    )

    cells = disc_cells(8, size=8)
    info = train_until_threshold(tmp_path, cells)
    assert info["loss"] <= LOSS_THRESHOLD, f"not trained to the threshold in {MAX_STEPS} steps"
    spread = nearest_neighbour_distance(cells, cells, leave_one_out=True)

    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(16)]
    assert nearest_neighbour_distance(noise, cells) > 3 * SPREAD_FACTOR * spread
    assert colour_distance(noise, cells) > 2 * MAX_COLOUR_DISTANCE

    found = {}
    for scheduler in ("ddpm", "ddim", "dpm-solver"):  # each with its default steps
        sampler = cell_generator(f"ddpm:{tmp_path}", scheduler=scheduler, batch_size=16,
                                 device="cpu")
        found[scheduler] = quality(sampler.generate("L", 16, partition="A", seed=1), cells)
    report = f"training-set spread {spread:.4f}; {found}"
    for stats in found.values():
        assert stats["nearest_neighbour"] <= SPREAD_FACTOR * spread, report
        assert stats["colour_distance"] <= MAX_COLOUR_DISTANCE, report
        assert stats["saturated_share"] <= MAX_SATURATED, report

    # diffusers' own defaults, which these settings replace, fail the same check on this model
    from bench_generators.ddpm_cells import DdpmCells

    plain = {"ddim": ({}, {"eta": 0.0}),
             "dpm-solver": ({"algorithm_type": "dpmsolver++", "thresholding": False}, {})}
    for scheduler, (options, step) in plain.items():
        sampler = DdpmCells(tmp_path, scheduler=scheduler, batch_size=16, device="cpu",
                            scheduler_options=options, step_options=step)
        stats = quality(sampler.generate("L", 16, partition="A", seed=1), cells)
        assert stats["nearest_neighbour"] > SPREAD_FACTOR * spread, (scheduler, stats)
