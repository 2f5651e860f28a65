"""One command for the first CUDA GPU at hand: bench's speed and correctness there, as JSON.

In at most ``--budget`` seconds (8 minutes by default), most important first, it measures:

1. each of the paper's seven architectures at its paper input size and batch 32, AMP, in NCHW
   and channels-last: images/s of bench's own training step (its trainer, cache, on-device
   augmentation, loss scaling) against timm's ``benchmark.py`` train loop on the same card,
   alternated A B A B, and the peak GPU memory of each;
2. a short real ``bench run`` (the CLI, from scratch, a few epochs) on WBC-USID-C: scores
   finite, a run killed after its first epoch and resumed scores as the uninterrupted one, and
   the ``--dry-run`` estimate against the time measured;
3. DDPM: training steps/s of the paper network, sampling images/s per scheduler;
4. the run of 2 again with ``channels_last = true`` and then ``compile = true`` in its protocol:
   scores against the default run's and the training speed-up (what would turn them on in
   ``zedda2024``);
5. the same as 1 under ``torch.compile``, while the budget lasts (compiling takes minutes).

timm's ``benchmark.py`` is not in timm's wheel. With ``--timm-benchmark PATH`` (the file from a
checkout of huggingface/pytorch-image-models) its own ``TrainBenchmarkRunner`` runs; without,
:class:`TimmTrainLoop` reproduces that runner's train step (same model creation, timm's
``sgd`` optimiser, autocast around forward and backward, no loss scaling, a synchronised clock
per step, cuDNN benchmark mode and TF32 matmuls while it runs) and the JSON says which ran.

The JSON is written to ``--out`` after every item (a killed check keeps what it measured) and
printed at the end. WBC-USID comes from ``--data`` (default: ``shared/data/WBC-USID`` beside
the checkout); where it is missing, a generated stand-in of the same shape (procedural cells,
complex level) is used and named in the JSON. ``--cpu-smoke`` runs every part with tiny
models and sizes on the CPU (about a minute on an idle machine; the test suite runs it).

    python benchmarks/gpu_check.py --out benchmarks/results/gpu-check-H100.json
    python benchmarks/gpu_check.py --cpu-smoke --out /tmp/smoke.json
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

SHARED = next((p / "shared" / "data" / "WBC-USID" for p in Path(__file__).resolve().parents
               if (p / "shared" / "data" / "WBC-USID").is_dir()), Path("WBC-USID"))
FORMATS = ("nchw", "channels_last")
SCHEDULERS = ("ddpm", "ddim", "dpm-solver")
# Rough seconds to compile both sides (forward and backward) on a GPU machine: the budget
# check's guesses, smallest first; compilation runs after everything else.
COMPILE_SECONDS = {"vgg19": 60, "vit": 60, "mobilenetv3": 90, "swin": 120, "inceptionv3": 120,
                   "resnet152": 150, "densenet121": 180}


@dataclass
class Settings:
    """What the check measures and how long it may take; ``gpu()`` and ``smoke()`` make them."""

    mode: str
    device: str
    models: list[str]  # bench model names; timm name and paper input size come from bench
    image_size: int | None = None  # None: each model's own (the paper's)
    batch: int = 32
    warmup: int = 5
    iterations: int = 20
    repeats: int = 2  # A B pairs
    compile_backend: str = "inductor"
    run_model: str = "mobilenetv3"
    run_image_size: int | None = None
    run_epochs: int = 4
    standin_images: int = 300  # per official partition, when WBC-USID is missing
    standin_size: int = 256
    ddpm_config: str = "paper"
    ddpm_train_steps: int = 20
    ddpm_samples: int = 16
    ddpm_steps: dict[str, int] = field(default_factory=dict)  # per scheduler; {}: defaults
    budget: float = 480.0

    @classmethod
    def gpu(cls, budget: float = 480.0) -> Settings:
        from bench_models import PAPER_MODELS

        return cls(mode="gpu", device="cuda", models=[row[0] for row in PAPER_MODELS],
                   budget=budget)

    @classmethod
    def smoke(cls, budget: float = 1800.0) -> Settings:
        # One tiny timm CNN; dynamo's capture without inductor's code generation (backend
        # "eager") stands in for compiling, which takes minutes on two CPU cores.
        return cls(mode="cpu-smoke", device="cpu", models=["timm:test_resnet"],
                   image_size=32, batch=4, warmup=1, iterations=2, repeats=2,
                   compile_backend="eager", run_model="timm:test_resnet", run_image_size=32,
                   run_epochs=3, standin_images=60, standin_size=48, ddpm_config="tiny",
                   ddpm_train_steps=4, ddpm_samples=2,
                   ddpm_steps={"ddpm": 10, "ddim": 5, "dpm-solver": 5}, budget=budget)


@dataclass
class Item:
    """One measurement: run in plan order while the budget allows its estimate."""

    name: str
    section: str  # the key of the JSON it adds to
    estimate: float  # seconds, for the budget
    run: Callable[[], Any] = field(repr=False)


def plan(settings: Settings, context: Context) -> list[Item]:
    """Every measurement, most important first; the smoke's list lacks only the compiled run."""
    items = [Item("machine", "machine", 1, context.machine)]
    big = settings.mode == "gpu"
    for model in settings.models:
        for memory_format in FORMATS:
            items.append(Item(f"{model} {memory_format} eager", "throughput", 15 if big else 2,
                              partial(context.throughput, model, memory_format, False)))
    items.append(Item("bench run", "bench_run", 90 if big else 30, context.bench_run))
    items.append(Item("ddpm", "ddpm", 90 if big else 10, context.ddpm))
    items.append(Item("bench run channels_last", "setting_runs", 45 if big else 30,
                      partial(context.setting_run, "channels_last")))
    if big:  # inductor takes minutes on a small CPU; the smoke compiles with dynamo alone
        items.append(Item("bench run compile", "setting_runs", 180,
                          partial(context.setting_run, "compile")))
    compile_seconds = {model: COMPILE_SECONDS.get(model, 150) if big else 30
                       for model in settings.models}
    for model in sorted(settings.models, key=compile_seconds.__getitem__):
        items.append(Item(f"{model} compile", "throughput", compile_seconds[model],
                          partial(context.compiled_throughput, model)))
    return items


# -- timing helpers ------------------------------------------------------------------------


def synchronise(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def memory_baseline(device: str) -> int | None:
    """Bytes allocated now, and the peak counter reset: :func:`peak_above` measures from here."""
    import torch

    if not device.startswith("cuda"):
        return None
    synchronise(device)
    torch.cuda.reset_peak_memory_stats()
    return int(torch.cuda.memory_allocated())


def peak_above(device: str, baseline: int | None) -> int | None:
    """The peak of CUDA-allocated bytes since ``memory_baseline``, less what was there before.

    The CPU has no per-model counter in one process (its peak RSS only grows): None there.
    """
    import torch

    if baseline is None or not device.startswith("cuda"):
        return None
    synchronise(device)
    return int(torch.cuda.max_memory_allocated()) - baseline


def free(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


@contextmanager
def timm_benchmark_flags(device: str) -> Iterator[None]:
    """What timm's benchmark.py sets at import on CUDA, held only while its side runs."""
    import torch

    if not device.startswith("cuda"):
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark = saved


# -- the two sides of a throughput item ----------------------------------------------------


class BenchSide:
    """bench's own training step: its trainer on a prepared source, its data path and loop."""

    def __init__(self, settings: Settings, model: str, size: int, channels_last: bool,
                 compile_model: bool, source: str, scratch: Path):
        import bench
        from bench.engine.plans import CellPlan
        from bench.engine.training import TrainingProbe

        protocol = bench.load_protocol("zedda2024").with_overrides(
            training={"batch_size": settings.batch, "channels_last": channels_last,
                      "compile": compile_model},
            input={"size": size})
        plan = CellPlan(model=model, source=source, targets=[source], seed=0, protocol=protocol,
                        checkpoint_dir=scratch, device=settings.device, pretrained=False)
        self.settings = settings
        self.probe = TrainingProbe(plan)

    def warm(self) -> float:
        started = time.perf_counter()
        self.probe.train_batches(self.settings.warmup)
        return time.perf_counter() - started

    def measure(self) -> float:
        return self.probe.train_batches(self.settings.iterations)["images_per_second"]


class TimmTrainLoop:
    """timm benchmark.py's ``TrainBenchmarkRunner`` train step, reproduced (see the docstring).

    Model from ``timm.create_model`` (the model's default pooling, no dropout), timm's
    ``create_optimizer_v2(model, opt="sgd", lr=1e-4)``, a random input made once on the
    device, each step: zero_grad, clock, autocast(forward, random target, loss, backward),
    optimizer step, synchronised clock. images/s = samples over the timed loop's wall time.
    """

    def __init__(self, settings: Settings, timm_name: str, size: int, channels_last: bool,
                 compile_model: bool, num_classes: int = 5):
        import timm
        import torch
        from timm.optim import create_optimizer_v2

        self.device, self.settings = settings.device, settings
        options = {"num_classes": num_classes, "in_chans": 3, "drop_rate": 0.0}
        try:  # fixed-size architectures (ViT, Swin) are rebuilt for a size not their own
            model = timm.create_model(timm_name, img_size=size, **options)
        except TypeError as exc:
            if "img_size" not in str(exc):
                raise
            model = timm.create_model(timm_name, **options)
        model.to(device=self.device, memory_format=torch.channels_last if channels_last
                 else None)
        self.model = model.train()
        self.loss = torch.nn.CrossEntropyLoss().to(self.device)
        self.optimizer = create_optimizer_v2(self.model, opt="sgd", lr=1e-4)
        if compile_model:  # the caller resets dynamo first, as benchmark.py does
            self.model = torch.compile(self.model, backend=settings.compile_backend)
        self.amp = self.device.startswith("cuda")
        self.num_classes = num_classes
        self.inputs = torch.randn((settings.batch, 3, size, size), device=self.device)
        if channels_last:
            self.inputs = self.inputs.contiguous(memory_format=torch.channels_last)

    def _step(self) -> float:
        import torch

        self.optimizer.zero_grad()
        started = time.perf_counter()
        with torch.autocast(self.device.split(":")[0], dtype=torch.float16, enabled=self.amp):
            output = self.model(self.inputs)
            if isinstance(output, tuple):
                output = output[0]
            target = torch.empty((output.shape[0],), device=self.device,
                                 dtype=torch.long).random_(self.num_classes)
            self.loss(output, target).backward()
        self.optimizer.step()
        synchronise(self.device)
        return time.perf_counter() - started

    def warm(self) -> float:
        with timm_benchmark_flags(self.device):
            return sum(self._step() for _ in range(self.settings.warmup))

    def measure(self) -> float:
        with timm_benchmark_flags(self.device):
            started = time.perf_counter()
            for _ in range(self.settings.iterations):
                self._step()
            elapsed = time.perf_counter() - started
        return self.settings.batch * self.settings.iterations / elapsed


class TimmBenchmarkScript:
    """timm's own ``benchmark.py`` (``--timm-benchmark PATH``): its ``TrainBenchmarkRunner``."""

    def __init__(self, path: Path, settings: Settings, timm_name: str, size: int,
                 channels_last: bool, compile_model: bool, num_classes: int = 5):
        spec = importlib.util.spec_from_file_location("timm_benchmark", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.runner = module.TrainBenchmarkRunner(
            model_name=timm_name, device=settings.device,
            precision="amp" if settings.device.startswith("cuda") else "float32",
            channels_last=channels_last,
            torchcompile=settings.compile_backend if compile_model else None,
            num_classes=num_classes, gp=None, batch_size=settings.batch, img_size=size,
            num_warm_iter=settings.warmup,
            num_bench_iter=max(settings.iterations, 5))  # it logs every fifth of the steps

    def warm(self) -> float:
        return 0.0  # each run() warms up by itself

    def measure(self) -> float:
        return float(self.runner.run()["samples_per_sec"])


# -- the check ----------------------------------------------------------------------------


class Context:
    """The measurements, sharing one scratch folder, data home and prepared source."""

    def __init__(self, settings: Settings, scratch: Path, data: Path | None,
                 timm_benchmark: Path | None):
        self.settings, self.scratch, self.data = settings, scratch, data
        self.timm_benchmark = timm_benchmark
        self.home = scratch / "home"
        self._source: str | None = None
        self.source_note = ""
        self.eager_rates: dict[tuple[str, str], float] = {}
        self.default_run: dict[str, Any] | None = None

    # The data home of the in-process measurements; bench reads BENCH_HOME when asked.
    def _use_home(self) -> None:
        import bench

        os.environ["BENCH_HOME"] = str(self.home)
        bench.reset()

    def source(self) -> str:
        """WBC-USID-C prepared in the check's home, or a generated stand-in where it is missing."""
        if self._source is None:
            self._use_home()
            self._source, self.source_note = prepare_source(self.settings, self.data)
        return self._source

    def machine(self) -> dict[str, Any]:
        import timm
        import torch

        from bench.provenance import device_description

        device = torch.device(self.settings.device)
        described = device_description(device, amp=device.type == "cuda", channels_last=False)
        if device.type == "cuda":
            properties = torch.cuda.get_device_properties(device)
            described.update(gpu_memory_bytes=int(properties.total_memory),
                             capability=f"{properties.major}.{properties.minor}",
                             cudnn=torch.backends.cudnn.version())
        described.update(timm=timm.__version__, load_average=round(os.getloadavg()[0], 2),
                         timm_side="timm benchmark.py TrainBenchmarkRunner" if
                         self.timm_benchmark else "timm benchmark.py train loop, reproduced")
        return described

    def _model_row(self, model: str) -> tuple[str, int]:
        """The timm name and paper input size bench uses for ``model``."""
        from bench.host import get_registries
        from bench.models import data_config

        spec = get_registries().models.get(model)
        architecture = spec.factory.architecture  # a TimmFactory: "vgg19.tv_in1k"
        size = self.settings.image_size or data_config(spec)[0]
        return architecture.partition(".")[0], int(size)

    def throughput(self, model: str, memory_format: str, compile_model: bool) -> dict[str, Any]:
        """bench's step against timm's, alternated, same batch and size; peak memory of each."""
        source = self.source()
        timm_name, size = self._model_row(model)
        s, channels_last = self.settings, memory_format == "channels_last"
        row: dict[str, Any] = {"model": model, "timm_model": timm_name, "input_size": size,
                               "batch": s.batch, "memory_format": memory_format,
                               "compile": s.compile_backend if compile_model else "none",
                               "amp": s.device.startswith("cuda"), "warmup": s.warmup,
                               "iterations": s.iterations}
        sides: dict[str, Any] = {}
        if compile_model:
            import torch

            torch._dynamo.reset()  # as benchmark.py does; never again within the item
        try:
            # timm's side first: benchmark.py's runner resets dynamo when it compiles, which
            # would throw away bench's compiled code if bench's were built before.
            baseline = memory_baseline(s.device)
            if self.timm_benchmark:
                sides["timm"] = TimmBenchmarkScript(self.timm_benchmark, s, timm_name, size,
                                                    channels_last, compile_model)
            else:
                sides["timm"] = TimmTrainLoop(s, timm_name, size, channels_last, compile_model)
            row["timm_warmup_seconds"] = round(sides["timm"].warm(), 3)
            row["timm_peak_memory_bytes"] = peak_above(s.device, baseline)
            baseline = memory_baseline(s.device)
            sides["bench"] = BenchSide(s, model, size, channels_last, compile_model, source,
                                       self.scratch / "probe")
            row["bench_warmup_seconds"] = round(sides["bench"].warm(), 3)
            row["bench_peak_memory_bytes"] = peak_above(s.device, baseline)
            rates: dict[str, list[float]] = {"bench": [], "timm": []}
            for _ in range(s.repeats):
                for name in ("bench", "timm"):
                    rates[name].append(round(sides[name].measure(), 2))
        finally:
            sides.clear()
            free(s.device)
        row["bench_images_per_second"] = rates["bench"]
        row["timm_images_per_second"] = rates["timm"]
        bench_median = statistics.median(rates["bench"])
        row["ratio_bench_to_timm"] = round(bench_median / statistics.median(rates["timm"]), 3)
        if not compile_model:
            self.eager_rates[(model, memory_format)] = bench_median
        return row

    def compiled_throughput(self, model: str) -> dict[str, Any]:
        """Under torch.compile, in the memory format that was faster in eager mode for bench."""
        eager = {fmt: self.eager_rates.get((model, fmt), 0.0) for fmt in FORMATS}
        memory_format = max(FORMATS, key=lambda fmt: eager[fmt])
        row = self.throughput(model, memory_format, True)
        row["eager_bench_images_per_second"] = eager[memory_format]
        return row

    def bench_run(self) -> dict[str, Any]:
        source = self.source()
        self.default_run = bench_run_check(self.settings, source, self.home, self.scratch)
        return self.default_run | {"data": self.source_note}

    def setting_run(self, setting: str) -> dict[str, Any]:
        if self.default_run is None:
            raise RuntimeError("the default bench run did not finish: nothing to compare with")
        return setting_run_check(self.settings, self.source(), self.home, self.scratch,
                                 setting, self.default_run)

    def ddpm(self) -> dict[str, Any]:
        self._use_home()
        return ddpm_check(self.settings, self.scratch / "ddpm")


def prepare_source(settings: Settings, data: Path | None) -> tuple[str, str]:
    """Prepare WBC-USID-C from ``data``; without it, generate a stand-in of its shape."""
    from bench.data import prepare_dataset

    if data is not None and (data / "dataset").is_dir():
        dataset = prepare_dataset("wbc-usid-c", data, progress=False)
        return dataset.name, f"WBC-USID-C from {data}"
    from bench.generation.datasets import generate_dataset

    name, count = "gpu-check-standin", settings.standin_images
    generate_dataset(name, cells="procedural", level="complex", train=count, test=count,
                     size=settings.standin_size, seed=0)
    why = f"WBC-USID was not at {data}" if data is not None else "no --data given"
    return name, (f"stand-in ({why}): {count} + {count} generated complex-level images of "
                  f"procedural cells at {settings.standin_size} px")


# -- a real `bench run`: finite scores, resume after kill, the dry-run estimate -------------


def _cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "BENCH_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "bench.cli", *args], env=env,
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"bench {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    return done


def _run_args(settings: Settings, source: str) -> list[str]:
    args = ["run", "--model", settings.run_model, "--source", source, "--target", source,
            "--seed", "0", "--epochs", str(settings.run_epochs), "--device", settings.device,
            "--no-pretrained", "--json"]
    if settings.run_image_size:
        args += ["--image-size", str(settings.run_image_size)]
    return args


def _shown(home: Path, run_id: str) -> dict[str, Any]:
    """What `bench runs show RUN --json` prints (its Python API, without another process)."""
    import bench
    from bench.runs import run_report
    from bench.store import open_store

    saved = os.environ.get("BENCH_HOME")
    os.environ["BENCH_HOME"] = str(home)
    bench.reset()
    try:
        return json.loads(json.dumps(run_report(open_store(read_only=True), run_id),
                                     default=str))
    finally:
        if saved is None:
            os.environ.pop("BENCH_HOME", None)
        else:
            os.environ["BENCH_HOME"] = saved
        bench.reset()


def run_killed_then_resumed(home: Path, args: list[str]) -> dict[str, Any]:
    """Start ``bench run``, SIGKILL it once its first epoch checkpoint exists, run it again."""
    env = {**os.environ, "BENCH_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed, deadline = False, time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        if any((home / "runs").glob("*/last.pt")):
            process.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    process.wait()
    started = time.perf_counter()
    done = _cli(home, *args)
    return {"killed_after_first_epoch": killed,
            "run_id": json.loads(done.stdout)[0]["run_id"],
            "resume_wall_seconds": round(time.perf_counter() - started, 2)}


def compare_scores(first: dict[str, dict[str, float]], second: dict[str, dict[str, float]]
                   ) -> dict[str, Any]:
    """Bitwise equality and the largest difference over every target and metric."""
    keys = sorted({(t, m) for t in first for m in first[t]} | {(t, m) for t in second
                                                              for m in second[t]})
    differences = [abs(first.get(t, {}).get(m, math.nan) - second.get(t, {}).get(m, math.nan))
                   for t, m in keys]
    largest = (math.nan if any(math.isnan(d) for d in differences)  # a metric is missing
               else max(differences, default=None))
    return {"equal": all(first.get(t, {}).get(m) == second.get(t, {}).get(m) for t, m in keys),
            "max_abs_difference": largest, "metrics_compared": len(keys)}


def bench_run_check(settings: Settings, source: str, home: Path, scratch: Path
                    ) -> dict[str, Any]:
    args = _run_args(settings, source)
    started = time.perf_counter()
    dry = json.loads(_cli(home, *args, "--dry-run").stdout)
    dry_seconds = time.perf_counter() - started
    result = finished_run(home, args)
    scores = result["scores"]
    measured = result["cost"].get("wall_seconds")
    result.update({
        "dry_run": {"estimate_seconds": round(dry["seconds"], 2),
                    "measured_seconds": measured,
                    "estimate_over_measured": round(dry["seconds"] / measured, 3)
                    if measured else None,
                    "dry_run_wall_seconds": round(dry_seconds, 2),
                    "measured": dry.get("measured")},
    })
    # The same cell in a second data home: killed after its first epoch, then resumed.
    second_home = scratch / "home-resume"
    _copy_datasets(home, second_home)
    resumed = run_killed_then_resumed(second_home, args)
    resumed_scores = _shown(second_home, resumed["run_id"])["scores"]
    result["resume"] = {**resumed, **compare_scores(scores, resumed_scores)}
    return result


def finished_run(home: Path, args: list[str]) -> dict[str, Any]:
    """Run ``bench ARGS`` to the end; what its record says (scores, device, cost) and its time."""
    started = time.perf_counter()
    row = json.loads(_cli(home, *args).stdout)[0]
    wall = time.perf_counter() - started
    shown = _shown(home, row["run_id"])
    scores = shown["scores"]
    values = [v for metrics in scores.values() for v in metrics.values()]
    return {"command": "bench " + " ".join(args), "status": row["status"],
            "epochs": shown.get("epochs"), "scores": scores,
            "scores_finite": bool(values) and all(math.isfinite(v) for v in values),
            "device_info": shown["summary"].get("device_info"),
            "cost": shown["summary"].get("cost", {}), "wall_seconds": round(wall, 2)}


def setting_run_check(settings: Settings, source: str, home: Path, scratch: Path,
                      setting: str, default: dict[str, Any]) -> dict[str, Any]:
    """The same cell with one speed setting on: scores against the default run's, speed-up.

    What decides whether ``zedda2024`` turns the setting on: equal scores (up to the GPU's own
    run-to-run differences, see ``resume``) and faster training.
    """
    from importlib import resources

    text = (resources.files("bench") / "protocols" / "zedda2024.toml").read_text()
    protocol = scratch / f"zedda2024-{setting.replace('_', '-')}.toml"
    protocol.write_text(text.replace(f"{setting} = false", f"{setting} = true"))
    result = finished_run(home, [*_run_args(settings, source), "--protocol", str(protocol)])
    speed, base = (result["cost"].get("train_images_per_second"),
                   default["cost"].get("train_images_per_second"))
    result.update(setting=setting, scores_vs_default=compare_scores(default["scores"],
                                                                    result["scores"]),
                  default_train_images_per_second=base,
                  speed_up=round(speed / base, 3) if speed and base else None)
    return result


def _copy_datasets(home: Path, other: Path) -> None:
    """A second data home with the same (prepared, generated) data sets, its own store."""
    import shutil

    other.mkdir(parents=True, exist_ok=True)
    for folder in ("datasets", "generated"):
        if (home / folder).is_dir():
            shutil.copytree(home / folder, other / folder, dirs_exist_ok=True)


# -- DDPM -------------------------------------------------------------------------------------


def ddpm_check(settings: Settings, folder: Path) -> dict[str, Any]:
    """Training steps/s (one step timed, then the real loop) and sampling images/s."""
    from bench_generators.ddpm_model import make_config
    from bench_generators.ddpm_training import measure_step

    from bench.generation.contract import cell_generator

    config = make_config(settings.ddpm_config)
    step = measure_step(config, settings.device)
    cells = cell_generator("procedural").generate("L", max(config.min_images, 16),
                                                  partition="A", seed=0)
    trainer = cell_generator(f"ddpm:{folder}", device=settings.device)
    started = time.perf_counter()
    info = trainer.train("L", cells, partition="A", config=settings.ddpm_config,
                         max_steps=settings.ddpm_train_steps,
                         checkpoint_every=settings.ddpm_train_steps)
    synchronise(settings.device)
    loop_seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "config": settings.ddpm_config, "batch": config.batch_size,
        "parameters": step["parameters"],
        "one_step_steps_per_second": round(1 / step["seconds_per_step"], 3),
        "training_loop": {"steps": settings.ddpm_train_steps, "seconds": round(loop_seconds, 2),
                          "steps_per_second": round(settings.ddpm_train_steps / loop_seconds, 3),
                          "loss": round(float(info["loss"]), 4),
                          "note": "includes loading the cells and saving one checkpoint"},
        "sampling": {},
    }
    for scheduler in SCHEDULERS:
        steps = settings.ddpm_steps.get(scheduler)
        sampler = cell_generator(f"ddpm:{folder}", scheduler=scheduler, steps=steps,
                                 batch_size=settings.ddpm_samples, device=settings.device)
        sampler.generate("L", 1, partition="A", seed=0)  # load the model outside the clock
        started = time.perf_counter()
        images = sampler.generate("L", settings.ddpm_samples, partition="A", seed=1)
        synchronise(settings.device)
        seconds = time.perf_counter() - started
        result["sampling"][scheduler] = {
            "steps": sampler.steps, "images": len(images), "seconds": round(seconds, 3),
            "images_per_second": round(len(images) / seconds, 3)}
    return result


# -- driver -----------------------------------------------------------------------------------


def run_check(settings: Settings, data: Path | None, out: Path | None,
              timm_benchmark: Path | None = None) -> dict[str, Any]:
    """Run the plan within the budget; the JSON is written after every item."""
    started = time.perf_counter()
    report: dict[str, Any] = {"benchmark": "gpu_check", "mode": settings.mode,
                              "settings": asdict(settings), "machine": None, "throughput": [],
                              "bench_run": None, "ddpm": None, "setting_runs": [],
                              "skipped": [], "errors": [],
                              "complete": False}
    with tempfile.TemporaryDirectory(prefix="bench-gpu-check-") as folder:
        context = Context(settings, Path(folder), data, timm_benchmark)
        for item in plan(settings, context):
            left = settings.budget - (time.perf_counter() - started)
            if item.estimate > left:
                report["skipped"].append({"item": item.name, "reason":
                                          f"time budget: {left:.0f} s left, about "
                                          f"{item.estimate:.0f} s needed"})
                continue
            item_started = time.perf_counter()
            try:
                value = item.run()
            except Exception as exc:  # noqa: BLE001 - one item's failure is its result
                report["errors"].append({"item": item.name,
                                         "error": f"{type(exc).__name__}: {exc}"[:2000]})
            else:
                if isinstance(value, dict):
                    value["seconds"] = round(time.perf_counter() - item_started, 2)
                if item.section in ("throughput", "setting_runs"):
                    report[item.section].append(value)
                else:
                    report[item.section] = value
            report["elapsed_seconds"] = round(time.perf_counter() - started, 1)
            _write(report, out)
    report["complete"] = not report["skipped"] and not report["errors"]
    _write(report, out)
    return report


def _write(report: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")
        partial.write_text(json.dumps(report, indent=2, default=str))
        os.replace(partial, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="tiny models and sizes on the CPU: every part, about a minute")
    parser.add_argument("--out", type=Path, help="write the JSON here too (after every item)")
    parser.add_argument("--budget", type=float,
                        help="seconds for the whole check (default 480; --cpu-smoke: 1800, "
                             "for busy machines); items that would not fit are skipped")
    parser.add_argument("--data", type=Path, help=f"the WBC-USID release root (default: "
                        f"{SHARED} on a GPU; --cpu-smoke generates a small stand-in)")
    parser.add_argument("--timm-benchmark", type=Path,
                        help="timm's benchmark.py from a pytorch-image-models checkout")
    parser.add_argument("--models", help="comma list of bench model names (default: the seven)")
    args = parser.parse_args(argv)
    if args.cpu_smoke:
        settings = Settings.smoke(args.budget or 1800.0)
    else:
        import torch

        if not torch.cuda.is_available():
            parser.error("no CUDA device: run it on a machine with a GPU, or --cpu-smoke here")
        settings = Settings.gpu(args.budget or 480.0)
    if args.models:
        settings.models = [name.strip() for name in args.models.split(",") if name.strip()]
    if args.timm_benchmark and not args.timm_benchmark.is_file():
        parser.error(f"--timm-benchmark {args.timm_benchmark}: no such file")
    data = args.data or (None if args.cpu_smoke else SHARED)
    report = run_check(settings, data, args.out, args.timm_benchmark)
    print(json.dumps(report, indent=2, default=str))
    return 0 if not report["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
