"""From the decoded cache to batches: per-sample augmentation, balanced sampling, seeding.

Every epoch's randomness is a pure function of (seed, epoch), so a run resumed from an epoch
checkpoint draws exactly the batches and augmentations the uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, WeightedRandomSampler


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31)


class CachedImages(Dataset):
    """A split of the decoded cache (uint8 NHWC, usually memory-mapped) served in batches.

    Items stay uint8 until they reach the device, where :class:`BatchTransform` augments the
    whole batch at once; fetching a batch is one fancy-indexed read of the memory map.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.__getitems__([index])

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        order = np.asarray(indices)
        images = torch.from_numpy(np.ascontiguousarray(self.images[order]))  # a copy: writable
        return images.permute(0, 3, 1, 2), torch.from_numpy(self.labels[order])


def _batched(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # __getitems__ already returns a whole batch


def balanced_weights(labels: np.ndarray) -> torch.Tensor:
    """Inverse class frequency: every class is drawn equally often."""
    counts = np.bincount(labels)
    return torch.as_tensor(1.0 / counts[labels], dtype=torch.double)


def train_loader(
    dataset: CachedImages,
    *,
    batch_size: int,
    sampler: str,
    seed: int,
    epoch: int,
    workers: int,
    pin_memory: bool,
) -> DataLoader:
    generator = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    if sampler == "balanced":
        chosen = WeightedRandomSampler(
            balanced_weights(dataset.labels), len(dataset), replacement=True, generator=generator
        )
    else:
        chosen = RandomSampler(dataset, generator=generator)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=chosen,
        num_workers=workers,
        pin_memory=pin_memory,
        generator=generator,
        collate_fn=_batched,
        drop_last=len(dataset) > batch_size,  # a batch of one breaks batch norm
    )


def eval_loader(
    dataset: CachedImages, *, batch_size: int, workers: int, pin_memory: bool
) -> DataLoader:
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=pin_memory,
        collate_fn=_batched,
    )
