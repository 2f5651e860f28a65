"""Stain shifts in optical-density space (Ruifrok and Johnston's colour deconvolution)."""

from __future__ import annotations

import math

import numpy as np

from bench.shifts.context import ShiftContext
from bench.shifts.density import EXACT, remap_density, unit_stains


def _rotation(degrees: float) -> np.ndarray:
    """Rotation about the grey axis of OD space (Rodrigues): a stain changes hue, not depth."""
    axis = np.full(3, 1 / math.sqrt(3))
    theta = math.radians(degrees)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return (math.cos(theta) * np.eye(3) + math.sin(theta) * cross
            + (1 - math.cos(theta)) * np.outer(axis, axis))


def rotation_map(angle: float, hematoxylin: float, eosin: float) -> np.ndarray:
    """The 3x3 map of OD row vectors: unmix into stains, scale them, remix with turned vectors."""
    stains = unit_stains()
    turned = stains.copy()
    turned[0] = _rotation(angle) @ stains[0]
    turned[1] = _rotation(-angle) @ stains[1]
    scales = np.diag([hematoxylin, eosin, 1.0])
    return np.round(np.linalg.inv(stains) @ scales @ turned, EXACT)


def rotate_stains(image: np.ndarray, context: ShiftContext, *, angle: float,
                  hematoxylin: float, eosin: float) -> np.ndarray:
    """Suite v1's stain shift: the H and E vectors turn towards each other as they scale.

    Kept so that boards made under v1 reproduce; v2 scales and shifts concentrations instead,
    because turned vectors are a stain no slide has (see ``hed_jitter``).
    """
    return remap_density(image, rotation_map(angle, hematoxylin, eosin))
