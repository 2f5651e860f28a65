"""How long bootstrap intervals take for a full board: 7 models x 6 sources x 6 targets.

Writes a store with 1,000 stored test predictions per (run, target) through the real scoring
and store code (252 evaluations, 252,000 predictions), then times, separately: reading the
predictions, the bootstrap of every cell (all metrics and per-class values), and the whole
`leaderboard --cross --ci --marks significance` board rendered as Markdown (read, bootstrap,
build, render). Prints JSON.

    python benchmarks/bench_intervals.py [--images 1000] [--resamples 1000] [--seeds 1]
        [--marks significance|tiers]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

MODELS = ("vgg19", "resnet152", "mobilenetv3", "densenet121", "inceptionv3", "vit", "swin")
DATASETS = ("raabin", "aml", "pbc", "ldwbc", "wbc-usid-b", "wbc-usid-c")


def write_store(path: Path, images: int, seeds: int) -> int:
    import numpy as np

    import bench
    from bench.metrics import evaluate_predictions

    store = bench.open_store(path)
    rng = np.random.default_rng(0)
    # An imbalanced split, about as in blood smears.
    shares = np.array([0.3, 0.1, 0.5, 0.07, 0.03])
    labels = np.repeat(np.arange(5), np.round(shares * images).astype(int))[:images]
    paths = [f"{i:05d}.png" for i in range(len(labels))]
    written = 0
    for model in MODELS:
        for source in DATASETS:
            for seed in range(seeds):
                cell = bench.Cell(model, source, seed, "zedda2024", "a" * 16, f"fp-{source}")
                run_id = store.claim(cell)
                evaluations = []
                for target in DATASETS:
                    accuracy = 0.95 if target == source else rng.uniform(0.3, 0.8)
                    right = rng.random(len(labels)) < accuracy
                    predicted = np.where(right, labels, (labels + rng.integers(1, 5, len(labels)))
                                         % 5)
                    probabilities = rng.dirichlet(np.ones(5), len(labels))
                    probabilities[np.arange(len(labels)), predicted] += 1.0
                    probabilities /= probabilities.sum(axis=1, keepdims=True)
                    evaluations.append(evaluate_predictions(target, f"fp-{target}", paths,
                                                            labels, probabilities))
                    written += len(labels)
                store.finish(run_id, evaluations)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--marks", default="significance", choices=["significance", "tiers"])
    args = parser.parse_args()
    os.environ.setdefault("BENCH_DISABLE_PLUGINS", "datasets,models,generators")

    import bench
    import bench.leaderboard as lb
    from bench.leaderboard.intervals import bootstrap_cells, split_predictions
    from bench.metrics import PAPER_METRICS

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.sqlite"
        started = time.perf_counter()
        predictions_written = write_store(path, args.images, args.seeds)
        write_seconds = time.perf_counter() - started
        store = bench.open_store(path)
        names = lb.Names.from_registries()
        groups = lb.store_groups(store.scores(), names)
        settings = lb.IntervalSettings(resamples=args.resamples)
        ids = sorted({r for g in groups for r in g.cross["run_id"]})

        reads = []
        for _ in range(2):  # the first read after writing also pays for the cold file cache
            started = time.perf_counter()
            predictions = split_predictions(store.prediction_arrays(ids))
            reads.append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        bootstrap = bootstrap_cells(groups[0].cross, predictions, settings)
        bootstrap_seconds = time.perf_counter() - started
        bootstrap_cpu = time.process_time() - cpu

        started, cpu = time.perf_counter(), time.process_time()
        uncertainty = lb.group_bootstraps(groups, store, settings)
        boards = lb.build_boards(groups, names, layouts=("cross",), metrics=list(PAPER_METRICS),
                                 uncertainty=uncertainty, intervals=True, marks=args.marks)
        lb.render(boards, "md")
        board_seconds = time.perf_counter() - started
        board_cpu = time.process_time() - cpu

    print(json.dumps({
        "models": len(MODELS), "sources": len(DATASETS), "targets": len(DATASETS),
        "seeds": args.seeds, "images_per_target": args.images, "resamples": args.resamples,
        "marks": args.marks,
        "predictions": predictions_written,
        "cells": len(bootstrap.draws),
        "metrics_per_cell": len(next(iter(bootstrap.draws.values()))),
        "write_store_seconds": round(write_seconds, 2),
        "read_predictions_seconds_first_and_second": [round(t, 2) for t in reads],
        "bootstrap_seconds": round(bootstrap_seconds, 2),
        "bootstrap_cpu_seconds": round(bootstrap_cpu, 2),
        "board_with_ci_and_marks_seconds": round(board_seconds, 2),
        # CPU time of this process: what the wall time would be on an otherwise idle machine
        # (the code is single-threaded but for BLAS); the cores here are shared.
        "board_with_ci_and_marks_cpu_seconds": round(board_cpu, 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "cpu_count": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
