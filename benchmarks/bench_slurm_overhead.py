"""Slurm executor overhead: the same small matrix run locally and as submitit jobs here.

The matrix of bench_ray_overhead.py (two small timm models x the two WBC-USID levels, one
epoch, quick protocol), run by the local executor and by `--executor slurm --slurm-cluster
local`: every cell a job process started through submitit (pickling, a fresh interpreter, the
imports, the result read back), as on a cluster but without its queue. Jobs run at once, so
compare on a machine with a core per job.

    python benchmarks/bench_slurm_overhead.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench_ray_overhead import SHARED, run_matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["timm:resnet18,timm:mobilenetv3_small_050"])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs (torch threads) per job")
    args = parser.parse_args()
    local = run_matrix("local", args)
    jobs = run_matrix("slurm", args, {"cluster": "local", "gpus": 0, "cpus": args.cpus})
    print(json.dumps({
        "benchmark": "slurm_overhead",
        "cells": 2 * sum(len(names.split(",")) for names in args.models),  # x two sources
        "models": args.models,
        "image_size": args.image_size,
        "epochs": args.epochs,
        "cpus": os.cpu_count(),
        "cpus_per_job": args.cpus,
        "local_seconds": round(local, 2),
        "slurm_local_seconds": round(jobs, 2),
        "slurm_over_local": round(jobs / local, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
