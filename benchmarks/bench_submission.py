"""How large a submission's predictions file is, and how long publishing and checking take.

Writes a store of 42 cells (7 models x 2 sources x 3 seeds, the published WBC-USID splits and
the real `quick` protocol) tested on WBC-USID-B's 1,000-image test split, through the real
scoring and store code, with probabilities as a trained model gives them (float32 softmax).
Then times `bench leaderboard --publish` (which checks before it writes) and `--check`, and
reports the size of each file. Prints JSON.

With ``--shifts stain,blur`` every run is tested as issue 30's board is: both levels, and
each shift at severities 1 to 5 of both (22 targets), so the board has its shift table.

    python benchmarks/bench_submission.py [--seeds 3] [--shifts stain,blur]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

MODELS = ("vgg19", "resnet152", "mobilenetv3", "densenet121", "inceptionv3", "vit", "swin")
SOURCES = ("wbc-usid-b", "wbc-usid-c")
TARGET = "wbc-usid-b"


def targets(shifts: list[str]) -> list[str]:
    if not shifts:
        return [TARGET]
    return [*SOURCES, *(f"{base}~{shift}:{level}" for base in SOURCES for shift in shifts
                        for level in range(1, 6))]


def write_store(path: Path, seeds: int, shifts: list[str]) -> int:
    import numpy as np

    import bench
    from bench.leaderboard.truth import derived_fingerprint, shipped_split
    from bench.metrics import evaluate_predictions
    from bench.protocols import load_protocol
    from bench.shifts.target_names import parse_name

    store = bench.open_store(path)
    quick = load_protocol("quick")
    splits = {name: shipped_split(name) for name in SOURCES}
    tests = {}  # target -> (keys, labels, split fingerprint)
    for target in targets(shifts):
        split = splits[target.partition("~")[0]]
        keys = sorted(split.labels)
        tests[target] = (keys, np.array([split.labels[k] for k in keys]),
                         split.fingerprint if "~" not in target
                         else derived_fingerprint(split.fingerprint, parse_name(target)))
    rng = np.random.default_rng(0)
    cells = 0
    for model in MODELS:
        for source in SOURCES:
            for seed in range(seeds):
                cell = bench.Cell(model, source, seed, quick.name, quick.hash,
                                  splits[source].fingerprint)
                run_id = store.claim(cell)
                evaluations = []
                for target, (keys, labels, fingerprint) in tests.items():
                    logits = rng.normal(0, 1, (len(labels), 5))
                    right = rng.random(len(labels)) < rng.uniform(0.6, 0.95)
                    logits[np.arange(len(labels)), np.where(right, labels, (labels + 1) % 5)] \
                        += rng.uniform(1, 8, len(labels))
                    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                    evaluations.append(evaluate_predictions(
                        target, fingerprint, keys, labels, probabilities.astype(np.float32)))
                store.finish(run_id, evaluations)
                cells += 1
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shifts", default="", help="e.g. stain,blur: severities 1-5 of both")
    args = parser.parse_args()
    shifts = [s for s in args.shifts.split(",") if s]
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BENCH_HOME"] = str(Path(folder) / "home")
        from click.testing import CliRunner

        from bench.cli import cli

        store, out = Path(folder) / "results.sqlite", Path(folder) / "boards"
        cells = write_store(store, args.seeds, shifts)
        started = time.perf_counter()
        published = CliRunner().invoke(cli, ["leaderboard", "--store", str(store), "--publish",
                                             "--out-dir", str(out), "--cross"])
        publish_seconds = time.perf_counter() - started
        started = time.perf_counter()
        checked = CliRunner().invoke(cli, ["leaderboard", "--check", str(out), "--strict"])
        check_seconds = time.perf_counter() - started
        print(json.dumps({
            "cells": cells,
            "targets": len(targets(shifts)),
            "target_images": 1000,
            "prediction_rows": cells * len(targets(shifts)) * 1000,
            "publish_exit": published.exit_code,
            "check_exit": checked.exit_code,
            "publish_seconds (checks first)": round(publish_seconds, 2),
            "check_seconds": round(check_seconds, 2),
            "bytes": {p.name.split(".", 1)[1]: p.stat().st_size for p in sorted(out.iterdir())},
        }, indent=2))


if __name__ == "__main__":
    main()
