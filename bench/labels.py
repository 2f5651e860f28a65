"""The canonical label space every data set maps onto (protocol: L, M, N, E, B in this order)."""

from __future__ import annotations

CLASSES: tuple[str, ...] = ("L", "M", "N", "E", "B")
CLASS_NAMES: dict[str, str] = {
    "L": "lymphocyte",
    "M": "monocyte",
    "N": "neutrophil",
    "E": "eosinophil",
    "B": "basophil",
}
NUM_CLASSES = len(CLASSES)

