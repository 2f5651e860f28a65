"""A probe cell: a frozen backbone's cached embeddings, a head fitted on them, every target tested.

What fine-tuning does with a model, a probe does with its embeddings: the head is fitted on the
source's train split (``training.shots`` images per class of it), chosen on its validation split
by the protocol's monitor, saved as the cell's checkpoint (``head.pt``), and tested on every
target's test split. The backbone runs only for embeddings the cache (:mod:`bench.engine.
embeddings`) lacks, so a second probe on the same backbone makes no backbone pass; each cell
says how many it made. Outcomes are the fine-tuning ones (scores, predictions, history, cost), so
a probe's results are ordinary cells on ordinary boards, kept apart by their protocol hash.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.data import PreparedDataset, load_prepared
from bench.engine.backbone import FrozenBackbone
from bench.engine.checkpoints import check_finite, load_checkpoint, save_atomically
from bench.engine.embeddings import read_embeddings, write_embeddings
from bench.engine.few_shot import few_shot_indices
from bench.engine.heads import Fitted, Head, fit_knn, fit_linear, head_from_state
from bench.engine.job_cost import cost_summary
from bench.engine.plans import CellPlan, Outcome
from bench.engine.run_display import Listener, QuietListener
from bench.engine.training import resolve_device
from bench.errors import RunError
from bench.labels import CLASSES
from bench.metrics import evaluate_predictions
from bench.provenance import device_description, peak_memory
from bench.shifts.dataset import open_target
from bench.store import Evaluation
from bench.weights import initialisation

HEAD_FILE = "head.pt"


@dataclass
class SplitEmbeddings:
    """One split's embeddings (a memory map when cached), labels and paths, in split order."""

    vectors: np.ndarray
    labels: np.ndarray
    paths: list[str]
    cached: bool  # read from the cache rather than made now
    seconds: float  # reading or making them

    def subset(self, rows: np.ndarray) -> SplitEmbeddings:
        return SplitEmbeddings(np.asarray(self.vectors[rows]), self.labels[rows],
                               [self.paths[i] for i in rows], self.cached, self.seconds)


class _ProbeCell:
    """One cell's data sets, backbone and listener; the methods read in the order they run."""

    def __init__(self, plan: CellPlan, listener: Listener, *, expected_sha256: str | None = None):
        self.plan, self.listener, self.protocol = plan, listener, plan.protocol
        self.device = resolve_device(plan.device)
        plan.init = plan.init or initialisation(plan.pretrained, plan.weights)
        self.source = load_prepared(plan.source)
        self.targets = {name: open_target(name, load_prepared) for name in plan.targets}
        for dataset in (self.source, *self.targets.values()):
            dataset.check_split_rule(self.protocol.splits)
        self.backbone = FrozenBackbone(plan, self.device, expected_sha256=expected_sha256)
        self.embedded: dict[str, dict[str, Any]] = {}  # "name/split" -> cached, seconds

    def embeddings(self, dataset: PreparedDataset, split: str) -> SplitEmbeddings:
        """A split's embeddings from the cache, or made now (and cached) when missing."""
        started = time.perf_counter()
        arrays = dataset.split(split, self.backbone.cache_size)
        key = self.backbone.key(dataset.fingerprint, split)
        vectors = read_embeddings(key, len(arrays))
        cached = vectors is not None
        if vectors is None:
            passes = self.backbone.passes
            batches = self.backbone.embed(arrays.images, self._progress)
            vectors = write_embeddings(key, len(arrays), batches,
                                       about={"model": self.plan.model, "dataset": dataset.name,
                                              "init": self.plan.init})
            self.listener.notice(f"embedded {dataset.name} {split} ({len(arrays)} images, "
                                 f"{self.backbone.passes - passes} backbone passes); cached")
        seconds = time.perf_counter() - started
        self.embedded[f"{dataset.name}/{split}"] = {"cached": cached,
                                                    "seconds": round(seconds, 3)}
        return SplitEmbeddings(vectors, arrays.labels, arrays.paths, cached, seconds)

    def _progress(self, batch: int, batches: int, rate: float) -> None:
        self.listener.on_batch(0, batch, batches, math.nan, rate)  # no loss: embedding

    def training_rows(self) -> np.ndarray:
        """The source's training images the head sees (``training.shots`` per class)."""
        arrays = self.source.split("train", self.backbone.cache_size)
        return few_shot_indices(arrays.paths, arrays.labels, self.source.fingerprint,
                                self.protocol.training.shots, self.plan.seed)

    def training_data(self, rows: np.ndarray) -> tuple[SplitEmbeddings, SplitEmbeddings]:
        train = self.embeddings(self.source, "train").subset(rows)
        val = self.embeddings(self.source, "val")
        if len(train.labels) == 0:
            raise RunError(f"the training split of {self.plan.source} is empty")
        if len(val.labels) == 0:
            raise RunError(f"the validation split of {self.plan.source} is empty: the probe is "
                           f"chosen on it. Re-prepare the data set with more images per class.")
        missing = sorted(set(train.labels.tolist()) - set(val.labels.tolist()))
        if missing:
            raise RunError(f"the validation split of {self.plan.source} lacks class(es) "
                           f"{', '.join(CLASSES[i] for i in missing)} that the training split "
                           f"has: choosing the probe on it would ignore them")
        return train, val

    def fit(self, train: SplitEmbeddings, val: SplitEmbeddings) -> Fitted:
        probe = self.protocol.probe
        if probe.head == "knn":
            return fit_knn(train.vectors, train.labels, val.vectors, val.labels, probe,
                           on_candidate=self.listener.on_epoch)
        return fit_linear(train.vectors, train.labels, val.vectors, val.labels, probe,
                          monitor=self.protocol.early_stopping.monitor,
                          balanced=self.protocol.training.sampler == "balanced",
                          on_candidate=self.listener.on_epoch)

    def test(self, head: Head) -> list[Evaluation]:
        return [self._test(name, dataset, head) for name, dataset in self.targets.items()]

    def _test(self, name: str, dataset: PreparedDataset, head: Head) -> Evaluation:
        self.listener.on_evaluate(name)
        test = self.embeddings(dataset, "test")
        started = time.perf_counter()
        probabilities = head.probabilities(test.vectors)
        seconds = test.seconds + time.perf_counter() - started
        check_finite(f"test probabilities on {name}", probabilities)
        evaluation = evaluate_predictions(name, dataset.fingerprint, test.paths, test.labels,
                                          probabilities)
        evaluation.seconds = seconds
        return evaluation

    def run(self) -> Outcome:
        rows = self.training_rows()
        self.listener.on_cell_start(self.plan, len(rows), 0)
        train, val = self.training_data(rows)
        fitted = self.fit(train, val)
        folder = self.plan.checkpoint_dir
        folder.mkdir(parents=True, exist_ok=True)
        checkpoint = folder / HEAD_FILE
        save_atomically({**fitted.head.state(),
                          "weights_sha256": self.backbone.weights_sha256}, checkpoint)
        evaluations = self.test(fitted.head)
        return Outcome(evaluations=evaluations, epochs=len(fitted.history),
                       best_epoch=fitted.best, history=fitted.history,
                       checkpoint=str(checkpoint),
                       summary=self.summary(fitted, evaluations, len(train.labels)))

    def summary(self, fitted: Fitted, evaluations: list[Evaluation], train_images: int
                ) -> dict[str, Any]:
        """The fine-tuning summary's keys (cost, device_info, selection ...) and the probe's."""
        cost = cost_summary(fitted.history, evaluations, self.device)
        embedding_seconds = sum(entry["seconds"] for name, entry in self.embedded.items()
                                if name.startswith(f"{self.source.name}/"))
        cost["wall_seconds"] = round(cost["wall_seconds"] + embedding_seconds, 3)
        cost["peak_memory"] = peak_memory(self.device)
        protocol, backbone = self.protocol, self.backbone
        return {
            "train_seconds_this_process": cost["train_seconds"],
            "device": str(self.device),
            "input_size": backbone.input_size,
            "cache_size": backbone.cache_size,
            "weights": backbone.weights_record,
            "source_fingerprint": self.source.fingerprint,
            "target_fingerprints": {n: d.fingerprint for n, d in self.targets.items()},
            "stopped_early": False,
            "selection": protocol.early_stopping.monitor,
            "device_info": device_description(self.device, amp=backbone.amp,
                                              channels_last=False),
            "cost": cost,
            "probe": {
                "head": protocol.probe.head,
                "weights_sha256": backbone.weights_sha256,
                "backbone_passes": backbone.passes,
                "train_images": train_images,
                "shots": protocol.training.shots,
                "chosen": {k: v for k, v in fitted.history[fitted.best - 1].items()
                           if k in ("c", "k", "iterations")},
                "embeddings": self.embedded,
            },
        }


def fit_probe(plan: CellPlan, listener: Listener | None = None) -> Outcome:
    """Fit one probe cell and test it on every target; the runner records the outcome."""
    listener = listener or QuietListener()
    cell = _ProbeCell(plan, listener)
    try:
        outcome = cell.run()
    except torch.cuda.OutOfMemoryError as exc:
        raise RunError(f"out of GPU memory embedding with {plan.model} at batch size "
                       f"{cell.backbone.batch_size}; try --batch-size "
                       f"{max(1, plan.protocol.training.batch_size // 2)}") from exc
    listener.notice(f"{plan.model} on {plan.source} (seed {plan.seed}): "
                    f"{cell.backbone.passes} backbone passes")
    return outcome


def test_probe(plan: CellPlan, checkpoint: Path, listener: Listener | None = None
               ) -> list[Evaluation]:
    """Test a fitted probe (its ``head.pt``) on the plan's targets; nothing is fitted."""
    state = load_checkpoint(checkpoint)
    cell = _ProbeCell(plan, listener or QuietListener(),
                      expected_sha256=str(state.get("weights_sha256") or "") or None)
    return cell.test(head_from_state(state))


def missing_embeddings(plan: CellPlan) -> dict[str, int]:
    """The embedding entries a probe cell would make (key digest -> images): none when cached.

    Builds the backbone once per process to know its weights hash, as the cell itself would.
    """
    cell = _ProbeCell(plan, QuietListener())
    wanted = [(cell.source, "train"), (cell.source, "val"),
              *((dataset, "test") for dataset in cell.targets.values())]
    missing = {}
    for dataset, split in wanted:
        count = sum(per_class.get(split, 0) for per_class in dataset.counts().values())
        key = cell.backbone.key(dataset.fingerprint, split)
        if read_embeddings(key, count) is None:
            missing[key.digest] = count
    return missing


def measure_probe(plan: CellPlan, images: int = 16) -> dict[str, Any]:
    """Seconds per backbone pass on this device, timed on a few of the source's images.

    Two images warm up (allocation, autotuning), then ``images`` are timed and scaled to a
    batch: a run's own estimate costs it a handful of images, not whole batches.
    """
    cell = _ProbeCell(plan, QuietListener())
    backbone = cell.backbone
    sample = cell.source.split("train", backbone.cache_size).images[:images]
    width = next(backbone.embed(sample[:2])).shape[1]
    started = time.perf_counter()
    next(backbone.embed(sample))
    per_batch = (time.perf_counter() - started) * backbone.batch_size / max(len(sample), 1)
    return {"device": str(cell.device), "seconds_per_batch": per_batch,
            "seconds_per_test_batch": per_batch, "batch_size": backbone.batch_size,
            "embedding_width": width,
            "parameters": sum(p.numel() for p in backbone.module.parameters())}


def head_bytes(plan: CellPlan, width: int, train_images: int) -> int:
    """What ``head.pt`` takes: a k-NN head keeps its training embeddings, a linear one weights."""
    if plan.protocol.probe.head == "knn":
        return train_images * width * 4
    return (len(CLASSES) + 2) * width * 8
