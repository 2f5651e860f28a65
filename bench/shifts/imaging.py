"""What the microscope, the camera and the file format do: light, focus, JPEG, resolution, noise.

uint8 RGB in, uint8 RGB of the same shape out. Each output byte is the same on every machine
(tests pin sha256 checksums): per-channel maps are 256-entry tables computed
in Python floats; blur, JPEG and resampling are Pillow's integer code; noise is drawn from a
generator seeded by the image's own bytes, the shift and the severity.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageFilter

from bench.shifts.context import ShiftContext


def _lookup(image: np.ndarray, tables: list[list[int]]) -> np.ndarray:
    out = np.empty_like(image)
    for channel, table in enumerate(tables):
        out[..., channel] = np.array(table, dtype=np.uint8)[image[..., channel]]
    return out


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image), mode="RGB")


def illumination(image: np.ndarray, context: ShiftContext, *, brightness: float,
                 contrast: float, gains: list[float]) -> np.ndarray:
    def level(v: int, gain: float) -> int:
        value = ((v / 255 - 0.5) * contrast + 0.5 + brightness) * gain
        return min(255, max(0, math.floor(value * 255 + 0.5)))

    return _lookup(image, [[level(v, gain) for v in range(256)] for gain in gains])


def blur(image: np.ndarray, context: ShiftContext, *, sigma: float) -> np.ndarray:
    radius = context.pixels(sigma, image)  # Pillow's radius is the standard deviation
    return np.asarray(_pil(image).filter(ImageFilter.GaussianBlur(radius)), dtype=np.uint8)


def jpeg(image: np.ndarray, context: ShiftContext, *, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    _pil(image).save(buffer, format="JPEG", quality=int(quality), subsampling="4:2:0")
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)


def scale(image: np.ndarray, context: ShiftContext, *, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    small = (max(1, round(width * factor)), max(1, round(height * factor)))
    down = _pil(image).resize(small, Image.Resampling.LANCZOS)
    return np.asarray(down.resize((width, height), Image.Resampling.BICUBIC), dtype=np.uint8)


def noise(image: np.ndarray, context: ShiftContext, *, sigma: float) -> np.ndarray:
    draws = np.random.default_rng(context.seed(image)).standard_normal(image.shape)
    return np.clip(np.rint(image + sigma * draws), 0, 255).astype(np.uint8)
