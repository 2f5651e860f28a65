"""What the shift suite costs: perturbing and caching one WBC-USID level's test split. Prints JSON.

    python benchmarks/bench_shifts.py PATH/WBC-USID [--dataset wbc-usid-b] [--severity 3]
        [--size 256] [--suite v2]

Prepares the level (both splits, cache at --size) in a temporary data home, then builds each
shift's test set at one severity (every test image shifted and written to its own cache,
content-hashed) and opens it a second time (a cache hit: no image is shifted again). Suite v2
reads and decodes every source file again (shifts apply to the published image); v1 shifts
the base cache's images.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("release", type=Path, help="the WBC-USID release root")
    parser.add_argument("--dataset", default="wbc-usid-b")
    parser.add_argument("--severity", default="3")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--suite", default=None, help="v1 or v2 (default: the default suite)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-shifts-"))
    os.environ["BENCH_HOME"] = str(work)
    try:
        import bench
        from bench.data import prepare_dataset
        from bench.data.parallel import available_cores
        from bench.shifts.dataset import load_shifted
        from bench.shifts.suite import load_suite

        bench.reset()
        suite = load_suite(args.suite)
        started = time.perf_counter()
        prepared = prepare_dataset(args.dataset, args.release, progress=False,
                                   cache_size=args.size)
        prepare_seconds = time.perf_counter() - started
        images = len(prepared.split("test", args.size))
        shifts = {}
        for shift in suite.shifts:
            name = f"{args.dataset}~{shift}:{args.severity}"
            started, cpu = time.perf_counter(), time.process_time()
            load_shifted(name, suite).split("test", args.size)
            build, cpu = time.perf_counter() - started, time.process_time() - cpu
            started = time.perf_counter()
            load_shifted(name, suite).split("test", args.size)
            shifts[shift] = {"build_seconds": round(build, 2), "cpu_seconds": round(cpu, 2),
                             "images_per_second": round(images / build, 1),
                             "reopen_seconds": round(time.perf_counter() - started, 4)}
        print(json.dumps({
            "dataset": args.dataset, "test_images": images, "size": args.size,
            "severity": args.severity, "suite": f"v{suite.version}", "suite_hash": suite.hash,
            "cores": available_cores(),
            "cpu": platform.processor() or platform.machine(),
            "prepare_seconds": round(prepare_seconds, 1),
            "shifts": shifts,
            "all_shifts_seconds": round(sum(s["build_seconds"] for s in shifts.values()), 1),
            "all_shifts_cpu_seconds": round(sum(s["cpu_seconds"] for s in shifts.values()), 1),
        }, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
