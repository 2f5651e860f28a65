"""How long `bench site build` takes for a full benchmark store, and how large the site is.

Writes a synthetic store through the real scoring and store code: 7 models x 6 sources x 6
targets, one seed, 1,000 test images per target with their predictions (252 cells, 252,000
prediction rows) and a cost summary per run. Then builds the site (no data set is prepared in
the temporary data home, so no thumbnails), verifies it, and prints the figures as JSON.

    python benchmarks/bench_site.py [--images 1000] [--resamples 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

MODELS = ("vgg19", "resnet152", "inceptionv3", "densenet121", "mobilenetv3", "vit", "swin")
DATASETS = ("raabin", "aml", "pbc", "ldwbc", "wbc-usid-b", "wbc-usid-c")
SHARES = (0.30, 0.20, 0.35, 0.10, 0.05)  # an imbalanced test split, as in blood


def write_store(path: Path, images: int) -> int:
    import numpy as np

    import bench
    from bench.metrics import evaluate_predictions

    store = bench.open_store(path)
    counts = [round(images * share) for share in SHARES]
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(counts)])
    rng = np.random.default_rng(0)
    rows = 0
    for m, model in enumerate(MODELS):
        for source in DATASETS:
            cell = bench.Cell(model, source, 0, "zedda2024", "a" * 16, f"fp-{source}")
            run_id = store.claim(cell)
            evaluations = []
            for target in DATASETS:
                share = 0.95 - 0.01 * m if target == source else rng.uniform(0.3, 0.8)
                right = rng.random(len(labels)) < share
                predicted = np.where(right, labels, (labels + rng.integers(1, 5, len(labels))) % 5)
                confidence = rng.uniform(0.3, 0.99, len(labels))
                probabilities = np.tile(((1 - confidence) / 4)[:, None], (1, 5))
                probabilities[np.arange(len(labels)), predicted] = confidence
                paths = [f"{target}/test/{i:05d}.png" for i in range(len(labels))]
                evaluations.append(evaluate_predictions(target, f"fp-{target}", paths, labels,
                                                        probabilities))
                rows += len(labels)
            seconds = 600.0 * (m + 1)
            cost = {"wall_seconds": seconds * 1.1, "train_seconds": seconds,
                    "train_images_per_second": 250.0 / (m + 1), "eval_images_per_second": 900.0,
                    "peak_memory": {"bytes": (m + 2) * 2**30, "kind": "cuda-allocated"}}
            store.finish(run_id, evaluations, epochs=10, best_epoch=7,
                         summary={"cost": cost, "device_info": {"device": "cuda",
                                                                "gpu": "synthetic"}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="test images per target")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build the site here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BENCH_HOME"] = str(Path(tmp) / "home")
        from bench.site import SiteSettings, build_site, load_inputs, verify_site

        store = Path(tmp) / "results.sqlite"
        started = time.perf_counter()
        rows = write_store(store, args.images)
        written = time.perf_counter() - started
        out = args.keep or Path(tmp) / "site"
        settings = SiteSettings(resamples=args.resamples)
        started, cpu = time.perf_counter(), time.process_time()
        result = build_site(out, load_inputs(store_path=store), settings)
        build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        differences, checked = verify_site(out, load_inputs(store_path=store))
        verify = time.perf_counter() - started
        print(json.dumps({
            "store": {"models": len(MODELS), "sources": len(DATASETS), "targets": len(DATASETS),
                      "test_images_per_target": args.images, "prediction_rows": rows,
                      "write_seconds": round(written, 1)},
            "build_seconds": round(build, 1),
            "build_cpu_seconds": round(build_cpu, 1),
            "verify_seconds": round(verify, 1),
            "numbers_verified": checked,
            "differences": len(differences),
            "boards": result.boards, "model_pages": result.models, "cell_pages": result.cells,
            "files": result.files, "site_megabytes": round(result.bytes / 1e6, 1),
            "resamples": args.resamples,
            "cores": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }, indent=2))


if __name__ == "__main__":
    main()
