"""One cell of the matrix: train a model on a source, early-stop, test on every target.

The function is self-contained (names in, scores out) so any executor can ship it: it reads
the data home and writes only its own checkpoint folder; the caller records the results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from bench.cell import EXTERNAL
from bench.data import PreparedDataset, load_prepared
from bench.engine.augment import BatchTransform
from bench.engine.checkpoints import check_finite, load_checkpoint, save_atomically
from bench.engine.few_shot import ALL, few_shot_indices
from bench.engine.job_cost import cost_summary
from bench.engine.loading import (
    CachedImages,
    Prefetcher,
    epoch_seed,
    eval_loader,
    train_loader,
)
from bench.engine.plans import CellPlan, Outcome
from bench.engine.run_display import Listener, QuietListener
from bench.errors import RunError
from bench.host import get_registries
from bench.labels import CLASSES, NUM_CLASSES
from bench.metrics import VALIDATION_METRICS, evaluate_predictions
from bench.models import build_model, data_config
from bench.provenance import device_description
from bench.shifts.dataset import open_target
from bench.store import Evaluation


def resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda was asked for, but torch sees no CUDA device here")
    return torch.device(requested)


# What ``training.compile = true`` runs: torch.compile with inductor in its default mode.
COMPILE_MODE = "default"
COMPILE_BACKEND = "inductor"


def compiled(model: nn.Module) -> nn.Module:
    """``model`` wrapped by torch.compile; its parameters (and state dict) stay ``model``'s."""
    return torch.compile(model, backend=COMPILE_BACKEND, mode=COMPILE_MODE)


def compile_mode(enabled: bool) -> str:
    """How a run's model ran, for its provenance: ``"none"`` or ``"inductor:default"``."""
    return f"{COMPILE_BACKEND}:{COMPILE_MODE}" if enabled else "none"


class _Trainer:
    """The training loop's state; separate methods keep the loop itself readable."""

    def __init__(self, plan: CellPlan, listener: Listener):
        self.plan, self.listener = plan, listener
        self.protocol = plan.protocol
        self.device = resolve_device(plan.device)
        self.cuda = self.device.type == "cuda"
        registries = get_registries()
        self.model_spec = registries.models.get(plan.model)
        # A model trained outside bench (source ``external``) is only tested: no source split.
        self.source = None if plan.source == EXTERNAL else load_prepared(plan.source)
        self.targets = {name: open_target(name, load_prepared) for name in plan.targets}
        for dataset in (self.source, *self.targets.values()):
            if dataset is not None:
                dataset.check_split_rule(self.protocol.splits)
        torch.manual_seed(plan.seed)
        self.input_size = self.protocol.input_size(data_config(self.model_spec)[0])
        self.built = build_model(
            self.model_spec,
            num_classes=NUM_CLASSES,
            pretrained=plan.pretrained,
            weights=Path(plan.weights) if plan.weights else None,
            input_size=self.input_size,
        )
        self.cache_size = max(self.protocol.input.cache_size, self.input_size)
        training = self.protocol.training
        self.memory_format = (torch.channels_last if training.channels_last
                              else torch.contiguous_format)
        self.use_model(self.built.module)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=training.lr,
            momentum=training.momentum,
            weight_decay=training.weight_decay,
        )
        self.amp = training.amp and self.cuda
        if self.cuda:  # fixed batch and input sizes: let cuDNN time its algorithms once
            torch.backends.cudnn.benchmark = True
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.loss_fn = nn.CrossEntropyLoss()

    # -- data ------------------------------------------------------------------------------

    def _images(self, dataset: PreparedDataset, split: str, shots: int | str = ALL
                ) -> CachedImages:
        arrays = dataset.split(split, self.cache_size)
        if shots == ALL:
            return CachedImages(arrays.images, arrays.labels)
        rows = few_shot_indices(arrays.paths, arrays.labels, dataset.fingerprint, shots,
                                self.plan.seed)
        return CachedImages(arrays.images[rows], arrays.labels[rows])

    def _transform(self, train: bool) -> BatchTransform:
        return BatchTransform(self.protocol.augmentation, self.input_size, self.built.mean,
                              self.built.std, train=train)

    def _check_validation(self, train: CachedImages, val: CachedImages) -> None:
        if len(train) == 0:
            raise RunError(f"the training split of {self.plan.source} is empty")
        if len(val) == 0:
            raise RunError(
                f"the validation split of {self.plan.source} is empty: early stopping needs it. "
                f"Re-prepare the data set with more images per class."
            )
        missing = sorted(set(train.labels.tolist()) - set(val.labels.tolist()))
        if missing:
            names = ", ".join(CLASSES[i] for i in missing)
            raise RunError(
                f"the validation split of {self.plan.source} lacks class(es) {names} that the "
                f"training split has: early stopping on it would ignore them"
            )

    # -- steps -----------------------------------------------------------------------------

    def _batches(self, loader: DataLoader, transform: BatchTransform,
                 generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
        """The loader's batches on the device, augmented, in the model's memory format.

        On the CPU and CUDA a :class:`Prefetcher` thread reads and augments the next batches
        while the model trains on this one (on CUDA that thread only queues the kernels);
        elsewhere (MPS) batches are prepared here. Close the result (``contextlib.closing``).
        """
        device = self.device  # "cuda" means the current device, which is per thread: fix it
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())

        def to_device(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
            images, labels = batch
            images = transform(images.to(device, non_blocking=True), generator)
            return (images.contiguous(memory_format=self.memory_format),
                    labels.to(device, non_blocking=True))

        if self.device.type in ("cpu", "cuda"):
            return Prefetcher(loader, to_device)
        return (to_device(batch) for batch in loader)

    def _train_epoch(self, data: CachedImages, epoch: int) -> dict[str, float]:
        training = self.protocol.training
        loader = train_loader(
            data, batch_size=training.batch_size, sampler=training.sampler, seed=self.plan.seed,
            epoch=epoch, workers=self.plan.workers, pin_memory=self.cuda,
        )
        transform = self._transform(train=True)
        generator = torch.Generator().manual_seed(epoch_seed(self.plan.seed, epoch) + 1)
        self.network.train()
        total, seen, started = 0.0, 0, time.perf_counter()
        with closing(self._batches(loader, transform, generator)) as batches:
            for batch, (images, labels) in enumerate(batches, start=1):
                loss = self._step(images, labels)
                if not math.isfinite(loss):
                    raise RunError(
                        f"the training loss became {loss} at epoch {epoch}, batch {batch}; "
                        f"the cell is stopped (try a lower learning rate in the protocol)"
                    )
                total += loss * len(labels)
                seen += len(labels)
                rate = seen / max(time.perf_counter() - started, 1e-9)
                self.listener.on_batch(epoch, batch, len(loader), loss, rate)
            waited = getattr(batches, "waited", None)
        elapsed = time.perf_counter() - started
        values = {"train_loss": total / max(seen, 1), "train_seconds": elapsed,
                  "images_per_second": seen / max(elapsed, 1e-9)}
        if waited is not None:  # the training loop's wait for data, which overlap did not hide
            values["data_wait_seconds"] = waited
        return values

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        """One optimiser step; the batch's loss (a non-finite loss takes no step)."""
        with torch.autocast(self.device.type, enabled=self.amp):
            loss = self.loss_fn(self.network(images), labels)
        value = loss.item()
        if not math.isfinite(value):
            return value
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return value

    @torch.no_grad()
    def predict(self, data: CachedImages) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities and summed loss over a split, in manifest order."""
        self.network.eval()
        loader = eval_loader(data, batch_size=2 * self.protocol.training.batch_size,
                             workers=self.plan.workers, pin_memory=self.cuda)
        chunks, loss, transform = [], 0.0, self._transform(train=False)
        with closing(self._batches(loader, transform)) as batches:
            for images, labels in batches:
                with torch.autocast(self.device.type, enabled=self.amp):
                    logits = self.network(images).float()
                loss += self.loss_fn(logits, labels).item() * len(labels)
                chunks.append(torch.softmax(logits, dim=1).cpu().numpy())
        probabilities = np.concatenate(chunks) if chunks else np.zeros((0, NUM_CLASSES))
        return probabilities, np.array(loss / max(len(data), 1))

    def _validate(self, data: CachedImages, epoch: int) -> dict[str, float]:
        started = time.perf_counter()
        probabilities, loss = self.predict(data)
        check_finite("validation loss", loss, epoch)
        check_finite("validation probabilities", probabilities, epoch)
        scores = evaluate_predictions("val", "", [""] * len(data), data.labels, probabilities)
        values = {"val_loss": float(loss),
                  **{f"val_{name}": scores.metrics[name] for name in VALIDATION_METRICS}}
        check_finite("validation metrics", np.array(list(values.values())), epoch)
        return {**values, "val_seconds": time.perf_counter() - started}

    # -- the loop --------------------------------------------------------------------------

    def use_model(self, module: nn.Module) -> None:
        """Set ``model`` (what is saved and loaded) and ``network`` (what runs: compiled or not)."""
        training = self.protocol.training
        self.model = module.to(self.device)
        if training.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.network = compiled(self.model) if training.compile else self.model

    def run(self) -> Outcome:
        plan, stopping = self.plan, self.protocol.early_stopping
        train = self._images(self.source, "train", self.protocol.training.shots)
        val = self._images(self.source, "val")
        self._check_validation(train, val)
        folder = plan.checkpoint_dir
        folder.mkdir(parents=True, exist_ok=True)
        last, best_path = folder / "last.pt", folder / "best.pt"
        sign = -1.0 if stopping.monitor == "val_loss" else 1.0
        state = {"epoch": 0, "best": -math.inf, "best_epoch": 0, "bad_epochs": 0, "history": []}
        if last.is_file():
            saved = load_checkpoint(last, self.device)
            self.model.load_state_dict(saved.pop("model"))
            self.optimizer.load_state_dict(saved.pop("optimizer"))
            self.scaler.load_state_dict(saved.pop("scaler"))
            state.update(saved)
            # last.pt is written before the epoch's row reaches the store: a kill between the
            # two would lose the row, so the caller gets the whole history again.
            self.listener.on_history(state["history"])
        self.listener.on_cell_start(plan, len(train), state["epoch"])
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        started = time.perf_counter()
        max_epochs = self.protocol.training.max_epochs
        while state["epoch"] < max_epochs and state["bad_epochs"] < stopping.patience:
            epoch = state["epoch"] + 1
            torch.manual_seed(epoch_seed(plan.seed, epoch))
            values = {**self._train_epoch(train, epoch), **self._validate(val, epoch)}
            score = sign * values[stopping.monitor]
            if score > state["best"] + stopping.min_delta:
                state.update(best=score, best_epoch=epoch, bad_epochs=0)
                save_atomically({"model": self.model.state_dict()}, best_path)
            else:
                state["bad_epochs"] += 1
            state["epoch"] = epoch
            state["history"].append({"epoch": epoch, **values})
            save_atomically({**state, "model": self.model.state_dict(),
                              "optimizer": self.optimizer.state_dict(),
                              "scaler": self.scaler.state_dict()}, last)
            self.listener.on_epoch(epoch, values)
        train_seconds = time.perf_counter() - started
        evaluations = self.test_checkpoint(best_path)
        return Outcome(
            evaluations=evaluations,
            epochs=state["epoch"],
            best_epoch=state["best_epoch"],
            history=state["history"],
            checkpoint=str(best_path),
            summary={
                "train_seconds_this_process": train_seconds,
                "device": str(self.device),
                "input_size": self.input_size,
                "cache_size": self.cache_size,
                "weights": self.built.weights,
                "source_fingerprint": self.source.fingerprint,
                "target_fingerprints": {n: d.fingerprint for n, d in self.targets.items()},
                "stopped_early": state["epoch"] < max_epochs,
                # The rule that chose the tested epoch: always the source's validation split.
                "selection": stopping.monitor,
                "device_info": device_description(
                    self.device, amp=self.amp, channels_last=self.protocol.training.channels_last,
                    compile_mode=compile_mode(self.protocol.training.compile)),
                "cost": cost_summary(state["history"], evaluations, self.device),
            },
        )

    def test_checkpoint(self, checkpoint: Path) -> list[Evaluation]:
        """Load a saved model (``best.pt``) and test it on every target of the plan."""
        self.model.load_state_dict(load_checkpoint(checkpoint, self.device)["model"])
        return [self._test(name, dataset) for name, dataset in self.targets.items()]

    def _test(self, name: str, dataset: PreparedDataset) -> Evaluation:
        self.listener.on_evaluate(name)
        data = self._images(dataset, "test")
        started = time.perf_counter()
        probabilities, _ = self.predict(data)
        seconds = time.perf_counter() - started
        check_finite(f"test probabilities on {name}", probabilities)
        paths = dataset.split("test", self.cache_size).paths
        evaluation = evaluate_predictions(name, dataset.fingerprint, paths, data.labels,
                                          probabilities)
        check_finite(f"test metrics on {name}", np.array(list(evaluation.metrics.values())))
        evaluation.seconds = seconds
        return evaluation


def test_as_built(plan: CellPlan, adapt: Callable[[nn.Module, dict[str, Any]], nn.Module],
                  listener: Listener | None = None) -> tuple[list[Evaluation], dict[str, Any]]:
    """Test the plan's model as built from its weights file; nothing is trained or saved.

    ``adapt(module, weights_record)`` checks and wraps the built module first (an external
    checkpoint's class order); returns the evaluations and the weights' provenance.
    """
    trainer = _Trainer(plan, listener or QuietListener())
    trainer.use_model(adapt(trainer.model, trainer.built.weights))
    evaluations = [trainer._test(name, data) for name, data in trainer.targets.items()]
    return evaluations, trainer.built.weights


def test_trained(plan: CellPlan, checkpoint: Path, listener: Listener | None = None
                 ) -> list[Evaluation]:
    """Test a trained model (its ``best.pt``) on the plan's targets; nothing is trained."""
    return _Trainer(plan, listener or QuietListener()).test_checkpoint(checkpoint)


def train_and_evaluate(plan: CellPlan, listener: Listener | None = None) -> Outcome:
    """Train one cell (resuming from its last epoch checkpoint) and test it on every target."""
    trainer = _Trainer(plan, listener or QuietListener())
    try:
        return trainer.run()
    except torch.cuda.OutOfMemoryError as exc:
        raise RunError(
            f"out of GPU memory training {plan.model} with batch size "
            f"{plan.protocol.training.batch_size} at {trainer.input_size} px; "
            f"try --batch-size {max(1, plan.protocol.training.batch_size // 2)}"
        ) from exc


class TrainingProbe:
    """A run's training step on its own data, for benchmarks (benchmarks/gpu_check.py).

    The cell's trainer (model, memory format, compile, AMP, optimiser) trains whole batches
    of the source's training split through the same loader, prefetch thread and step as a
    run; nothing is saved or recorded. Each call is a new epoch number, so new draws.
    """

    def __init__(self, plan: CellPlan):
        self.trainer = _Trainer(plan, QuietListener())
        self.data = self.trainer._images(self.trainer.source, "train")
        self.epoch = 0

    def train_batches(self, count: int) -> dict[str, float]:
        """Train ``count`` batches; their images/s, the device synchronised at the end."""
        size = self.trainer.protocol.training.batch_size
        if count * size <= len(self.data):
            head = CachedImages(self.data.images[:count * size], self.data.labels[:count * size])
        else:  # a small split is repeated (read into memory) to fill the batches
            order = np.resize(np.arange(len(self.data)), count * size)
            head = CachedImages(self.data.images[order], self.data.labels[order])
        self.epoch += 1
        started = time.perf_counter()
        self.trainer._train_epoch(head, self.epoch)
        if self.trainer.cuda:
            torch.cuda.synchronize(self.trainer.device)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "images_per_second": count * size / seconds}


SLOW_STEP_SECONDS = 10.0


def measure_cell(plan: CellPlan, batches: int = 2) -> dict[str, Any]:
    """Time this cell's training and test steps on its own data and device; save nothing.

    The model is built and trained for one warm-up batch and ``batches`` timed ones, then
    asked for one test batch. Returns seconds
    per training batch and per test batch, and the bytes its two checkpoints take (best.pt:
    the model; last.pt: the model, optimiser and scaler state).
    """
    from bench.engine.job_cost import tensor_bytes

    # Built as the run builds it (its weights too): a model that cannot be built fails here
    # before any cache is made for it, as the cell itself will fail.
    trainer = _Trainer(plan, QuietListener())
    size = trainer.protocol.training.batch_size
    train = trainer._images(trainer.source, "train")
    val = trainer._images(trainer.source, "val")

    def head(data: CachedImages, count: int) -> CachedImages:
        return CachedImages(data.images[:count], data.labels[:count])

    # The warm-up batch (allocation, autotuning) is timed too: when it is already slow, a
    # second look would not change the estimate, only make it slower to get.
    per_train = trainer._train_epoch(head(train, size), 1)["train_seconds"]
    if per_train < SLOW_STEP_SECONDS:
        timed = head(train, size * batches)
        seconds = trainer._train_epoch(timed, 2)["train_seconds"]
        per_train = seconds / (len(timed) // size if len(timed) > size else 1)
    probe = head(val if len(val) else train, 2 * size)
    started = time.perf_counter()
    trainer.predict(probe)
    per_test = time.perf_counter() - started
    model_bytes = tensor_bytes(trainer.model.state_dict())
    last_bytes = model_bytes + tensor_bytes(trainer.optimizer.state_dict()) + tensor_bytes(
        trainer.scaler.state_dict())
    return {
        "device": str(trainer.device),
        "seconds_per_batch": per_train,
        "seconds_per_test_batch": per_test,
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
        "checkpoint_bytes": model_bytes + last_bytes,
    }
