"""`bench run` against timm's own training script, same model, size, batch, epochs, optimiser.

Prepares WBC-USID-C in a temporary data home, exports its train and validation splits as an
``ImageFolder`` tree (copies of the original files), then runs, alternating A B A B:

- A: timm's reference ``train.py`` from a checkout of huggingface/pytorch-image-models (the
  path is the first argument; none of its code is part of this project), with the installed
  timm library, decoding and augmenting every image with PIL in its DataLoader workers;
- B: ``bench run`` on the prepared data set, reading the decoded memory-mapped cache and
  augmenting whole batches on the device.

Both train the same model from random weights with plain SGD (timm's ``momentum`` optimiser,
constant learning rate, no label smoothing), the same batch size, input size and number of
epochs, and validate on the same split after each epoch. Augmentation is as close as timm's
options allow (flips, crop, blur, colour jitter; timm's script has no rotation). The figure
is training images per second over the epochs after the first (the first pays for start-up:
worker spawn, oneDNN kernel selection); the first epoch and the whole command's wall time are
reported too, with the 1-minute load average before and after each command, and each side's
``data_wait_share``: the share of its training time its loop waited for the next batch (the
data work its overlap did not hide), and the CPU time its whole command used (processes and
threads together: start-up, every epoch, validation). Prints one JSON object.

    python benchmarks/bench_vs_timm.py /tmp/pytorch-image-models --epochs 3 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the WBC-USID release next to the checkout (this project's machines keep it in shared/)
SHARED = next((p / "shared" / "data" / "WBC-USID" for p in Path(__file__).resolve().parents
               if (p / "shared" / "data" / "WBC-USID").is_dir()), Path("WBC-USID"))
TIMM_SPLITS = {"train": "train", "val": "validation"}  # bench split -> timm's folder names


def timm_child(train_py: str, times_file: str, argv: list[str]) -> None:
    """Run timm's ``train.py`` as a module with its epoch function timed (in a subprocess).

    Loading it with importlib (not ``python train.py``) keeps the checkout's own ``timm/`` off
    ``sys.path``, so both sides run the installed timm library.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location("timm_train", train_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inner, seconds, waits = module.train_one_epoch, [], []

    def timed(epoch, model, loader, *args, **kwargs):
        waited = TimedLoader(loader)
        started = time.perf_counter()
        result = inner(epoch, model, waited, *args, **kwargs)
        seconds.append(time.perf_counter() - started)
        waits.append(waited.waited)
        return result

    module.train_one_epoch = timed
    sys.argv = [train_py, *argv]
    module.main()
    Path(times_file).write_text(json.dumps({"seconds": seconds, "data_wait": waits}))


class TimedLoader:
    """timm's loader, with the time its training loop waits for each batch counted.

    The same figure as bench's ``data_wait_seconds``: how much data work the overlap (timm's
    worker processes, bench's prefetch thread) did not hide.
    """

    def __init__(self, loader):
        self.loader, self.waited = loader, 0.0

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)

    def __iter__(self):
        iterator = iter(self.loader)
        while True:
            started = time.perf_counter()
            try:
                batch = next(iterator)
            except StopIteration:
                return
            self.waited += time.perf_counter() - started
            yield batch


def export_image_folder(dataset, out: Path) -> dict[str, int]:
    """Copy the train and validation files of a prepared data set into ``out/<split>/<label>``."""
    counts = dict.fromkeys(TIMM_SPLITS.values(), 0)
    for row in dataset.manifest:
        if row.split not in TIMM_SPLITS:
            continue
        folder = out / TIMM_SPLITS[row.split] / row.label
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / row.path.replace("/", "__")  # unique: the whole relative path
        shutil.copyfile(dataset.root / row.path, target)
        counts[TIMM_SPLITS[row.split]] += 1
    return counts


def checkout_version(checkout: Path) -> str:
    namespace: dict[str, str] = {}
    exec((checkout / "timm" / "version.py").read_text(), namespace)
    return namespace["__version__"]


def summarise(epoch_seconds: list[float], images_per_epoch: int, wall: float,
              load: tuple[float, float]) -> dict:
    steady = epoch_seconds[1:] or epoch_seconds
    return {
        "epoch_seconds": [round(s, 2) for s in epoch_seconds],
        "images_per_second": round(images_per_epoch * len(steady) / sum(steady), 1),
        "first_epoch_images_per_second": round(images_per_epoch / epoch_seconds[0], 1),
        "wall_seconds": round(wall, 1),
        "load_average_before_after": [round(load[0], 2), round(load[1], 2)],
    }


def load_average() -> float:
    """The 1-minute load average: how many runnable processes shared the cores."""
    return os.getloadavg()[0]


def children_cpu_seconds() -> float:
    """CPU time (user + system) of the finished child processes and theirs (timm's workers)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timm(args, tree: Path, work: Path, env: dict, repeat: int, per_epoch: int) -> dict:
    output, times = work / f"timm-{repeat}", work / f"timm-{repeat}.json"
    command = [
        sys.executable, __file__, "--timm-child", str(args.checkout / "train.py"), str(times),
        "--data-dir", str(tree), "--model", args.model, "--num-classes", "5",
        "--img-size", str(args.image_size), "-b", str(args.batch_size),
        "--epochs", str(args.epochs), "--seed", str(repeat),
        "--opt", "momentum", "--lr", str(args.lr), "--momentum", str(args.momentum),
        "--weight-decay", "0", "--sched", "step", "--decay-epochs", "100000",
        "--decay-rate", "1.0", "--warmup-epochs", "0", "--smoothing", "0",
        "--hflip", "0.5", "--vflip", "0.5", "--color-jitter", "0.2",
        "--gaussian-blur-prob", "0.3", "--scale", "0.81", "0.81", "--ratio", "1", "1",
        "--device", "cpu", "--no-prefetcher", "-j", str(args.timm_workers),
        "--output", str(output), "--log-interval", "1000", "--checkpoint-hist", "1",
    ]
    load_before, started, cpu = load_average(), time.perf_counter(), children_cpu_seconds()
    subprocess.run(command, env=env, check=True, capture_output=not args.verbose)
    wall = time.perf_counter() - started
    timed = json.loads(times.read_text())
    figures = summarise(timed["seconds"], per_epoch, wall, (load_before, load_average()))
    figures["command_cpu_seconds"] = round(children_cpu_seconds() - cpu, 1)
    steady = slice(1, None) if len(timed["seconds"]) > 1 else slice(None)
    figures["data_wait_share"] = round(sum(timed["data_wait"][steady])
                                       / sum(timed["seconds"][steady]), 4)
    return figures


def run_bench(args, env: dict, repeat: int) -> dict:
    command = [  # "--seed N" is the one seed N: a new cell, never a finished one skipped
        sys.executable, "-m", "bench.cli", "run", "--model", f"timm:{args.model}",
        "--source", args.source, "--target", args.source, "--seed", str(repeat),
        "--protocol", str(args.protocol), "--epochs", str(args.epochs),
        "--batch-size", str(args.batch_size), "--image-size", str(args.image_size),
        "--device", "cpu", "--workers", str(args.bench_workers), "--no-pretrained", "--json",
    ]
    load_before, started, cpu = load_average(), time.perf_counter(), children_cpu_seconds()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    load_after, cpu = load_average(), children_cpu_seconds() - cpu
    if done.returncode != 0:
        sys.exit(f"bench run failed ({done.returncode}): {done.stderr.strip()}")
    run_id = json.loads(done.stdout)[0]["run_id"]
    shown = subprocess.run([sys.executable, "-m", "bench.cli", "runs", "show", run_id, "--json"],
                           env=env, check=True, capture_output=True, text=True)
    history = json.loads(shown.stdout)["summary"]["history"]
    seen = round(history[-1]["images_per_second"] * history[-1]["train_seconds"])
    figures = summarise([epoch["train_seconds"] for epoch in history], seen, wall,
                        (load_before, load_after))
    figures["command_cpu_seconds"] = round(cpu, 1)
    steady = history[1:] or history
    if all("data_wait_seconds" in epoch for epoch in steady):  # the loop's wait for batches
        figures["data_wait_share"] = round(sum(e["data_wait_seconds"] for e in steady)
                                           / sum(e["train_seconds"] for e in steady), 4)
    return figures


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--timm-child":
        timm_child(sys.argv[2], sys.argv[3], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path,
                        help="a checkout of huggingface/pytorch-image-models (holds train.py)")
    parser.add_argument("--data", type=Path, default=SHARED, help="the WBC-USID release root")
    parser.add_argument("--source", default="wbc-usid-c")
    parser.add_argument("--model", default="resnet18", help="a timm model name")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2, help="A B pairs")
    parser.add_argument("--protocol", default="zedda2024",
                        help="bench's protocol; --lr/--momentum must match its optimiser")
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 0)),
                        help="torch threads on both sides (0: torch's default, every core)")
    parser.add_argument("--timm-workers", type=int, default=2,
                        help="timm DataLoader workers (it decodes and augments there)")
    parser.add_argument("--bench-workers", type=int, default=0,
                        help="bench DataLoader workers (its default: reading the cache is cheap, "
                             "and its prefetch thread augments the next batch during the step)")
    parser.add_argument("--verbose", action="store_true", help="show timm's log")
    args = parser.parse_args()
    if not (args.checkout / "train.py").is_file():
        sys.exit(f"{args.checkout} holds no train.py: pass a checkout of "
                 f"huggingface/pytorch-image-models")

    import timm
    import torch

    import bench
    from bench.data import prepare_dataset

    recipe = bench.load_protocol(args.protocol).training
    if (recipe.optimizer, recipe.lr, recipe.momentum) != ("sgd", args.lr, args.momentum):
        sys.exit(f"protocol {args.protocol} trains with {recipe.optimizer} lr {recipe.lr} "
                 f"momentum {recipe.momentum}: pass the same --lr and --momentum for timm")
    with tempfile.TemporaryDirectory(prefix="bench-vs-timm-") as scratch:
        work = Path(scratch)
        env = {**os.environ, "BENCH_HOME": str(work / "home")}
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        else:
            env.pop("OMP_NUM_THREADS", None)
        os.environ["BENCH_HOME"] = env["BENCH_HOME"]
        dataset = prepare_dataset(args.source, args.data, progress=False)
        counts = export_image_folder(dataset, work / "tree")
        per_epoch = counts["train"] // args.batch_size * args.batch_size  # both drop the last
        load_before = os.getloadavg()
        pairs = []
        for repeat in range(args.repeats):
            timm_figures = run_timm(args, work / "tree", work, env, repeat, per_epoch)
            bench_figures = run_bench(args, env, repeat)
            pairs.append({"timm": timm_figures, "bench": bench_figures,
                          "ratio": round(bench_figures["images_per_second"]
                                         / timm_figures["images_per_second"], 3)})
        load_after = os.getloadavg()
    timm_ips = [pair["timm"]["images_per_second"] for pair in pairs]
    bench_ips = [pair["bench"]["images_per_second"] for pair in pairs]
    print(json.dumps({
        "benchmark": "bench_vs_timm_train_py",
        "model": args.model,
        "source": args.source,
        "train_images": counts["train"],
        "val_images": counts["validation"],
        "images_per_epoch": per_epoch,
        "image_size": args.image_size,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "optimiser": f"SGD lr {args.lr} momentum {args.momentum}, constant",
        "protocol": args.protocol,
        "torch_threads": args.threads or torch.get_num_threads(),
        "timm_workers": args.timm_workers,
        "bench_workers": args.bench_workers,
        "timm_library": timm.__version__,
        "timm_checkout": checkout_version(args.checkout),
        "cores": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "pairs": pairs,
        "timm_images_per_second": spread(timm_ips),
        "bench_images_per_second": spread(bench_ips),
        "ratio": spread([pair["ratio"] for pair in pairs]),
    }, indent=2))


if __name__ == "__main__":
    main()
