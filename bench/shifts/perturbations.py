"""Every perturbation the suite files may name: one row each, and one way to apply them.

A row says what the perturbation takes (its parameters, in the order the suite file gives
them at each severity), what a higher severity means, which parameters change nothing (the
contract test checks that they do not), and the function. Adding a perturbation is one
function and one row; a suite file then names it (``perturbation = "..."``) under a shift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.errors import UnknownNameError
from bench.shifts import imaging, stain
from bench.shifts.context import ShiftContext


@dataclass(frozen=True)
class Perturbation:
    """One kind of shift: ``function(image, context, **parameters)`` gives the shifted image."""

    name: str
    parameters: tuple[str, ...]
    function: Callable[..., np.ndarray]
    severity: str  # what rises with the severity, in words (``bench shifts list`` shows it)
    identity: Mapping[str, Any] = field(default_factory=dict)  # parameters that change nothing
    free_parameter: str | None = None  # a parameter a target may give itself: scale:0.5

    def apply(self, image: np.ndarray, parameters: Mapping[str, Any],
              context: ShiftContext | None = None) -> np.ndarray:
        image = np.asarray(image, dtype=np.uint8)
        return self.function(image, context or ShiftContext(self.name), **parameters)


PERTURBATIONS: dict[str, Perturbation] = {row.name: row for row in (
    Perturbation(
        "stain", ("angle", "hematoxylin", "eosin"), stain.rotate_stains,
        "the haematoxylin and eosin vectors turn by +-angle degrees about the grey axis of "
        "optical density as their amounts scale (suite v1)",
        {"angle": 0.0, "hematoxylin": 1.0, "eosin": 1.0}),
    Perturbation(
        "hed", ("hematoxylin_scale", "hematoxylin_shift", "eosin_scale", "eosin_shift"),
        stain.hed_jitter,
        "more haematoxylin and less eosin: each concentration scaled and shifted further from "
        "1 and 0 (Tellez et al.'s HED jitter); the stain vectors never move",
        {"hematoxylin_scale": 1.0, "hematoxylin_shift": 0.0, "eosin_scale": 1.0,
         "eosin_shift": 0.0}),
    Perturbation(
        "illumination", ("brightness", "contrast", "gains"), imaging.illumination,
        "brighter, flatter and warmer: a brightness offset, contrast about mid-grey and a "
        "gain per channel",
        {"brightness": 0.0, "contrast": 1.0, "gains": [1.0, 1.0, 1.0]}),
    Perturbation(
        "blur", ("sigma",), imaging.blur,
        "defocus: the Gaussian's standard deviation in pixels grows",
        {"sigma": 0.0}),
    Perturbation(
        "jpeg", ("quality",), imaging.jpeg,
        "compression: the JPEG quality falls",
        {}),
    Perturbation(
        "scale", ("factor",), imaging.scale,
        "a coarser resolution: the factor the image is reduced by before it is enlarged back "
        "falls",
        {"factor": 1.0}, free_parameter="factor"),
    Perturbation(
        "noise", ("sigma",), imaging.noise,
        "sensor noise: the standard deviation of additive Gaussian noise, in grey levels, grows",
        {"sigma": 0.0}),
)}


def perturbation(name: str) -> Perturbation:
    if name not in PERTURBATIONS:
        raise UnknownNameError("perturbation", name, list(PERTURBATIONS))
    return PERTURBATIONS[name]


def perturb(image: np.ndarray, name: str, parameters: Mapping[str, Any],
            context: ShiftContext | None = None) -> np.ndarray:
    """Apply the perturbation ``name`` with ``parameters`` to one uint8 RGB image."""
    return perturbation(name).apply(image, parameters, context)
