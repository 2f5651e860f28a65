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


def class_index(label: str) -> int:
    """Index of a canonical label, accepting the letter or the full name in any case."""
    key = label.strip().upper()
    if key in CLASSES:
        return CLASSES.index(key)
    for letter, name in CLASS_NAMES.items():
        if name == label.strip().lower():
            return CLASSES.index(letter)
    raise ValueError(f"{label!r} is not one of the five WBC classes {', '.join(CLASSES)}")
