"""Sampling time and quality: the faithful DDPM-1000 sampler against DDIM-50 and DPM-Solver++-20.

Timing: trains the tiny DDPM configuration for a few steps on procedural lymphocytes (the real
training path: checkpoint, EMA weights, saved scheduler), then samples the same cells with each
scheduler through ``ddpm:DIR`` and times them. Sampling cost does not depend on how well the
model is trained, only on network evaluations, so the ratios carry over to the paper network;
``--paper-batch`` also times one evaluation of the paper network to extrapolate what the
2,000-image data set (4,000 cells: central WBCs and RBCs) would take on this machine.

Quality (``--quality``): the sample-quality check of tests/generators/test_ddpm_quality.py,
with numbers: a tiny DDPM trained on eight fixed discs until its loss is below 0.055, then 16
cells per sampler, with its default settings and with diffusers' plain ones, compared with the
training set (colour distance in grey levels, nearest-neighbour distance, saturated share).

    python benchmarks/bench_sampling.py [--cells 8] [--paper-batch 4] [--quality]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

RUNS = (("ddpm", 1000), ("ddim", 50), ("dpm-solver", 20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8, help="cells sampled per scheduler")
    parser.add_argument("--paper-batch", type=int, default=4,
                        help="batch for timing the paper network (0: skip)")
    parser.add_argument("--quality", action="store_true",
                        help="also run the sample-quality check and print its statistics")
    args = parser.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as home:
        os.environ["BENCH_HOME"] = home
        from bench.generation.contract import cell_generator

        started = time.perf_counter()
        cell_generator("procedural").generate("N", 300, partition="A", seed=0)
        procedural = (time.perf_counter() - started) / 300
        cells = cell_generator("procedural").generate("L", 8, partition="A", seed=0)
        checkpoint = Path(home) / "ddpm-tiny"
        cell_generator(f"ddpm:{checkpoint}").train("L", cells, partition="A", config="tiny")
        timings = {}
        for scheduler, steps in RUNS:
            sampler = cell_generator(f"ddpm:{checkpoint}", scheduler=scheduler, steps=steps,
                                     device="cpu")
            sampler.generate("L", 1, partition="A", seed=0)  # load the model outside the clock
            started = time.perf_counter()
            sampler.generate("L", args.cells, partition="A", seed=1)
            timings[f"{scheduler}-{steps}"] = time.perf_counter() - started
    slow = timings["ddpm-1000"]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU",
        "model": "tiny (16x16, channels 16/32, 1 layer per block)",
        "cells_per_scheduler": args.cells,
        "seconds": {name: round(seconds, 3) for name, seconds in timings.items()},
        "seconds_per_cell": {name: round(seconds / args.cells, 4)
                             for name, seconds in timings.items()},
        "speed-up_vs_ddpm-1000": {name: round(slow / seconds, 1)
                                  for name, seconds in timings.items()},
        "procedural_seconds_per_cell": round(procedural, 5),
    }
    if args.paper_batch:
        result["paper_network"] = paper_network(args.paper_batch)
    if args.quality:
        result["quality"] = quality()
    print(json.dumps(result, indent=2))


# diffusers' own settings of the fast samplers, which the project's defaults replace
PLAIN = {"ddim": ({}, {"eta": 0.0}),
         "dpm-solver": ({"algorithm_type": "dpmsolver++", "thresholding": False}, {})}


def quality(threshold: float = 0.055, samples: int = 16) -> dict:
    """Train the check's tiny DDPM on eight discs, then measure each sampler's cells."""
    from bench_generators.cell_quality import (
        CHECK_TRAINING,
        disc_cells,
        nearest_neighbour_distance,
    )
    from bench_generators.cell_quality import quality as measure
    from bench_generators.ddpm_cells import DdpmCells

    cells = disc_cells(8, size=8)
    with tempfile.TemporaryDirectory() as folder:
        generator = DdpmCells(folder, device="cpu")
        started = time.perf_counter()
        for steps in range(300, 601, 100):
            info = generator.train("L", cells, partition="A", max_steps=steps,
                                   checkpoint_every=100, **CHECK_TRAINING)
            if info["loss"] <= threshold:
                break
        trained = time.perf_counter() - started
        found = {}
        for name, steps in RUNS:
            sampler = DdpmCells(folder, scheduler=name, batch_size=samples, device="cpu")
            found[f"{name}-{steps}"] = measure(
                sampler.generate("L", samples, partition="A", seed=1), cells)
        for name, (options, step) in PLAIN.items():
            sampler = DdpmCells(folder, scheduler=name, batch_size=samples, device="cpu",
                                scheduler_options=options, step_options=step)
            found[f"{name}-{sampler.steps} (diffusers' defaults)"] = measure(
                sampler.generate("L", samples, partition="A", seed=1), cells)
    spread = nearest_neighbour_distance(cells, cells, leave_one_out=True)
    return {
        "training": {"steps": info["step"], "loss": round(info["loss"], 4),
                     "seconds": round(trained, 1)},
        "training_set_nearest_neighbour_spread": round(spread, 4),
        "pass_limits": {"nearest_neighbour": round(1.25 * spread, 4), "colour_distance": 25.0,
                        "saturated_share": 0.05},
        "samplers": found,
    }


def paper_network(batch: int) -> dict:
    """One evaluation of the paper's UNet at 64x64, and what 4,000 cells would cost."""
    import torch
    from bench_generators.ddpm_model import PRESETS, build_unet

    unet = build_unet(PRESETS["paper"]).eval()
    x = torch.randn(batch, 3, 64, 64)
    with torch.inference_mode():
        unet(x, 999)
        started = time.perf_counter()
        unet(x, 500)
        per_step = time.perf_counter() - started
    evaluations = 4000 / batch
    return {
        "parameters_million": round(sum(p.numel() for p in unet.parameters()) / 1e6, 1),
        "batch": batch,
        "seconds_per_evaluation": round(per_step, 3),
        "hours_for_4000_cells": {f"{name}-{steps}": round(evaluations * steps * per_step / 3600,
                                                          1) for name, steps in RUNS},
    }


if __name__ == "__main__":
    main()
