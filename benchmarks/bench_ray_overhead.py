"""Ray executor overhead: the same small matrix run locally and as Ray tasks on this machine.

Two small timm models x the two WBC-USID levels, one epoch each, quick protocol. The Ray time
includes starting and stopping a local Ray instance, as `bench run --executor ray` does.

    python benchmarks/bench_ray_overhead.py
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "WBC-USID"


def run_matrix(executor: str, args: argparse.Namespace, options: dict | None = None) -> float:
    import bench
    from bench.data import prepare_dataset
    from bench.engine.runner import RunRequest, run_benchmark

    os.environ["BENCH_HOME"] = tempfile.mkdtemp(prefix=f"bench-{executor}-")
    bench.reset()
    for name in ("wbc-usid-b", "wbc-usid-c"):
        prepare_dataset(name, args.data, progress=False, cache_size=args.image_size)
    protocol = bench.load_protocol("quick").with_overrides(
        training={"max_epochs": args.epochs}, input={"size": args.image_size}
    )
    request = RunRequest(models=args.models, sources=["wbc-usid-b,wbc-usid-c"], targets=["all"],
                         protocol=protocol, pretrained=False, executor=executor,
                         executor_options=options or {})
    started = time.perf_counter()
    results = run_benchmark(request)
    elapsed = time.perf_counter() - started
    assert all(r.status == "finished" for r in results), results
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["timm:resnet18,timm:mobilenetv3_small_050"])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--ray-cpus", type=int, default=1)
    args = parser.parse_args()
    local = run_matrix("local", args)
    on_ray = run_matrix("ray", args, {"cpus": args.ray_cpus})
    print(json.dumps({
        "benchmark": "ray_overhead",
        "cells": 4,
        "models": args.models,
        "image_size": args.image_size,
        "epochs": args.epochs,
        "cpus": os.cpu_count(),
        "ray_cpus_per_cell": args.ray_cpus,
        "local_seconds": round(local, 2),
        "ray_seconds": round(on_ray, 2),
        "ray_over_local": round(on_ray / local, 3),
        "ray_extra_seconds": round(on_ray - local, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
