"""Preparation and training at LDWBC's scale: 1,000, 4,000 and 22,645 JPEGs of 1280x1280.

Generates an LDWBC-like set (LDWBC's size and class proportions, 10,445 / 968 / 10,469 / 539 /
224 for L / M / N / E / B; smooth stained background, red cells, a dark white cell, sensor grain,
about 0.35 MB a file) once into ``--images`` (kept between runs: generating it is the slow
part), with the smaller sets as hard-linked subsets in the same proportions. Then:

- prepares each set as ``ldwbc`` with ``bench datasets prepare`` in a fresh data home (the
  smaller sizes alternately, ``--repeats`` times; the largest once), sampling the resident
  memory of the command and of all its worker processes together every 50 ms (anonymous
  memory, what a process holds, apart from file-backed pages, which are the kernel's page
  cache mapped in); reports time, images/s, peaks and the size of the cache on disk;
- trains one epoch at 64 px over the largest set's training split and over the smallest's
  (before and after it), after the same short warm-up, and compares images/s.

Prints one JSON object. Goals: time linear in the number of images, peak memory under 2 GB
at 22,645 images, the cache memory-mapped (not loaded), training images/s at 22,645 within
10 % of the 1,000-image figure.

    python benchmarks/bench_scale.py [--sizes 1000,4000,22645] [--images /tmp/bench-scale-ldwbc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

LDWBC = {"Lymphocyte": 10445, "Monocyte": 968, "Neutrophil": 10469, "Eosinophil": 539,
         "Basophil": 224}
SIDE = 1280
GENERATOR = "ldwbc-like v1"  # change when the pictures change: the kept set is then redone
MIB = 2**20


# -- the images ----------------------------------------------------------------------------

def class_counts(total: int) -> dict[str, int]:
    """LDWBC's class proportions scaled to ``total`` (largest remainder, so they sum up)."""
    full = sum(LDWBC.values())
    exact = {name: count * total / full for name, count in LDWBC.items()}
    counts = {name: int(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda name: exact[name] - counts[name], reverse=True)
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


_grain = None


def _draw(task: tuple[str, int]) -> None:
    """One picture: blurry stain, 8-15 red cells, a white cell in the middle, grain; JPEG 90."""
    from PIL import Image, ImageChops, ImageDraw

    global _grain
    path, seed = task
    if _grain is None:  # one noise tile per worker; each picture takes a window of it
        noise = np.random.default_rng(2024).normal(128, 6, (2 * SIDE, 2 * SIDE, 3))
        _grain = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
    rng = np.random.default_rng(seed)
    stain = rng.integers(170, 235, (6, 6, 3), dtype=np.uint8)
    image = Image.fromarray(stain).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    count = int(rng.integers(8, 16))
    for x, y, r in zip(rng.integers(0, SIDE, count), rng.integers(0, SIDE, count),
                       rng.integers(SIDE // 20, SIDE // 10, count), strict=True):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(205, 120, 130))
    centre, radius = SIDE // 2, int(rng.integers(SIDE // 7, SIDE // 4))
    colour = tuple(int(v) for v in rng.integers(60, 140, 3))
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius),
                 fill=colour)
    left, top = (int(v) for v in rng.integers(0, SIDE, 2))
    grain = _grain.crop((left, top, left + SIDE, top + SIDE))
    partial = Path(path + ".partial")
    ImageChops.add(image, grain, offset=-128).save(partial, "JPEG", quality=90)
    os.replace(partial, path)  # an interrupted run never leaves a torn file behind


def generate(images: Path, total: int, workers: int) -> float:
    """Make the full set under ``images/all`` (resuming); return the seconds it took."""
    root, marker = images / "all", images / "all.json"
    wanted = {"generator": GENERATOR, "side": SIDE, "counts": class_counts(total)}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return 0.0
    order = []  # interleaved by class share, so the smaller sets are ready early
    for offset, (name, count) in enumerate(wanted["counts"].items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        order += [((index + 0.5) / count, name, offset * 100_000 + index, index)
                  for index in range(count)]
    tasks = [(str(path), seed) for _, name, seed, index in sorted(order)
             if not (path := root / name / f"{name.lower()}_{index:05d}.jpg").is_file()]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_draw, tasks, chunksize=32))
    marker.write_text(json.dumps(wanted))
    return time.perf_counter() - started


def subset(images: Path, total: int) -> Path:
    """The first images of each class of the full set, in LDWBC's proportions (hard links)."""
    root = images / f"n{total}"
    for name, count in class_counts(total).items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            link = root / name / f"{name.lower()}_{index:05d}.jpg"
            if not link.exists():
                os.link(images / "all" / name / link.name, link)
    return root


# -- memory of a process tree ----------------------------------------------------------------

def _status_kib(pid: int) -> dict[str, int]:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                fields[key] = int(value.split()[0])
    return fields


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            parents.setdefault(parent, []).append(int(entry))
    tree, queue = [], [root]
    while queue:
        pid = queue.pop()
        tree.append(pid)
        queue.extend(parents.get(pid, []))
    return tree


class TreeMemory(threading.Thread):
    """Peak resident memory of a process and all its descendants, summed, every 50 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.peaks = dict.fromkeys(("main_rss", "main_anon", "all_rss", "all_anon", "all_file",
                                    "processes"), 0)

    def run(self) -> None:
        while not self.done.wait(0.05):
            total = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
            pids = _descendants(self.pid)
            for pid in pids:
                try:
                    fields = _status_kib(pid)
                except OSError:
                    continue
                for key in total:
                    total[key] += fields.get(key, 0)
                if pid == self.pid:
                    self._peak("main_rss", fields.get("VmRSS", 0))
                    self._peak("main_anon", fields.get("RssAnon", 0))
            self._peak("all_rss", total["VmRSS"])
            self._peak("all_anon", total["RssAnon"])
            self._peak("all_file", total["RssFile"])
            self._peak("processes", len(pids))

    def _peak(self, key: str, value: int) -> None:
        self.peaks[key] = max(self.peaks[key], value)

    def mib(self) -> dict[str, float]:
        return {f"peak_{key}_mib" if key != "processes" else "processes":
                round(value / 1024, 1) if key != "processes" else value
                for key, value in self.peaks.items()}


def measured(command: list[str], env: dict[str, str]) -> tuple[dict, str]:
    """Run ``command``; return its wall time and memory peaks, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    sampler = TreeMemory(process.pid)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if process.returncode:
        sys.exit(f"{' '.join(command[:6])} ... failed:\n{err[-3000:]}")
    return {"seconds": round(seconds, 2), **sampler.mib()}, out


# -- the measurements ------------------------------------------------------------------------

def prepare_point(source: Path, home: Path, count: int) -> dict:
    env = {**os.environ, "BENCH_HOME": str(home)}
    command = [sys.executable, "-m", "bench.cli", "datasets", "prepare", "ldwbc",
               "--from", str(source), "--json"]
    figures, _ = measured(command, env)
    prepared = json.loads((home / "datasets" / "ldwbc" / "prepared.json").read_text())
    if prepared["total"] != count:
        sys.exit(f"prepared {prepared['total']} of {count} images: see the audit in {home}")
    cache = home / "datasets" / "ldwbc" / "cache" / f"{prepared['cache_size']}px" / "images.npy"
    return {**figures, "images_per_second": round(count / figures["seconds"], 1),
            "cache_size": prepared["cache_size"],
            "cache_mib": round(cache.stat().st_size / MIB, 1)}


def train_child(image_size: int, batch_size: int, epochs: int, model: str) -> None:
    """(In a subprocess) time ``epochs`` training epochs over ``ldwbc`` after a short warm-up."""
    import bench
    from bench.engine.loading import CachedImages
    from bench.engine.run_display import QuietListener
    from bench.engine.training import CellPlan, _Trainer

    protocol = bench.load_protocol("zedda2024").with_overrides(
        training={"batch_size": batch_size}, input={"size": image_size})
    plan = CellPlan(model=model, source="ldwbc", targets=["ldwbc"], seed=0, protocol=protocol,
                    checkpoint_dir=Path(bench.data_home()) / "scale", device="cpu",
                    pretrained=False)
    trainer = _Trainer(plan, QuietListener())
    before = _status_kib(os.getpid())
    train = trainer._images(trainer.source, "train")
    opened = _status_kib(os.getpid())
    rows = np.sort(np.random.default_rng(0).choice(len(train), 2 * batch_size, replace=False))
    trainer._train_epoch(CachedImages(np.asarray(train.images[rows]), train.labels[rows]), 0)
    rates = [trainer._train_epoch(train, epoch)["images_per_second"]
             for epoch in range(1, epochs + 1)]
    after = _status_kib(os.getpid())
    print(json.dumps({
        "train_images": len(train),
        "cache_size": trainer.cache_size,
        "images_per_second": [round(rate, 1) for rate in rates],
        "cache_is_memory_map": isinstance(train.images, np.memmap),
        "cache_mib_train_split": round(train.images.nbytes / MIB, 1),
        "anonymous_mib_added_by_opening": round((opened["RssAnon"] - before["RssAnon"]) / 1024,
                                                1),
        "file_backed_mib_after_epochs": round(after["RssFile"] / 1024, 1),
        "anonymous_mib_after_epochs": round(after["RssAnon"] / 1024, 1),
    }))


def train_point(home: Path, args, epochs: int) -> dict:
    env = {**os.environ, "BENCH_HOME": str(home)}
    command = [sys.executable, __file__, "--train-child", str(args.image_size),
               str(args.batch_size), str(epochs), args.model]
    figures, out = measured(command, env)
    return {**json.loads(out.strip().splitlines()[-1]), **figures}


def folder_mib(root: Path) -> float:
    return round(sum(f.stat().st_size for f in root.rglob("*.jpg")) / MIB, 1)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--train-child":
        size, batch, epochs, model = sys.argv[2:6]
        train_child(int(size), int(batch), int(epochs), model)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,22645",
                        help="comma list; the largest is prepared once, the others --repeats "
                             "times, alternately")
    parser.add_argument("--images", type=Path, default=Path(tempfile.gettempdir())
                        / "bench-scale-ldwbc", help="where the generated set is kept")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes generating the images")
    parser.add_argument("--model", default="timm:mobilenetv3_small_050",
                        help="light, so the epoch measures the data path more than compute")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--small-epochs", type=int, default=2,
                        help="timed epochs over the smallest set, before and after the largest")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    smallest, largest = sizes[0], sizes[-1]
    load = [os.getloadavg()[0]]

    generate_seconds = generate(args.images, largest, args.workers)
    sources = {size: subset(args.images, size) if size != largest else args.images / "all"
               for size in sizes}
    results: dict[int, list[dict]] = {size: [] for size in sizes}
    training: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        homes = {size: Path(scratch) / f"home-{size}" for size in sizes}
        for repeat in range(args.repeats):  # the smaller sizes alternately: A B A B
            for size in sizes[:-1]:
                home = homes[size] if repeat == 0 else Path(scratch) / f"again-{size}"
                results[size].append(prepare_point(sources[size], home, size))
                if repeat:
                    subprocess.run(["rm", "-rf", str(home)], check=True)
            load.append(os.getloadavg()[0])
        results[largest].append(prepare_point(sources[largest], homes[largest], largest))
        load.append(os.getloadavg()[0])
        if not args.skip_training:
            training["small_before"] = train_point(homes[smallest], args, args.small_epochs)
            training["large"] = train_point(homes[largest], args, 1)
            training["small_after"] = train_point(homes[smallest], args, args.small_epochs)
            load.append(os.getloadavg()[0])
        disk_mib = {size: results[size][0]["cache_mib"] for size in sizes}

    seconds = {size: min(run["seconds"] for run in runs) for size, runs in results.items()}
    marginal = [round((seconds[b] - seconds[a]) / (b - a) * 1000, 2)
                for a, b in zip(sizes, sizes[1:], strict=False)]
    slope, intercept = np.polyfit(sizes, [seconds[s] for s in sizes], 1)
    worst_residual = max(abs(seconds[s] - (slope * s + intercept)) / seconds[s] for s in sizes)
    report = {
        "benchmark": "scale",
        "cores": os.cpu_count(),
        "source_side": SIDE,
        "generated": {"images": largest, "megabytes": folder_mib(args.images / "all"),
                      "seconds": round(generate_seconds, 1), "reused": generate_seconds == 0},
        "prepare": {str(size): {"images": size, "class_counts": class_counts(size),
                                "runs": results[size], "cache_mib": disk_mib[size]}
                    for size in sizes},
        "linearity": {
            "best_seconds": {str(size): seconds[size] for size in sizes},
            "seconds_per_1000_images_between_points": marginal,
            "fit_seconds_per_1000_images": round(slope * 1000, 2),
            "fit_fixed_seconds": round(intercept, 2),
            "fit_worst_relative_residual": round(worst_residual, 3),
        },
        "load_average_1min": [round(value, 2) for value in load],
    }
    goals = {
        "time_linear": marginal[-1] <= 1.15 * marginal[0] if len(marginal) > 1 else None,
        "peak_under_2_gb": max(r["peak_all_rss_mib"] for r in results[largest]) < 2048,
    }
    if training:
        small = training["small_before"]["images_per_second"] \
            + training["small_after"]["images_per_second"]
        large = training["large"]["images_per_second"][0]
        reference = float(np.median(small))
        report["training"] = {**training, "image_size": args.image_size, "model": args.model,
                              "large_over_small": round(large / reference, 3),
                              "small_range": [min(small), max(small)]}
        goals["cache_memory_mapped"] = all(t["cache_is_memory_map"] for t in training.values())
        goals["training_within_10_percent"] = large >= 0.9 * reference
    report["goals"] = goals
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
