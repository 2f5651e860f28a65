"""Sampling time: the faithful DDPM-1000 sampler against DDIM-50 and DPM-Solver++-20.

Trains the tiny DDPM configuration for a few steps on procedural lymphocytes (the real training
path: checkpoint, EMA weights, saved scheduler), then samples the same cells with each
scheduler through ``ddpm:DIR`` and times them. Sampling cost does not depend on how well the
model is trained, only on network evaluations, so the ratios carry over to the paper network;
``--paper-batch`` also times one evaluation of the paper network to extrapolate what the
2,000-image data set (4,000 cells: central WBCs and RBCs) would take on this machine.

    python benchmarks/bench_sampling.py [--cells 8] [--paper-batch 4]
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
    args = parser.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as home:
        os.environ["BENCH_HOME"] = home
        from bench.generators import cell_generator

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
    }
    if args.paper_batch:
        result["paper_network"] = paper_network(args.paper_batch)
    print(json.dumps(result, indent=2))


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
