"""How long leaderboards take to build and render from a store of ~10,000 score rows.

Writes a synthetic store through the public store API (two protocols, a data set with two
split fingerprints, several seeds), then times each step and prints the figures as JSON.

    python benchmarks/bench_leaderboard.py [--rows 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

METRICS = ("accuracy", "precision", "recall", "f1", "macro_f1", "balanced_accuracy")
DATASETS = ("raabin", "aml", "pbc", "ldwbc", "wbc-usid-b", "wbc-usid-c")


def write_store(path: Path, rows: int, seeds: int = 3) -> int:
    import bench

    store = bench.open_store(path)
    per_model = len(DATASETS) * seeds * len(DATASETS) * len(METRICS)
    models = math.ceil(rows / per_model)
    rng = random.Random(0)
    written = 0
    for m in range(models):
        # Every fourth model ran under the quick protocol; every third on a re-prepared
        # wbc-usid-c split, so both protocols' boards split by fingerprint too.
        protocol, digest = ("quick", "b" * 16) if m % 4 == 3 else ("zedda2024", "a" * 16)
        fingerprints = {d: f"fp-{d}" for d in DATASETS}
        if m % 3 == 2:
            fingerprints["wbc-usid-c"] = "fp-wbc-usid-c-v2"
        for source in DATASETS:
            for seed in range(seeds):
                cell = bench.Cell(f"model{m:02d}", source, seed, protocol, digest,
                                  fingerprints[source])
                run_id = store.claim(cell)
                evaluations = []
                for target in DATASETS:
                    base = 0.95 if target == source else rng.uniform(0.2, 0.8)
                    metrics = {k: min(1.0, base + rng.uniform(-0.02, 0.02)) for k in METRICS}
                    evaluations.append(bench.Evaluation(
                        target, fingerprints[target], metrics, list(bench.CLASSES),
                        dict.fromkeys(bench.CLASSES, 100),
                        [[100 if i == j else 0 for j in range(5)] for i in range(5)],
                    ))
                    written += len(metrics)
                store.finish(run_id, evaluations)
    return written


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["BENCH_HOME"] = home
        import bench
        import bench.leaderboard as lb

        path = Path(home) / "results.sqlite"
        start = time.perf_counter()
        written = write_store(path, args.rows)
        write_s = time.perf_counter() - start
        store = bench.open_store(path)
        names = lb.Names.from_registries()
        read_s, frame = timed(store.scores, args.repeat)
        groups_s, groups = timed(lambda: lb.store_groups(frame, names), args.repeat)

        def build(layouts: tuple[str, ...], summary: str | None) -> list:
            return lb.build_boards(groups, names, layouts=layouts, metrics=list(METRICS[:4]),
                                   summary_metric=summary, date="2025-01-01")

        same_s, same = timed(lambda: build(("same",), None), args.repeat)
        cross_s, _ = timed(lambda: build(("cross",), None), args.repeat)
        full_s, full = timed(lambda: build(("same", "cross"), "f1"), args.repeat)
        render_s = {fmt: timed(lambda fmt=fmt: lb.render(full, fmt), args.repeat)[0]
                    for fmt in lb.FORMATS}

        def end_to_end() -> str:
            frame = store.scores()
            boards = lb.build_boards(lb.store_groups(frame, names), names,
                                     layouts=("same", "cross"), metrics=list(METRICS[:4]),
                                     summary_metric="f1", date="2025-01-01")
            return lb.render(boards, "md")

        total_s, text = timed(end_to_end, args.repeat)
        print(json.dumps({
            "score_rows": int(len(frame)),
            "score_rows_written": written,
            "boards": len(full),
            "tables": sum(len(b.tables) for b in full),
            "markdown_chars": len(text),
            "write_store_s": round(write_s, 3),
            "median_seconds": {
                "read_scores": round(read_s, 4),
                "split_comparable_groups": round(groups_s, 4),
                "build_same_dataset": round(same_s, 4),
                "build_cross_dataset": round(cross_s, 4),
                "build_same_cross_summary": round(full_s, 4),
                **{f"render_{fmt}": round(s, 4) for fmt, s in render_s.items()},
                "end_to_end_markdown": round(total_s, 4),
            },
            "repeat": args.repeat,
            "same_rows_first_board": len(same[0].tables[0].rows),
        }, indent=2))


if __name__ == "__main__":
    main()
