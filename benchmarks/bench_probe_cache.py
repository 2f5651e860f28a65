"""A probe run on a cold embedding cache vs the next probes on the same backbone (cache warm).

Prepares WBC-USID-B (the real release, read-only, by path) into a temporary data home, then
runs, each as `bench run` would through the Python API, with the process's memory of weights
hashes cleared before each so every run builds and hashes its backbone as a new process does:

1. ``linear-probe``, seed 0: every image embedded (train, val, test), the cache written;
2. ``knn``, seed 0: every embedding read from the cache;
3. ``linear-probe --shots 1,5`` and ``knn --shots 1,5``, seed 1: four more cells, cache only.

Then the second run once more as a separate ``bench run`` process (imports, plugin discovery
and model build included). Prints one JSON object: wall and CPU seconds and backbone passes of
each, and the cached runs' time as a fraction of the first (CPU time too: on a machine shared
with other jobs it is the steadier figure).

Usage: python benchmarks/bench_probe_cache.py [--model timm:test_vit] [--release PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RELEASE = Path(__file__).resolve().parents[2] / "shared" / "data" / "WBC-USID"


def timed_run(model: str, protocol: str, *, seed: int, shots: list) -> dict:
    import bench
    from bench.engine import backbone
    from bench.engine.run_display import QuietListener
    from bench.engine.runner import RunRequest, run_benchmark

    backbone._KNOWN_HASHES.clear()  # as a new process: build and hash the backbone again
    request = RunRequest(models=[model], sources=["wbc-usid-b"], targets=["wbc-usid-b"],
                         protocol=bench.load_protocol(protocol), seeds=[seed], shots=shots,
                         pretrained=False, device="cpu")
    started, cpu = time.perf_counter(), time.process_time()
    results = run_benchmark(request, QuietListener())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store = bench.open_store()
    runs = [store.run(result.cell.id) for result in results]
    failed = [r.detail for r in results if r.status != "finished"]
    if failed:
        raise SystemExit(f"a cell failed: {failed[0]}")
    return {"protocol": protocol, "seed": seed, "shots": shots or ["all"],
            "cells": len(results), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "backbone_passes": sum(r["summary"]["probe"]["backbone_passes"] for r in runs),
            "f1": [round(100 * r.scores["wbc-usid-b"]["f1"], 1) for r in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:test_vit")
    parser.add_argument("--release", type=Path, default=RELEASE)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-probe-cache-"))
    os.environ["BENCH_HOME"] = str(home)
    import torch

    import bench
    from bench.data import prepare_dataset

    prepare_dataset("wbc-usid-b", source=args.release, progress=False)
    first = timed_run(args.model, "linear-probe", seed=0, shots=[])
    second = timed_run(args.model, "knn", seed=0, shots=[])
    more = [timed_run(args.model, protocol, seed=1, shots=[1, 5])
            for protocol in ("linear-probe", "knn")]
    command = [sys.executable, "-m", "bench.cli", "run", "--model", args.model, "--protocol",
               "knn", "--source", "wbc-usid-b", "--target", "wbc-usid-b", "--no-pretrained",
               "--seed", "2", "--device", "cpu", "--json"]
    started, children = time.perf_counter(), _children_cpu()
    process = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    cli_seconds, cli_cpu = time.perf_counter() - started, _children_cpu() - children
    if process.returncode:
        raise SystemExit(process.stderr)
    [row] = json.loads(process.stdout)
    cli_passes = bench.open_store().run(row["run_id"])["summary"]["probe"]["backbone_passes"]
    print(json.dumps({
        "benchmark": "probe embedding cache",
        "model": args.model,
        "data": "WBC-USID-B: 750 train, 250 val, 1000 test images",
        "device": "cpu", "threads": torch.get_num_threads(), "cores": os.cpu_count(),
        "first_run": first,
        "second_run": second,
        "more_runs": more,
        "second_run_fraction_of_first": round(second["seconds"] / first["seconds"], 4),
        "second_run_cpu_fraction_of_first": round(second["cpu_seconds"] / first["cpu_seconds"],
                                                  4),
        "per_cached_cell_fraction_of_first": round(
            sum(r["seconds"] for r in more) / sum(r["cells"] for r in more) / first["seconds"],
            4),
        "second_run_as_a_process": {
            "seconds": round(cli_seconds, 2), "cpu_seconds": round(cli_cpu, 2),
            "backbone_passes": cli_passes,
            "fraction_of_first": round(cli_seconds / first["seconds"], 4),
            "cpu_fraction_of_first": round(cli_cpu / first["cpu_seconds"], 4)},
    }, indent=2))
    shutil.rmtree(home, ignore_errors=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
