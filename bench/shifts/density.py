"""Optical density and back, decided the same way on every machine.

A byte of a shifted image must not depend on the CPU: numpy's vectorised ``log``/``exp`` may
differ in the last bit between machines. So the density of each grey level is a 256-entry
table computed in Python floats, and a density maps back to a grey level by comparing with
exact bounds computed the same way (``np.exp`` only guesses).
"""

from __future__ import annotations

import math

import numpy as np

# Ruifrok & Johnston's stain vectors in optical density (scikit-image's ``rgb_from_hed``):
# haematoxylin, eosin, DAB. Giemsa's azure and eosin lie close to the first two.
STAIN_VECTORS = ((0.65, 0.70, 0.29), (0.07, 0.99, 0.11), (0.27, 0.57, 0.78))
EXACT = 12  # decimals a 3x3 density map is rounded to: LAPACK's last bits never reach a byte

# Optical density of each grey level, -ln((v + 1) / 256), and the boundaries between levels
# in -OD, ascending: level v is the count of boundaries at or below -OD.
OPTICAL_DENSITY = np.array([-math.log((v + 1) / 256) for v in range(256)])
LEVEL_BOUNDS = np.array([math.log((k + 1.5) / 256) for k in range(255)])
_BELOW = np.concatenate([[-np.inf], LEVEL_BOUNDS])  # level v needs -OD >= _BELOW[v]
_ABOVE = np.concatenate([LEVEL_BOUNDS, [np.inf]])  # and -OD < _ABOVE[v]


def unit_stains() -> np.ndarray:
    """The stain vectors as rows of unit length (haematoxylin, eosin, DAB)."""
    stains = np.array(STAIN_VECTORS, dtype=np.float64)
    return stains / np.linalg.norm(stains, axis=1, keepdims=True)


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


def remap_density(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Each pixel's density row vector times ``matrix``, back to grey levels.

    Explicit sums in a fixed order: no BLAS, whose blocking may reorder them.
    """
    density = OPTICAL_DENSITY[image]  # (..., 3) float64
    out = np.empty(image.shape, dtype=np.uint8)
    for channel in range(3):
        mixed = (density[..., 0] * matrix[0, channel] + density[..., 1] * matrix[1, channel]
                 + density[..., 2] * matrix[2, channel])
        out[..., channel] = to_levels(-mixed)
    return out
