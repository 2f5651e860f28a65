"""The protocol's augmentation, applied to a whole batch at once with per-sample randomness.

Per-image torchvision transforms cost about 8 ms per 224 px image on one CPU core, more than a
small model's step; here rotation, flips, centre crop and resize are one ``grid_sample``, blur
is one grouped convolution and colour jitter a few broadcast operations, on whatever device the
batch is on. Parameters are drawn from a seeded generator, so a resumed epoch is identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from bench.protocols import Augmentation

# RGB <-> YIQ: hue rotation is a rotation of the (I, Q) chroma plane.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)
_GREY = torch.tensor([0.299, 0.587, 0.114])


def _resized(images: torch.Tensor, side: int) -> torch.Tensor:
    """uint8 images as floats in [0, 1] at ``side`` px (bilinear, antialiased).

    On the CPU the uint8 batch is resized as uint8 (torch's vectorised path, which reads a
    quarter of the bytes) and only the smaller result becomes float; it is rounded to 1/255,
    as the cache itself is. Other devices resize in float.
    """
    if images.shape[-1] == side and images.shape[-2] == side:
        return images.float().div_(255)
    if images.device.type == "cpu" and images.dtype == torch.uint8:
        resized = F.interpolate(images, size=(side, side), mode="bilinear", antialias=True,
                                align_corners=False)
        return resized.float().div_(255)
    return F.interpolate(images.float().div_(255), size=(side, side), mode="bilinear",
                         antialias=True, align_corners=False)


class BatchTransform:
    """uint8 (B, 3, H, W) in, normalised float (B, 3, S, S) out; random only when training."""

    def __init__(self, augmentation: Augmentation, input_size: int, mean: Sequence[float],
                 std: Sequence[float], *, train: bool):
        self.aug, self.size, self.train = augmentation, input_size, train
        self.mean = torch.tensor(mean).view(1, 3, 1, 1)
        self.std = torch.tensor(std).view(1, 3, 1, 1)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        # Resize so that the centre crop is exactly the input size, with antialiasing.
        outer = max(self.size, round(self.size / self.aug.centre_crop))
        x = _resized(images, outer)
        if self.train:
            x = self._geometry(x, generator)
            x = self._blur(x, generator)
            x = self._colour(x, generator).clamp_(0, 1)
        else:
            start = (outer - self.size) // 2
            x = x[..., start:start + self.size, start:start + self.size].contiguous()
        return x.sub_(self.mean.to(x.device)).div_(self.std.to(x.device))

    def _uniform(self, n: int, low: float, high: float, generator) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (high - low) + low

    def _geometry(self, x: torch.Tensor, generator) -> torch.Tensor:
        """Rotate, flip and take the centre crop in one resampling."""
        n, outer = len(x), x.shape[-1]
        angle = torch.deg2rad(self._uniform(n, -self.aug.rotation_degrees,
                                            self.aug.rotation_degrees, generator))
        flip_x = torch.where(torch.rand(n, generator=generator) < self.aug.hflip, -1.0, 1.0)
        flip_y = torch.where(torch.rand(n, generator=generator) < self.aug.vflip, -1.0, 1.0)
        scale = self.size / outer
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        theta = torch.stack([
            torch.stack([cos * flip_x, -sin * flip_y, torch.zeros(n)], dim=1),
            torch.stack([sin * flip_x, cos * flip_y, torch.zeros(n)], dim=1),
        ], dim=1).to(x.device)
        grid = F.affine_grid(theta, [n, 3, self.size, self.size], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _blur(self, x: torch.Tensor, generator) -> torch.Tensor:
        """Gaussian blur (5 taps) with a per-sample sigma, as one grouped convolution.

        Only the samples drawn for blurring are convolved (the others were convolved with
        the identity kernel before, which changes no value): about a third of the work.
        """
        n = len(x)
        sigma = self._uniform(n, *self.aug.blur_sigma, generator)
        applied = torch.rand(n, generator=generator) < self.aug.blur_p
        chosen = int(applied.sum())
        if chosen == 0:
            return x
        taps = torch.arange(-2, 3, dtype=torch.float32)
        kernel = torch.exp(-(taps[None] ** 2) / (2 * sigma[applied, None] ** 2))
        kernel = kernel / kernel.sum(1, keepdim=True)
        kernel = kernel.repeat_interleave(3, dim=0).to(x.device)  # one per channel
        h, w = x.shape[-2:]
        index = applied.nonzero().squeeze(1).to(x.device)
        flat = F.pad(x.index_select(0, index).reshape(1, chosen * 3, h, w), (2, 2, 2, 2),
                     mode="reflect")
        flat = F.conv2d(flat, kernel.view(chosen * 3, 1, 1, 5), groups=chosen * 3)
        flat = F.conv2d(flat, kernel.view(chosen * 3, 1, 5, 1), groups=chosen * 3)
        return x.index_copy_(0, index, flat.view(chosen, 3, h, w))

    def _colour(self, x: torch.Tensor, generator) -> torch.Tensor:
        """Brightness, contrast, saturation and hue jitter as one affine colour map per sample.

        Each of the four is linear in RGB, so their product is one 3x3 matrix and an offset
        (contrast pulls towards the image's mean grey, which saturation and hue leave alone).
        Unlike torchvision, values are clamped once at the end rather than after each step.
        """
        n, aug = len(x), self.aug
        brightness = self._uniform(n, 1 - aug.jitter_brightness, 1 + aug.jitter_brightness,
                                   generator)
        contrast = self._uniform(n, 1 - aug.jitter_contrast, 1 + aug.jitter_contrast, generator)
        saturation = self._uniform(n, 1 - aug.jitter_saturation, 1 + aug.jitter_saturation,
                                   generator)
        hue = self._uniform(n, -aug.jitter_hue, aug.jitter_hue, generator) * 2 * math.pi
        cos, sin, one, zero = torch.cos(hue), torch.sin(hue), torch.ones(n), torch.zeros(n)
        rotation = torch.stack([
            torch.stack([one, zero, zero], 1),
            torch.stack([zero, cos, -sin], 1),
            torch.stack([zero, sin, cos], 1),
        ], 1)
        identity = torch.eye(3).expand(n, 3, 3)
        desaturate = saturation.view(n, 1, 1) * identity + (
            1 - saturation.view(n, 1, 1)) * _GREY.view(1, 1, 3).expand(n, 3, 3)
        matrix = _YIQ_TO_RGB @ rotation @ _RGB_TO_YIQ @ desaturate
        matrix = matrix * (brightness * contrast).view(n, 1, 1)
        mean_grey = torch.einsum("c,nchw->n", _GREY.to(x.device), x) / x[0, 0].numel()
        offset = (1 - contrast).to(x.device) * brightness.to(x.device) * mean_grey
        out = torch.einsum("nij,njhw->nihw", matrix.to(x.device), x)
        return out.add_(offset.view(n, 1, 1, 1))
