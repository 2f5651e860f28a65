"""What a perturbation may need to know besides its parameters: where it is applied."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ShiftContext:
    """The shift's name and severity as the suite spells them, and the image's scale.

    ``reference_size`` is the side the suite's pixel lengths refer to; None when the shift is
    applied to the image as published (its native resolution), where a pixel is a pixel.
    """

    shift: str = ""
    level: str = ""
    reference_size: int | None = None

    def pixels(self, length: float, image: np.ndarray) -> float:
        """A length in the suite's pixels, in pixels of ``image``."""
        if self.reference_size is None:
            return length
        return length * image.shape[0] / self.reference_size

    def seed(self, image: np.ndarray) -> int:
        """A seed from the image's bytes and shape, the shift and the severity."""
        digest = hashlib.sha256(np.ascontiguousarray(image).tobytes())
        digest.update(f"{image.shape}:{self.shift}:{self.level}".encode())
        return int.from_bytes(digest.digest()[:16], "little")
