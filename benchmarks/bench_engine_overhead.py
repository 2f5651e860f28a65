"""Harness overhead: one training epoch through bench against the model's pure compute.

The pure loop runs forward, loss, backward and an SGD step on random tensors already in memory,
with the same model, batch size, input size and number of batches. The ratio is what everything
else costs (reading the cache, augmentation, sampling, collation, bookkeeping). Target <= 1.15.

    python benchmarks/bench_engine_overhead.py --model timm:resnet18 --image-size 64
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "WBC-USID"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:resnet18")
    parser.add_argument("--source", default="wbc-usid-c")
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("BENCH_HOME", tempfile.mkdtemp(prefix="bench-overhead-"))

    import torch

    import bench
    from bench.data import prepare_dataset
    from bench.engine.plans import CellPlan
    from bench.engine.run_display import QuietListener
    from bench.engine.training import _Trainer

    prepare_dataset(args.source, args.data, progress=False, cache_size=args.image_size)
    protocol = bench.load_protocol("zedda2024").with_overrides(
        training={"batch_size": args.batch_size},
        input={"size": args.image_size, "cache_size": args.image_size},
    )
    plan = CellPlan(model=args.model, source=args.source, targets=[args.source], seed=0,
                    protocol=protocol, checkpoint_dir=Path(bench.data_home()) / "overhead",
                    device="cpu", workers=args.workers, pretrained=False)
    trainer = _Trainer(plan, QuietListener())
    images = trainer._images(trainer.source, "train")
    batches = len(images) // args.batch_size

    def harness_epoch(epoch: int) -> float:
        started = time.perf_counter()
        trainer._train_epoch(images, epoch)
        return time.perf_counter() - started

    def pure_epoch() -> float:
        model, optimizer, loss_fn = trainer.model, trainer.optimizer, trainer.loss_fn
        x = torch.randn(args.batch_size, 3, args.image_size, args.image_size)
        y = torch.randint(0, 5, (args.batch_size,))
        model.train()
        started = time.perf_counter()
        for _ in range(batches):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        return time.perf_counter() - started

    harness_epoch(0)  # warm-up: page cache, allocator, worker start
    pure_epoch()
    harness = min(harness_epoch(e + 1) for e in range(args.repeats))
    pure = min(pure_epoch() for _ in range(args.repeats))
    print(json.dumps({
        "benchmark": "engine_overhead",
        "model": args.model,
        "source": args.source,
        "image_size": args.image_size,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "torch_threads": torch.get_num_threads(),
        "train_images": len(images),
        "batches": batches,
        "harness_epoch_seconds": round(harness, 3),
        "pure_compute_seconds": round(pure, 3),
        "overhead_ratio": round(harness / pure, 3),
        "harness_images_per_second": round(batches * args.batch_size / harness, 1),
        "pure_images_per_second": round(batches * args.batch_size / pure, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
