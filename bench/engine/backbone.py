"""A frozen backbone: any registered model without its classifier, mapping images to embeddings.

The model is built as fine-tuning builds it (:func:`bench.models.build_model`: the same weights,
the same checks), then its classifier is removed: timm models through ``reset_classifier(0)``
(their pooled, normalised pre-logits features), any other model by replacing its last linear
layer with an identity (the embedding is that layer's input). A random backbone
(``--no-pretrained``) is drawn once from seed 0, so every seed's probe reads the same embeddings.

Images are preprocessed as evaluation does (:class:`bench.engine.augment.BatchTransform` without
randomness: resize, centre crop, normalise), and each batch through the model counts as one
backbone pass (``passes``), which is what the embedding cache saves.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.engine.augment import BatchTransform
from bench.engine.embeddings import EmbeddingKey
from bench.engine.loading import CachedImages, eval_loader
from bench.engine.plans import CellPlan
from bench.errors import RunError
from bench.host import get_registries
from bench.labels import NUM_CLASSES
from bench.models import build_model, data_config

Progress = Callable[[int, int, float], None]  # (batch, batches, images per second)
BACKBONE_SEED = 0  # the draw of a random backbone, whatever the cell's seed

# Weights hashes known in this process, by what the backbone is built from: a second probe on
# the same backbone in one process (shots, seeds, heads) needs neither the build nor the hash.
_KNOWN_HASHES: dict[tuple[str, str, int], str] = {}


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def remove_classifier(module: nn.Module, name: str) -> nn.Module:
    """``module`` mapping images to its embeddings instead of class scores."""
    if callable(getattr(module, "reset_classifier", None)):
        module.reset_classifier(0)  # timm: forward() then returns the pooled pre-logits
        return module
    linears = [(path, layer) for path, layer in module.named_modules()
               if isinstance(layer, nn.Linear)]
    if not linears:
        raise RunError(f"{name} has no linear classifier layer to remove, so bench cannot tell "
                       f"its embedding; a probe needs a model whose last layer is nn.Linear or "
                       f"a timm model.")
    path, _ = linears[-1]
    parent_path, _, attribute = path.rpartition(".")
    parent = module.get_submodule(parent_path) if parent_path else module
    setattr(parent, attribute, nn.Identity())
    return module


class FrozenBackbone:
    """A plan's model as a frozen feature extractor, built only when an embedding is missing."""

    def __init__(self, plan: CellPlan, device: torch.device, *,
                 expected_sha256: str | None = None):
        self.plan, self.device = plan, device
        protocol = plan.protocol
        self.spec = get_registries().models.get(plan.model)
        native, self.mean, self.std, _ = data_config(self.spec)
        self.input_size = protocol.input_size(native)
        self.cache_size = max(protocol.input.cache_size, self.input_size)
        self.amp = protocol.training.amp and device.type == "cuda"
        self.batch_size = 2 * protocol.training.batch_size
        self.identity = (plan.model, plan.init, self.input_size)
        self.expected = expected_sha256  # a fitted probe's backbone: rebuilt, it must match
        self.passes = 0
        self.weights_record: dict[str, Any] = {}
        self._module: nn.Module | None = None

    @property
    def weights_sha256(self) -> str:
        if self.expected:
            return self.expected
        if self.identity not in _KNOWN_HASHES:
            self.module  # noqa: B018 - building records the hash
        return _KNOWN_HASHES[self.identity]

    @property
    def module(self) -> nn.Module:
        if self._module is None:
            self._module = self._build()
        return self._module

    def _build(self) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(BACKBONE_SEED)
            built = build_model(self.spec, num_classes=NUM_CLASSES,
                                pretrained=self.plan.pretrained,
                                weights=Path(self.plan.weights) if self.plan.weights else None,
                                input_size=self.input_size)
        self.weights_record = built.weights
        module = remove_classifier(built.module, f"model {self.plan.model!r}").eval()
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        digest = tensors_sha256(module.state_dict())
        if self.expected and digest != self.expected:
            raise RunError(
                f"the backbone of {self.plan.model} built now (weights sha256 {digest[:12]}) is "
                f"not the one its probe was fitted on ({self.expected[:12]}): its weights or "
                f"code changed. Fit the probe again (bench runs forget ID, then bench run).")
        _KNOWN_HASHES[self.identity] = digest
        return module.to(self.device)

    def key(self, fingerprint: str, split: str) -> EmbeddingKey:
        """The cache key of this backbone's embeddings of one split of a data set."""
        crop = self.plan.protocol.augmentation.centre_crop
        preprocessing = {"cache_size": self.cache_size, "centre_crop": crop,
                         "mean": list(self.mean), "std": list(self.std),
                         "resize": "bilinear-antialias",
                         "precision": "float16-autocast" if self.amp else "float32"}
        return EmbeddingKey(self.weights_sha256, fingerprint, split, self.input_size,
                            tuple(sorted(preprocessing.items())))

    @torch.no_grad()
    def embed(self, images: np.ndarray, progress: Progress | None = None
              ) -> Iterator[np.ndarray]:
        """Embeddings of uint8 NHWC images, a batch at a time (float32, one row per image).

        ``progress(batch, batches, images_per_second)`` is called after each batch.
        """
        transform = BatchTransform(self.plan.protocol.augmentation, self.input_size, self.mean,
                                   self.std, train=False)
        data = CachedImages(images, np.zeros(len(images), dtype=np.int64))
        loader = eval_loader(data, batch_size=self.batch_size, workers=self.plan.workers,
                             pin_memory=self.device.type == "cuda")
        module = self.module
        started, seen = time.perf_counter(), 0
        for number, (batch, _) in enumerate(loader, start=1):
            batch = transform(batch.to(self.device, non_blocking=True))
            with torch.autocast(self.device.type, enabled=self.amp):
                output = module(batch)
            self.passes += 1
            if not isinstance(output, torch.Tensor) or output.ndim != 2:
                shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output)
                raise RunError(f"model {self.plan.model!r} without its classifier gives {shape} "
                               f"per batch, not one embedding vector per image")
            rows = output.float().cpu().numpy()
            if not np.isfinite(rows).all():
                raise RunError(f"model {self.plan.model!r} gives embeddings that are not finite "
                               f"(NaN or infinity); its weights are broken")
            seen += len(rows)
            if progress is not None:
                progress(number, len(loader), seen / max(time.perf_counter() - started, 1e-9))
            yield rows
