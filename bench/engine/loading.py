"""From the decoded cache to batches: per-sample augmentation, balanced sampling, seeding.

Every epoch's randomness is a pure function of (seed, epoch), so a run resumed from an epoch
checkpoint draws exactly the batches and augmentations the uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, WeightedRandomSampler
from torchvision.transforms import v2

from bench.protocol import Augmentation


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31)


class CachedImages(Dataset):
    """A split of the decoded cache (uint8 NHWC, usually memory-mapped) as CHW tensors."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: v2.Transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1)  # copy: memmaps are read-only
        return self.transform(image), int(self.labels[index])


def build_transform(
    augmentation: Augmentation,
    cache_size: int,
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    train: bool,
) -> v2.Transform:
    """The protocol's augmentation (training only) and the model's own preprocessing."""
    crop = max(1, round(cache_size * augmentation.centre_crop))
    finish = [
        v2.CenterCrop(crop),
        v2.Resize(input_size, antialias=True),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=list(mean), std=list(std)),
    ]
    if not train:
        return v2.Compose(finish)
    jitter = v2.ColorJitter(
        brightness=augmentation.jitter_brightness,
        contrast=augmentation.jitter_contrast,
        saturation=augmentation.jitter_saturation,
        hue=augmentation.jitter_hue,
    )
    blur = v2.RandomApply(
        [v2.GaussianBlur(kernel_size=5, sigma=augmentation.blur_sigma)], p=augmentation.blur_p
    )
    return v2.Compose(
        [
            v2.RandomRotation(augmentation.rotation_degrees),
            v2.RandomHorizontalFlip(augmentation.hflip),
            v2.RandomVerticalFlip(augmentation.vflip),
            finish[0],
            finish[1],
            blur,
            jitter,
            *finish[2:],
        ]
    )


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
        persistent_workers=False,
        drop_last=len(dataset) > batch_size,  # a batch of one breaks batch norm
    )


def eval_loader(
    dataset: CachedImages, *, batch_size: int, workers: int, pin_memory: bool
) -> DataLoader:
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=pin_memory
    )
