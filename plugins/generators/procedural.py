"""Procedural cells: numpy drawings of each class's morphology, seeded, with no model to train.

The embedded default cell source: it lets `bench generate dataset` run on a fresh machine with
no download and no GPU, and gives tests unlimited labelled cells. Sizes are in micrometres
(typical smear diameters), so the classes keep their real relative sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

import bench
from bench.kit import CELL_LABELS, PARTITIONS, RBC, check_label, check_partition


@dataclass(frozen=True)
class Morphology:
    diameter: float  # mean cell diameter, micrometres
    diameter_sd: float  # relative
    cytoplasm: tuple[int, int, int]
    nucleus: tuple[int, int, int]


# Lymphocyte, monocyte and neutrophil cytoplasm as WBC-USID's cells show it 4-8 pixels inside
# their edge (median over its level_0 images): paler, near the background's colour, it hid the
# cell's soft rim, through which the release shows the cells lying under it.
MORPHOLOGY: dict[str, Morphology] = {
    "L": Morphology(9.5, 0.12, (178, 162, 200), (92, 36, 128)),
    "M": Morphology(17.0, 0.08, (158, 146, 194), (136, 74, 166)),
    "N": Morphology(12.0, 0.07, (155, 141, 193), (118, 46, 148)),
    "E": Morphology(13.0, 0.08, (232, 196, 204), (120, 52, 150)),
    "B": Morphology(11.5, 0.08, (212, 186, 222), (98, 42, 132)),
    RBC: Morphology(7.5, 0.06, (226, 164, 158), (0, 0, 0)),
}
EOSINOPHIL_GRANULES = (222, 104, 78)
BASOPHIL_GRANULES = (64, 18, 86)


class ProceduralCells:
    """Single cells drawn with numpy: RGBA uint8, the alpha channel is the cell's mask.

    ``scale`` is in pixels per micrometre; each cell's canvas is just large enough for it, so
    a monocyte's image is larger than a red cell's.
    """

    parallel = True  # cheap and picklable: the compositor may draw in several processes

    def __init__(self, scale: float = 4.0):
        if not 1 <= scale <= 40:
            raise bench.DataError(f"procedural scale {scale}: use 1 to 40 pixels per micrometre")
        self.px = scale
        self._grids: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def generate(
        self, label: str, count: int, *, partition: str, seed: int, start: int = 0
    ) -> list[np.ndarray]:
        check_label(label)
        check_partition(partition)
        # Every cell has its own seed, so a cell is the same whatever chunk it is drawn in, and
        # partitions A and B draw from unrelated streams.
        key = (seed, PARTITIONS.index(partition), CELL_LABELS.index(label))
        return [
            self.draw(label, np.random.default_rng((*key, index)))
            for index in range(start, start + count)
        ]

    def _grid(self, side: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel centres in micrometres from the canvas centre, cached per canvas side."""
        if side not in self._grids:
            axis = ((np.arange(side) - (side - 1) / 2) / self.px).astype(np.float32)
            self._grids[side] = tuple(np.meshgrid(axis, axis, indexing="ij"))
        return self._grids[side]

    # -- one cell ---------------------------------------------------------------------------

    def draw(self, label: str, rng: np.random.Generator) -> np.ndarray:
        shape = MORPHOLOGY[label]
        radius = shape.diameter / 2 * float(np.clip(rng.normal(1, shape.diameter_sd), 0.7, 1.4))
        side = int(np.ceil(2 * radius * 1.2 * self.px)) + 6
        grid_y, grid_x = self._grid(side)
        angle = rng.uniform(0, 2 * np.pi)
        flip = rng.choice((-1.0, 1.0))
        cos, sin = np.cos(angle), np.sin(angle)
        x = (cos * grid_x + sin * grid_y) * flip
        y = -sin * grid_x + cos * grid_y
        rho = np.hypot(x, y)
        phi = np.arctan2(y, x)

        outline = radius * self._wobble(phi, rng, 0.035 if label != RBC else 0.015)
        body = self._soft(rho <= outline)
        stain = (rng.normal(1.0, 0.05, 3) * rng.normal(1.0, 0.04)).astype(np.float32)
        texture = 1 + 0.05 * self._smooth_noise(rng, side, 6)[..., None]
        colour = np.asarray(shape.cytoplasm, np.float32) * stain * texture
        if label == RBC:
            colour = self._pallor(colour, rho / radius, rng)
        else:
            nucleus = self._soft(self._nucleus(label, x, y, radius, rng))
            chromatin = 1 + 0.12 * self._smooth_noise(rng, side, 10)[..., None]
            ink = np.asarray(shape.nucleus, np.float32) * stain * chromatin
            colour = colour * (1 - nucleus[..., None]) + ink * nucleus[..., None]
            if label in ("E", "B"):
                colour = self._granules(label, colour, body, nucleus, radius, stain, rng)
        rim = np.clip(1 - np.abs(rho - outline) * self.px / 1.5, 0, 1) * 0.08
        colour = colour * (1 - rim[..., None])
        colour += rng.normal(0, 2.0, colour.shape)
        rgba = np.empty((side, side, 4), np.uint8)
        rgba[..., :3] = np.clip(colour, 0, 255)
        rgba[..., 3] = np.clip(body * 255, 0, 255)
        return rgba

    def _nucleus(self, label: str, x: np.ndarray, y: np.ndarray, radius: float,
                 rng: np.random.Generator) -> np.ndarray:
        if label == "L":  # round, dense, filling most of the cell; slightly off centre
            r = radius * rng.uniform(0.72, 0.84)
            dx, dy = rng.normal(0, 0.06 * radius, 2)
            phi = np.arctan2(y - dy, x - dx)
            return np.hypot(x - dx, y - dy) <= r * self._wobble(phi, rng, 0.04)
        if label == "M":  # large, kidney-shaped: an ellipse with a notch bitten out of one side
            a, b = radius * rng.uniform(0.58, 0.68), radius * rng.uniform(0.44, 0.52)
            ellipse = (x / a) ** 2 + (y / b) ** 2 <= 1
            notch = np.hypot(x, y - b * 1.3) <= radius * rng.uniform(0.36, 0.44)
            phi = np.arctan2(y, x)
            return ellipse & ~notch & (np.hypot(x / a, y / b) <= self._wobble(phi, rng, 0.06))
        if label == "N":  # 3 to 5 lobes along a C-shaped arc, joined by thin strands
            lobes = int(rng.integers(3, 6))
            arc = np.linspace(-1, 1, lobes) * rng.uniform(1.4, 2.0) + np.pi / 2
            centres = 0.42 * radius * np.stack([np.cos(arc), np.sin(arc) - 0.4], 1)
            lobe = radius * rng.uniform(0.21, 0.27, lobes)
            return self._chain(x, y, centres, lobe, 0.06 * radius)
        if label == "E":  # two lobes ("spectacles") joined by a strand
            spread = radius * rng.uniform(0.30, 0.40)
            centres = np.array([[-spread, 0.1 * radius], [spread, 0.1 * radius]])
            return self._chain(x, y, centres, radius * rng.uniform(0.26, 0.32, 2), 0.07 * radius)
        if label == "B":  # an irregular, partly hidden nucleus
            centres = rng.normal(0, 0.22 * radius, (2, 2))
            return self._chain(x, y, centres, radius * rng.uniform(0.3, 0.4, 2), 0.15 * radius)
        raise AssertionError(label)

    def _chain(self, x: np.ndarray, y: np.ndarray, centres: np.ndarray, radii: np.ndarray,
               strand: float) -> np.ndarray:
        inside = np.zeros(x.shape, bool)
        for (cx, cy), r in zip(centres, radii, strict=True):
            inside |= np.hypot(x - cx, y - cy) <= r
        for (ax, ay), (bx, by) in zip(centres[:-1], centres[1:], strict=True):
            # distance to the segment between consecutive lobe centres
            vx, vy = bx - ax, by - ay
            t = np.clip(((x - ax) * vx + (y - ay) * vy) / max(vx * vx + vy * vy, 1e-9), 0, 1)
            inside |= np.hypot(x - ax - t * vx, y - ay - t * vy) <= strand
        return inside

    def _granules(self, label: str, colour: np.ndarray, body: np.ndarray, nucleus: np.ndarray,
                  radius: float, stain: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        area = np.pi * radius**2
        count = int(area * (0.9 if label == "E" else 0.55) * rng.uniform(0.8, 1.2))
        where = body > 0.5
        if label == "E":
            where &= nucleus < 0.5  # eosinophil granules fill the cytoplasm
        ys, xs = np.nonzero(where)
        if len(ys) == 0:
            return colour
        pick = rng.integers(0, len(ys), count)
        dots = np.zeros(body.shape, np.float32)
        np.add.at(dots, (ys[pick], xs[pick]), 1.0)
        sigma = 0.3 * self.px if label == "E" else 0.38 * self.px
        cover = np.clip(ndimage.gaussian_filter(dots, sigma) * (2 * np.pi * sigma**2) * 0.8, 0, 1)
        ink = np.asarray(EOSINOPHIL_GRANULES if label == "E" else BASOPHIL_GRANULES,
                         np.float32) * stain
        return colour * (1 - cover[..., None]) + ink * cover[..., None]

    def _pallor(self, colour: np.ndarray, r: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The biconcave disc: a pale centre fading into a denser rim."""
        depth = rng.uniform(0.35, 0.55)
        pale = depth * np.exp(-((r / rng.uniform(0.35, 0.45)) ** 4))
        return colour + (255 - colour) * pale[..., None]

    def _wobble(self, phi: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
        """A radius factor with a few low harmonics: outlines that are round but not circles."""
        harmonics = np.arange(2, 6)
        amplitude = rng.normal(0, amount, len(harmonics)) / np.sqrt(harmonics - 1)
        phase = rng.uniform(0, 2 * np.pi, len(harmonics))
        # Tabulated over 512 angles and looked up: far cheaper than cosines per pixel.
        table = 1 + np.cos(_ANGLES[:, None] * harmonics + phase) @ amplitude
        index = ((phi + np.pi) * (len(_ANGLES) / (2 * np.pi))).astype(np.intp) % len(_ANGLES)
        return table.astype(np.float32)[index]

    def _smooth_noise(self, rng: np.random.Generator, side: int, cells: int) -> np.ndarray:
        coarse = Image.fromarray(rng.normal(0, 1, (cells, cells)).astype(np.float32), "F")
        return np.asarray(coarse.resize((side, side), Image.Resampling.BILINEAR))

    def _soft(self, inside: np.ndarray) -> np.ndarray:
        """Antialias a drawn region: a sub-pixel blur of its indicator."""
        return ndimage.gaussian_filter(inside.astype(np.float32), 0.6)


_ANGLES = np.linspace(-np.pi, np.pi, 512, endpoint=False)
