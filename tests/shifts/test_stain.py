"""Suite v2's stain shift scales and shifts stain concentrations; it never turns the stains.

The done-when test of issue 27 runs on the real WBC-USID release: under ``stain:5`` the angle
between the two stain directions Macenko's method finds in the stained pixels stays at least
half of the original. v1 (vectors turned towards each other) fails the same test, so the
measure can tell the two apart.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.shifts.density import OPTICAL_DENSITY, unit_stains
from bench.shifts.perturbations import perturb
from bench.shifts.stain import stain_separation
from bench.shifts.suite import load_suite

V1, V2 = load_suite("v1"), load_suite("v2")
CLASSES = ("Basophil", "Esophil", "Lymphocyte", "Monocyte", "Neutrophil")


def pure_stain(stain: int, amounts=(0.6, 1.0, 1.5)) -> np.ndarray:
    """Pixels holding one stain only, at several concentrations (OD along its vector)."""
    density = np.outer(amounts, unit_stains()[stain])
    levels = np.clip(np.rint(256 * np.exp(-density) - 1), 0, 255).astype(np.uint8)
    return levels[None]  # one row of pixels


def degrees_from(image: np.ndarray, direction: np.ndarray) -> np.ndarray:
    density = OPTICAL_DENSITY[image].reshape(-1, 3)
    cosine = density @ direction / np.linalg.norm(density, axis=1)
    return np.degrees(np.arccos(np.clip(cosine, -1, 1)))


NAMES = ("hematoxylin", "eosin")


def only(stain: int, severity: str) -> dict[str, float]:
    """v2's stain parameters at ``severity`` for one stain, the other left as it is."""
    parameters = V2.parameters("stain", severity)
    other = NAMES[1 - stain]
    return {**parameters, f"{other}_scale": 1.0, f"{other}_shift": 0.0}


@pytest.mark.parametrize("stain", [0, 1], ids=NAMES)
def test_a_pure_stain_stays_on_its_own_vector_at_every_severity(stain):
    image = pure_stain(stain)
    direction = unit_stains()[stain]
    assert degrees_from(image, direction).max() < 1.0  # 8-bit quantisation
    for severity in "12345":
        shifted = perturb(image, "hed", only(stain, severity))
        assert degrees_from(shifted, direction).max() < 1.0, severity
        assert not np.array_equal(shifted, image)
    turned = degrees_from(V1.apply(image, "stain", "5"), direction)
    assert turned.min() > 5  # v1 turned them (8 and 16 degrees): what v2 no longer does


@pytest.mark.parametrize("stain", [0, 1], ids=NAMES)
def test_each_stain_moves_by_the_suite_s_scale_and_shift(stain):
    parameters = only(stain, "5")
    scale, shift = parameters[f"{NAMES[stain]}_scale"], parameters[f"{NAMES[stain]}_shift"]
    image = pure_stain(stain, amounts=(1.0,))
    before = np.linalg.norm(OPTICAL_DENSITY[image])
    after = np.linalg.norm(OPTICAL_DENSITY[perturb(image, "hed", parameters)])
    assert math.isclose(after, before * scale + shift, abs_tol=0.02), (before, after)


def test_pure_haematoxylin_stays_pure_under_the_whole_severity():
    """Eosin's negative shift finds no eosin there, and takes none below zero."""
    image = pure_stain(0)
    for severity in "12345":
        shifted = V2.apply(image, "stain", severity)
        assert degrees_from(shifted, unit_stains()[0]).max() < 1.0, severity


def test_a_shift_never_makes_a_stain_negative():
    faint = pure_stain(1, amounts=(0.05, 0.1, 0.15))  # less eosin than severity 5 takes away
    shifted = perturb(faint, "hed", only(1, "5"))
    assert np.array_equal(shifted, np.full_like(faint, 255))  # gone, not brighter than white


def mosaic(root: Path, level: str, label: str, count: int = 4) -> np.ndarray:
    paths = sorted((root / "dataset" / level / "test" / label).glob("*.png"))[:count]
    return np.concatenate([np.asarray(Image.open(p).convert("RGB")) for p in paths], axis=1)


def test_stain_5_keeps_at_least_half_of_the_stain_separation_on_wbc_usid(wbc_usid):
    """Four test images per class and level, pooled, so that Macenko's estimate is stable."""
    ratios, v1_ratios = {}, {}
    for level in ("level_0", "level_5"):
        for label in CLASSES:
            image = mosaic(wbc_usid, level, label)
            original = stain_separation(image)
            assert original > 10, (level, label, original)  # two stains to separate
            ratios[level, label] = stain_separation(V2.apply(image, "stain", "5")) / original
            v1_ratios[level, label] = stain_separation(V1.apply(image, "stain", "5")) / original
    assert min(ratios.values()) >= 0.5, ratios
    assert min(v1_ratios.values()) < 0.5, v1_ratios  # the measure catches v1's turned vectors
