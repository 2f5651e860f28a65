"""Batch augmentation: seeded, per-sample, and the identity when every strength is zero."""

from __future__ import annotations

import dataclasses

import torch

import bench
from bench.engine.augment import BatchTransform

AUGMENT = bench.load_protocol("zedda2024").augmentation
MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def batch(n: int = 6, side: int = 40) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, side, side), generator=torch.Generator().manual_seed(0),
                         dtype=torch.uint8)


def test_same_seed_same_batch_and_every_sample_gets_its_own_draw():
    transform = BatchTransform(AUGMENT, 32, MEAN, STD, train=True)
    images = batch()
    first = transform(images, torch.Generator().manual_seed(1))
    again = transform(images, torch.Generator().manual_seed(1))
    other = transform(images, torch.Generator().manual_seed(2))
    assert first.shape == (6, 3, 32, 32)
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    same_image_twice = transform(images[:1].repeat(4, 1, 1, 1), torch.Generator().manual_seed(3))
    assert not torch.allclose(same_image_twice[0], same_image_twice[1])


def test_zero_strength_training_transform_is_the_evaluation_transform():
    still = dataclasses.replace(
        AUGMENT, rotation_degrees=0.0, hflip=0.0, vflip=0.0, blur_p=0.0, jitter_brightness=0.0,
        jitter_contrast=0.0, jitter_saturation=0.0, jitter_hue=0.0,
    )
    images = batch()
    trained = BatchTransform(still, 32, MEAN, STD, train=True)(images, torch.Generator())
    evaluated = BatchTransform(still, 32, MEAN, STD, train=False)(images)
    assert torch.allclose(trained, evaluated, atol=1e-4)


def test_evaluation_is_normalised_centre_crop():
    images = torch.full((2, 3, 20, 20), 255, dtype=torch.uint8)
    images[:, :, 10, 10] = 0
    out = BatchTransform(AUGMENT, 18, MEAN, STD, train=False)(images)  # 18 / 0.9 = 20: no resize
    assert out.shape == (2, 3, 18, 18)
    expected_white = (1 - torch.tensor(MEAN)) / torch.tensor(STD)
    assert torch.allclose(out[0, :, 0, 0], expected_white)
    assert torch.allclose(out[0, :, 9, 9], -torch.tensor(MEAN) / torch.tensor(STD))
