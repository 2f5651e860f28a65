"""The heads a probe fits on frozen embeddings: a linear classifier and a k-nearest-neighbour vote.

Both give class probabilities over the five canonical classes (a class absent from the training
subset gets probability 0), so every metric, interval and calibration measure of a fine-tuned
model applies to a probe unchanged. A head saves itself as plain tensors and numbers, which
:func:`bench.engine.checkpoints.load_checkpoint` reads back without unpickling anything.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bench.errors import RunError
from bench.labels import CLASSES, NUM_CLASSES
from bench.metrics import VALIDATION_METRICS, evaluate_predictions
from bench.protocols import Probe

LOG_FLOOR = 1e-12  # probabilities are clipped here in the validation log loss


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, LOG_FLOOR, 1)).mean())


def validation_scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """What each candidate head records, as a fine-tuned epoch does (``val_*``)."""
    scores = evaluate_predictions("val", "", [""] * len(labels), labels, probabilities)
    return {"val_loss": log_loss(labels, probabilities),
            **{f"val_{name}": scores.metrics[name] for name in VALIDATION_METRICS}}


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class LinearHead:
    """Standardisation and a multinomial logistic regression over the classes it was fitted on."""

    mean: np.ndarray  # (D,) of the training embeddings
    scale: np.ndarray  # (D,) their standard deviation (1 where it is 0)
    weight: np.ndarray  # (C, D) over the standardised embeddings
    bias: np.ndarray  # (C,)
    classes: np.ndarray  # (C,) indices into bench.CLASSES
    c: float = 0.0  # the inverse L2 strength it was fitted with

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        standard = (np.asarray(embeddings, dtype=np.float64) - self.mean) / self.scale
        out = np.zeros((len(standard), NUM_CLASSES))
        out[:, self.classes] = _softmax(standard @ self.weight.T + self.bias)
        return out

    def state(self) -> dict[str, Any]:
        return {"head": "linear", "c": self.c, **{name: torch.from_numpy(getattr(self, name))
                for name in ("mean", "scale", "weight", "bias", "classes")}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LinearHead:
        return cls(**{name: state[name].numpy() for name in
                      ("mean", "scale", "weight", "bias", "classes")}, c=float(state["c"]))


@dataclass
class KnnHead:
    """DINO's weighted k-NN: the k most similar training embeddings vote, exp(similarity / T)."""

    bank: np.ndarray  # (N, D) training embeddings (kept L2-normalised, float32)
    labels: np.ndarray  # (N,) indices into bench.CLASSES
    k: int
    temperature: float
    chunk: int = 1024  # test embeddings compared at a time: bounds the similarity matrix

    def __post_init__(self) -> None:
        self.bank = _normalised(self.bank)
        self.labels = np.asarray(self.labels, dtype=np.int64)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        bank = torch.from_numpy(self.bank)
        labels = torch.from_numpy(self.labels)
        k = min(self.k, len(bank))
        out = []
        for start in range(0, len(embeddings), self.chunk):
            query = _normalised(np.asarray(embeddings[start:start + self.chunk]))
            similarity, nearest = (torch.from_numpy(query) @ bank.T).topk(k, dim=1)
            votes = torch.zeros(len(query), NUM_CLASSES, dtype=torch.float64)
            votes.scatter_add_(1, labels[nearest], similarity.double().div(self.temperature)
                               .exp())
            out.append((votes / votes.sum(dim=1, keepdim=True)).numpy())
        return np.concatenate(out) if out else np.zeros((0, NUM_CLASSES))

    def state(self) -> dict[str, Any]:
        return {"head": "knn", "k": self.k, "temperature": self.temperature,
                "bank": torch.from_numpy(self.bank), "labels": torch.from_numpy(self.labels)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KnnHead:
        return cls(state["bank"].numpy(), state["labels"].numpy(), int(state["k"]),
                   float(state["temperature"]))


Head = LinearHead | KnnHead


def head_from_state(state: dict[str, Any]) -> Head:
    kinds = {"linear": LinearHead, "knn": KnnHead}
    if state.get("head") not in kinds:
        raise RunError(f"a probe checkpoint of unknown kind {state.get('head')!r}")
    return kinds[state["head"]].from_state(state)


def _normalised(embeddings: np.ndarray) -> np.ndarray:
    rows = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


@dataclass
class Fitted:
    """A fitted head, the candidates tried (one history entry each), and which one won."""

    head: Head
    history: list[dict[str, float]]
    best: int  # 1-based index into history, as an epoch number


def _candidate(epoch: int, head: Head, train: np.ndarray, train_labels: np.ndarray,
               fit_seconds: float, val: np.ndarray, val_labels: np.ndarray,
               **extra: float) -> dict[str, float]:
    """One history entry, with the keys of a fine-tuned epoch (the cost columns read them)."""
    started = time.perf_counter()
    scores = validation_scores(val_labels, head.probabilities(val))
    return {"epoch": epoch, **extra,
            "train_loss": log_loss(train_labels, head.probabilities(train)),
            "train_seconds": fit_seconds,
            "images_per_second": len(train_labels) / max(fit_seconds, 1e-9), **scores,
            "val_seconds": time.perf_counter() - started}


def fit_linear(train: np.ndarray, train_labels: np.ndarray, val: np.ndarray,
               val_labels: np.ndarray, probe: Probe, *, monitor: str, balanced: bool,
               on_candidate: Any = None) -> Fitted:
    """One L-BFGS logistic regression per C on the grid; the best by ``monitor`` on val wins.

    C runs from the strongest regularisation to the weakest, each fit starting from the last
    one's solution (scikit-learn's ``warm_start``): deterministic, and quicker to converge.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    classes = np.unique(train_labels)
    if len(classes) < 2:
        raise RunError(f"the training subset holds one class ({CLASSES[classes[0]]}); a linear "
                       f"probe needs at least two")
    rows = np.asarray(train, dtype=np.float64)
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    standard = (rows - mean) / scale
    model = LogisticRegression(max_iter=probe.max_iter, warm_start=True,
                               class_weight="balanced" if balanced else None)
    history, heads = [], []
    for epoch, c in enumerate(np.logspace(np.log10(probe.c_low), np.log10(probe.c_high),
                                          probe.c_steps), start=1):
        started = time.perf_counter()
        model.set_params(C=float(c))
        # One BLAS thread: L-BFGS here is thousands of small products, where threads cost more
        # than they give (a 750 x 384 fit took 7x longer with 2 threads on a loaded 2-core
        # host), and the order of the sums, so the fitted head, does not depend on the cores.
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)  # the budget is the protocol's
            model.fit(standard, train_labels)
        fit_seconds = time.perf_counter() - started
        coef, intercept = model.coef_, model.intercept_
        if len(classes) == 2:  # scikit-learn keeps one row for two classes: make it two
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-1, 1]) * intercept / 2
        head = LinearHead(mean, scale, coef.copy(), intercept.copy(), classes, float(c))
        entry = _candidate(epoch, head, rows, train_labels, fit_seconds, val, val_labels,
                           c=float(c), iterations=float(np.max(model.n_iter_)))
        history.append(entry)
        heads.append(head)
        if on_candidate is not None:
            on_candidate(epoch, {k: v for k, v in entry.items() if k != "epoch"})
    sign = -1.0 if monitor == "val_loss" else 1.0
    best = max(range(len(history)), key=lambda i: (sign * history[i][monitor], -i))
    return Fitted(heads[best], history, best + 1)


def fit_knn(train: np.ndarray, train_labels: np.ndarray, val: np.ndarray,
            val_labels: np.ndarray, probe: Probe, *, on_candidate: Any = None) -> Fitted:
    """The training embeddings as the bank; nothing to choose, the validation score recorded."""
    started = time.perf_counter()
    head = KnnHead(train, train_labels, probe.k, probe.temperature)
    fit_seconds = time.perf_counter() - started
    entry = _candidate(1, head, train, train_labels, fit_seconds, val, val_labels,
                       k=float(min(probe.k, len(train))))
    if on_candidate is not None:
        on_candidate(1, {k: v for k, v in entry.items() if k != "epoch"})
    return Fitted(head, [entry], 1)
