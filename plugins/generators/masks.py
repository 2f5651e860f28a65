"""Cutting a cell out of its single-cell image, so the compositor can paste it anywhere.

A generated or photographed single cell sits on a plain background; the background colour is
read from the image's border and the cell is the connected region at the centre that differs
from it. An image whose border is not plain, or whose central region is missing, too large or
cut by the border, has no separable background: it is skipped, and the caller counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class MaskSettings:
    border: int = 2  # pixels of frame read as background
    max_border_spread: float = 30.0  # colour distance: more and the background is not plain
    min_contrast: float = 10.0  # colour distance a cell pixel differs from the background by
    min_area: float = 0.01  # of the image
    max_area: float = 0.85
    max_border_contact: float = 0.08  # fraction of the frame the cell may touch


def extract_cell(image: np.ndarray, settings: MaskSettings = MaskSettings()) -> np.ndarray | None:
    """The cell as a tight RGBA crop (alpha = mask), or ``None`` when it cannot be separated."""
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 8:
        return None
    if image.shape[2] == 4:
        alpha = image[..., 3]
        if (alpha > 127).mean() < settings.min_area:
            return None
        return _crop(image, alpha > 0)
    rgb = image.astype(np.float32)
    frame = _frame(rgb, settings.border)
    background = np.median(frame, axis=0)
    spread = float(np.percentile(np.linalg.norm(frame - background, axis=1), 95))
    if spread > settings.max_border_spread:
        return None
    distance = np.linalg.norm(rgb - background, axis=2)
    foreground = distance > max(settings.min_contrast, 3 * spread)  # above the border's noise
    foreground = ndimage.binary_opening(foreground)
    foreground = ndimage.binary_fill_holes(foreground)
    cell = _central_component(foreground)
    if cell is None:
        return None
    area = cell.mean()
    contact = _frame(cell[..., None], 1).mean()
    if not settings.min_area <= area <= settings.max_area or contact > settings.max_border_contact:
        return None
    soft = ndimage.gaussian_filter(cell.astype(np.float32), 0.7) * ndimage.binary_dilation(cell)
    rgba = np.dstack([image, np.clip(soft * 255, 0, 255).astype(np.uint8)])
    return _crop(rgba, soft > 0)


def _frame(image: np.ndarray, width: int) -> np.ndarray:
    """The pixels of the outer ``width`` rows and columns, as an (n, channels) array."""
    mask = np.zeros(image.shape[:2], bool)
    mask[:width], mask[-width:], mask[:, :width], mask[:, -width:] = True, True, True, True
    return image[mask]


def _central_component(foreground: np.ndarray) -> np.ndarray | None:
    """The component under the centre, else the largest one whose centre lies near it."""
    labels, count = ndimage.label(foreground)
    if count == 0:
        return None
    h, w = foreground.shape
    under = labels[h // 2, w // 2]
    if under:
        return labels == under
    index = np.arange(1, count + 1)
    sizes = ndimage.sum(foreground, labels, index)
    centres = np.array(ndimage.center_of_mass(foreground, labels, index))
    near = np.hypot(centres[:, 0] / h - 0.5, centres[:, 1] / w - 0.5) < 0.25
    if not near.any():
        return None
    return labels == index[near][np.argmax(sizes[near])]


def _crop(rgba: np.ndarray, inside: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(inside)
    return np.ascontiguousarray(rgba[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])


def equivalent_diameter(rgba: np.ndarray) -> float:
    """Diameter of the disc with the cell's area, in pixels."""
    return float(2 * np.sqrt((rgba[..., 3] > 127).sum() / np.pi))
