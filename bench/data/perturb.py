"""The shifts themselves: uint8 RGB image in, uint8 RGB image of the same shape out.

Each output byte must be the same on every machine (tests pin sha256 checksums). So no
vectorised ``log``/``exp`` decides a byte (numpy's SIMD paths may differ in the last bit
between CPUs): per-channel maps are 256-entry tables computed in Python floats, the stain map
rounds back from optical density by comparing with thresholds computed the same way, and
blur, JPEG and resampling are Pillow's integer code. Noise is drawn from a generator seeded
by the image's own bytes, the shift and the severity.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

# Ruifrok & Johnston's stain vectors in optical density (scikit-image's ``rgb_from_hed``):
# haematoxylin, eosin, DAB. Giemsa's azure and eosin lie close to the first two.
STAIN_VECTORS = ((0.65, 0.70, 0.29), (0.07, 0.99, 0.11), (0.27, 0.57, 0.78))
EXACT = 12  # decimals the 3x3 stain map is rounded to: LAPACK's last bits never reach a byte

# Optical density of each grey level, -ln((v + 1) / 256), and the boundaries between levels
# in -OD, ascending: level v is the count of boundaries at or below -OD.
OPTICAL_DENSITY = np.array([-math.log((v + 1) / 256) for v in range(256)])
LEVEL_BOUNDS = np.array([math.log((k + 1.5) / 256) for k in range(255)])
_BELOW = np.concatenate([[-np.inf], LEVEL_BOUNDS])  # level v needs -OD >= _BELOW[v]
_ABOVE = np.concatenate([LEVEL_BOUNDS, [np.inf]])  # and -OD < _ABOVE[v]


def _rotation(degrees: float) -> np.ndarray:
    """Rotation about the grey axis of OD space (Rodrigues): a stain changes hue, not depth."""
    axis = np.full(3, 1 / math.sqrt(3))
    theta = math.radians(degrees)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return (math.cos(theta) * np.eye(3) + math.sin(theta) * cross
            + (1 - math.cos(theta)) * np.outer(axis, axis))


def stain_map(angle: float, hematoxylin: float, eosin: float) -> np.ndarray:
    """The 3x3 map of OD row vectors: unmix into stains, scale them, remix with turned vectors."""
    stains = np.array(STAIN_VECTORS, dtype=np.float64)
    stains /= np.linalg.norm(stains, axis=1, keepdims=True)
    turned = stains.copy()
    turned[0] = _rotation(angle) @ stains[0]
    turned[1] = _rotation(-angle) @ stains[1]
    scales = np.diag([hematoxylin, eosin, 1.0])
    return np.round(np.linalg.inv(stains) @ scales @ turned, EXACT)


def stain(image: np.ndarray, *, angle: float, hematoxylin: float, eosin: float) -> np.ndarray:
    matrix = stain_map(angle, hematoxylin, eosin)
    density = OPTICAL_DENSITY[image]  # (..., 3) float64
    out = np.empty(image.shape, dtype=np.uint8)
    for channel in range(3):  # explicit sums in a fixed order: no BLAS, no reordering
        mixed = (density[..., 0] * matrix[0, channel] + density[..., 1] * matrix[1, channel]
                 + density[..., 2] * matrix[2, channel])
        out[..., channel] = to_levels(-mixed)
    return out


def to_levels(log_light: np.ndarray) -> np.ndarray:
    """Grey levels from ln((v + 1) / 256): ``np.exp`` guesses, the exact bounds decide.

    The same as counting the bounds at or below each value (``np.searchsorted``), several
    times faster; a guess off by a level where ``exp``'s last bit differs is corrected.
    """
    guess = np.clip(np.floor(256 * np.exp(log_light) - 0.5), 0, 255).astype(np.int64)
    while True:
        low = log_light < _BELOW[guess]
        high = log_light >= _ABOVE[guess]
        if not (low.any() or high.any()):
            return guess.astype(np.uint8)
        guess = guess - low + high


def _lookup(image: np.ndarray, tables: list[list[int]]) -> np.ndarray:
    out = np.empty_like(image)
    for channel, table in enumerate(tables):
        out[..., channel] = np.array(table, dtype=np.uint8)[image[..., channel]]
    return out


def illumination(image: np.ndarray, *, brightness: float, contrast: float,
                 gains: list[float]) -> np.ndarray:
    def level(v: int, gain: float) -> int:
        value = ((v / 255 - 0.5) * contrast + 0.5 + brightness) * gain
        return min(255, max(0, math.floor(value * 255 + 0.5)))

    return _lookup(image, [[level(v, gain) for v in range(256)] for gain in gains])


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image), mode="RGB")


def blur(image: np.ndarray, *, sigma: float, reference_size: int) -> np.ndarray:
    radius = sigma * image.shape[0] / reference_size  # Pillow's radius is the std deviation
    return np.asarray(_pil(image).filter(ImageFilter.GaussianBlur(radius)), dtype=np.uint8)


def jpeg(image: np.ndarray, *, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    _pil(image).save(buffer, format="JPEG", quality=int(quality), subsampling="4:2:0")
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)


def scale(image: np.ndarray, *, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    small = (max(1, round(width * factor)), max(1, round(height * factor)))
    down = _pil(image).resize(small, Image.Resampling.LANCZOS)
    return np.asarray(down.resize((width, height), Image.Resampling.BICUBIC), dtype=np.uint8)


def noise_seed(image: np.ndarray, shift: str, level: str) -> int:
    """A seed from the image's bytes and shape, the shift and the severity."""
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes())
    digest.update(f"{image.shape}:{shift}:{level}".encode())
    return int.from_bytes(digest.digest()[:16], "little")


def noise(image: np.ndarray, *, sigma: float, seed: int) -> np.ndarray:
    draws = np.random.default_rng(seed).standard_normal(image.shape)
    return np.clip(np.rint(image + sigma * draws), 0, 255).astype(np.uint8)


SHIFTS: dict[str, Callable[..., np.ndarray]] = {
    "stain": stain, "illumination": illumination, "blur": blur, "jpeg": jpeg, "scale": scale,
    "noise": noise,
}


def perturb(image: np.ndarray, shift: str, parameters: dict[str, Any], *, level: str = "",
            reference_size: int = 256) -> np.ndarray:
    """Apply ``shift`` with ``parameters`` (one severity of the suite) to one image."""
    image = np.asarray(image, dtype=np.uint8)
    extra: dict[str, Any] = {}
    if shift == "blur":
        extra["reference_size"] = reference_size
    if shift == "noise":
        extra["seed"] = noise_seed(image, shift, level)
    return SHIFTS[shift](image, **parameters, **extra)
