"""Stain shifts in optical-density space (Ruifrok and Johnston's colour deconvolution).

A pixel's optical density (OD, -ln of the light each channel lets through) is a sum of stains,
each a fixed direction (its vector) times a concentration. Unmixing on the vectors gives the
concentrations; a stain shift changes them and mixes back. Matrices are rounded to ``EXACT``
decimals and sums run in a fixed order (``bench.shifts.density``), so bytes never depend on
the CPU.
"""

from __future__ import annotations

import math

import numpy as np

from bench.shifts.context import ShiftContext
from bench.shifts.density import (
    EXACT,
    OPTICAL_DENSITY,
    remap_density,
    to_levels,
    unit_stains,
)

STAINED_OD = 0.15  # Macenko et al.'s threshold: a pixel below it in any channel is background


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

    Kept so that boards made under v1 reproduce. v2 uses :func:`hed_jitter`: turned vectors
    are a stain no slide has (at v1's severity 5 the two vectors nearly coincide).
    """
    return remap_density(image, rotation_map(angle, hematoxylin, eosin))


def hed_jitter(image: np.ndarray, context: ShiftContext, *, hematoxylin_scale: float,
               hematoxylin_shift: float, eosin_scale: float, eosin_shift: float) -> np.ndarray:
    """Scale and shift the haematoxylin and eosin concentrations (Tellez et al.'s HED jitter).

    ``c' = c * scale + shift`` per stain, in OD units on unit-length Ruifrok-Johnston vectors;
    the vectors themselves never move, and the third (DAB, here the residual) is kept. A shift
    never pushes a concentration below zero (a stain cannot emit light); a pixel whose
    unmixing already reads negative (noise) keeps its value.
    """
    stains = np.round(unit_stains(), EXACT)
    unmix = np.round(np.linalg.inv(unit_stains()), EXACT)
    density = OPTICAL_DENSITY[image]
    concentrations = [density[..., 0] * unmix[0, k] + density[..., 1] * unmix[1, k]
                      + density[..., 2] * unmix[2, k] for k in range(3)]
    for stain, scale, shift in ((0, hematoxylin_scale, hematoxylin_shift),
                                (1, eosin_scale, eosin_shift)):
        old = concentrations[stain]
        concentrations[stain] = np.maximum(old * scale + shift, np.minimum(old, 0.0))
    out = np.empty(image.shape, dtype=np.uint8)
    for channel in range(3):
        mixed = (concentrations[0] * stains[0, channel] + concentrations[1] * stains[1, channel]
                 + concentrations[2] * stains[2, channel])
        out[..., channel] = to_levels(-mixed)
    return out


def stain_separation(image: np.ndarray, *, percentile: float = 1.0) -> float:
    """The angle in degrees between the two stain directions Macenko et al.'s method finds.

    Pixels above ``STAINED_OD`` in every channel are projected on the plane of their two
    principal OD directions; the directions at the ``percentile`` and ``100 - percentile``
    angles in that plane are the two stains (Macenko et al., ISBI 2009; torchstain's OD
    convention, -ln((v + 1) / 240)). A shift that turns stains into each other shrinks it.
    """
    density = -np.log((np.asarray(image, dtype=np.float64).reshape(-1, 3) + 1) / 240)
    stained = density[(density > STAINED_OD).all(axis=1)]
    if len(stained) < 3:
        raise ValueError("fewer than 3 stained pixels: no stain directions to measure")
    _, vectors = np.linalg.eigh(np.cov(stained.T))
    plane = vectors[:, [2, 1]]  # the two largest principal directions
    plane[:, 0] *= np.sign(stained.mean(axis=0) @ plane[:, 0]) or 1.0  # point into the data:
    projected = stained @ plane  # angles then lie around 0, never split across +-pi
    angles = np.arctan2(projected[:, 1], projected[:, 0])
    low, high = np.percentile(angles, [percentile, 100 - percentile])
    first = plane @ np.array([math.cos(low), math.sin(low)])
    second = plane @ np.array([math.cos(high), math.sin(high)])
    cosine = abs(float(first @ second)) / float(np.linalg.norm(first) * np.linalg.norm(second))
    return math.degrees(math.acos(min(1.0, cosine)))
