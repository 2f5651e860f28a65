"""One epoch from the decoded cache vs torchvision ImageFolder + PIL, on LDWBC-like images.

Generates N smooth 1280x1280 JPEG "cells" (LDWBC's size) in five class folders, prepares them
as a ``folder:`` data set (parallel decode into the 256 px memory-mapped cache), then times one
epoch over the same N images through a DataLoader both ways, producing identical batches of
(32, 3, 256, 256) float tensors:

- ImageFolder + PIL: decode JPEG, Resize(256) + CenterCrop(256), to tensor, every epoch;
- cache: slice the memory map, to tensor; nothing is decoded.

Prints one JSON object. Usage: python benchmarks/bench_cache.py [--images 800] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

CLASSES = ("Lymphocyte", "Monocyte", "Neutrophil", "Eosinophil", "Basophil")


_noise: dict[int, Image.Image] = {}


def make_image(task: tuple[Path, int, int]) -> int:
    """A stained-smear-like picture: smooth background, red cells, a dark white cell, grain."""
    path, side, seed = task
    rng = np.random.default_rng(seed)
    background = rng.integers(170, 235, (24, 24, 3), dtype=np.uint8)
    image = Image.fromarray(background).resize((side, side), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):  # red cells
        x, y, r = rng.integers(0, side), rng.integers(0, side), rng.integers(side // 20, side // 10)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(205, 120, 130))
    c, r = side // 2, side // 5  # the white cell in the middle
    draw.ellipse((c - r, c - r, c + r, c + r), fill=tuple(int(v) for v in rng.integers(60, 140, 3)))
    if side not in _noise:  # sensor grain, so JPEGs are as large as real ones (~0.5 MB)
        _noise[side] = Image.effect_noise((side, side), 6).convert("RGB")
    grain = ImageChops.offset(_noise[side], int(rng.integers(side)), int(rng.integers(side)))
    ImageChops.add(image, grain, offset=-128).save(path, quality=90)
    return path.stat().st_size


def generate(root: Path, count: int, side: int, workers: int) -> int:
    tasks = []
    for index in range(count):
        folder = root / CLASSES[index % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        tasks.append((folder / f"cell_{index:05d}.jpg", side, index))
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(make_image, tasks, chunksize=8))


def epoch_seconds(loader) -> tuple[float, int]:
    start, seen = time.perf_counter(), 0
    for images, _labels in loader:
        seen += images.shape[0]
    return time.perf_counter() - start, seen


class CacheDataset:
    """Rows of a memory-mapped split as normalised float tensors (what a training loop reads)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        import torch

        image = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1)  # own copy
        return image.float().div_(255), int(self.labels[index])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=800)
    parser.add_argument("--side", type=int, default=1280)
    parser.add_argument("--cache-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="DataLoader workers and preparation processes")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cache-") as scratch:
        scratch_path = Path(scratch)
        os.environ["BENCH_HOME"] = str(scratch_path / "home")
        images_root = scratch_path / "ldwbc-like"
        start = time.perf_counter()
        total_bytes = generate(images_root, args.images, args.side, args.workers)
        generate_seconds = time.perf_counter() - start

        from bench.data import prepare_dataset

        start = time.perf_counter()
        dataset = prepare_dataset(f"folder:{images_root}", progress=False,
                                  cache_size=args.cache_size, workers=args.workers)
        prepare_seconds = time.perf_counter() - start
        peak_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        start = time.perf_counter()
        assert prepare_dataset(f"folder:{images_root}", progress=False,
                               cache_size=args.cache_size).reused
        again_seconds = time.perf_counter() - start

        import torch
        from torch.utils.data import ConcatDataset, DataLoader
        from torchvision import datasets, transforms

        torch.set_num_threads(1)
        loader_args = {"batch_size": args.batch_size, "num_workers": args.workers,
                       "shuffle": True, "generator": torch.Generator().manual_seed(0)}
        pil = datasets.ImageFolder(str(images_root), transform=transforms.Compose([
            transforms.Resize(args.cache_size), transforms.CenterCrop(args.cache_size),
            transforms.ToTensor()]))
        splits = [dataset.split(name, args.cache_size) for name in ("train", "val", "test")]
        cached = ConcatDataset([CacheDataset(s.images, s.labels) for s in splits])
        assert len(cached) == len(pil) == args.images

        results = {}
        for name, source in (("imagefolder_pil", pil), ("cache_memmap", cached)):
            seconds, seen = epoch_seconds(DataLoader(source, **loader_args))
            results[name] = {"seconds": round(seconds, 2),
                             "images_per_second": round(seen / seconds, 1)}
        # the read itself, without DataLoader workers and float conversion: shuffled rows
        order = np.random.default_rng(0).permutation(len(splits[0]))
        start = time.perf_counter()
        for begin in range(0, len(order), args.batch_size):
            np.array(splits[0].images[np.sort(order[begin : begin + args.batch_size])])
        raw_seconds = time.perf_counter() - start
        results["cache_raw_read_train_split"] = {
            "seconds": round(raw_seconds, 3),
            "images_per_second": round(len(order) / raw_seconds, 1)}
        cache_file = dataset.folder.cache_dir(args.cache_size) / "images.npy"
        print(json.dumps({
            "images": args.images,
            "source_side": args.side,
            "source_megabytes": round(total_bytes / 2**20, 1),
            "cache_size": args.cache_size,
            "cache_megabytes": round(cache_file.stat().st_size / 2**20, 1),
            "cores": os.cpu_count(),
            "workers": args.workers,
            "batch_size": args.batch_size,
            "generate_seconds": round(generate_seconds, 1),
            "prepare": {
                "seconds": round(prepare_seconds, 2),
                "images_per_second": round(args.images / prepare_seconds, 1),
                "peak_rss_mib_main": round(peak_main, 1),
                "peak_rss_mib_largest_worker": round(peak_worker, 1),
                "second_run_seconds": round(again_seconds, 2),
            },
            "epoch": results,
            "cache_speedup": round(results["imagefolder_pil"]["seconds"]
                                   / results["cache_memmap"]["seconds"], 1),
            "python": sys.version.split()[0],
        }, indent=2))


if __name__ == "__main__":
    main()
