"""Pictures of what a shift does: one image under one shift, or every shift and severity.

So a user can see what a severity means before trusting a score at it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.data.decode import decode_native, square_resize
from bench.data.layout import write_atomic
from bench.errors import DataError
from bench.shifts.suite import SEVERITIES, ShiftSuite

LABEL_HEIGHT = 22  # pixels of the grid's header row and of each row's name
LABEL_WIDTH = 96
GAP = 2


def shift_image(image: np.ndarray, suite: ShiftSuite, shift: str, level: str,
                size: int | None = None) -> np.ndarray:
    """``image`` (as published) under ``shift`` at ``level``, as a shifted test set holds it.

    With ``size``, cropped and resized the way the decoded cache is: after the shift for a
    native-resolution suite (v2), before it for v1. Level ``0`` is the image unshifted.
    """
    if level == "0":
        return image if size is None else np.asarray(square_resize(Image.fromarray(image), size))
    if suite.native or size is None:
        shifted = suite.apply(image, shift, level)
        return shifted if size is None else np.asarray(square_resize(Image.fromarray(shifted),
                                                                     size))
    return suite.apply(np.asarray(square_resize(Image.fromarray(image), size)), shift, level)


def read_image(path: Path) -> np.ndarray:
    """An image file as published (RGB, its own size); a clear error when it is not one."""
    try:
        return decode_native(Path(path).read_bytes())
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DataError(f"{path} is not an image Pillow can read ({type(exc).__name__}). "
                        f"Give a PNG, JPEG or TIFF file.") from exc


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType: bitmap font
        return ImageFont.load_default()


def grid(image: np.ndarray, suite: ShiftSuite, size: int | None = None) -> Image.Image:
    """Every shift (a row each) at severities 0 to 5 (a column each), labelled."""
    tiles = {shift: [shift_image(image, suite, shift, str(level), size)
                     for level in (0, *SEVERITIES)] for shift in suite.shifts}
    height, width = next(iter(tiles.values()))[0].shape[:2]
    columns = 1 + len(SEVERITIES)
    canvas = Image.new("RGB", (LABEL_WIDTH + columns * (width + GAP),
                               LABEL_HEIGHT + len(tiles) * (height + GAP)), "white")
    draw = ImageDraw.Draw(canvas)
    font = _font(14)
    draw.text((6, LABEL_HEIGHT // 2), "severity", fill="black", font=font, anchor="lm")
    for column in range(columns):
        x = LABEL_WIDTH + column * (width + GAP) + width // 2
        draw.text((x, LABEL_HEIGHT // 2), str(column), fill="black", font=font, anchor="mm")
    for row, (shift, images) in enumerate(tiles.items()):
        y = LABEL_HEIGHT + row * (height + GAP)
        draw.text((6, y + height // 2), shift, fill="black", font=font, anchor="lm")
        for column, tile in enumerate(images):
            canvas.paste(Image.fromarray(tile), (LABEL_WIDTH + column * (width + GAP), y))
    return canvas


def save_png(picture: Image.Image | np.ndarray, out: Path) -> Path:
    """Write a PNG, making its folder; the file appears whole or not at all."""
    picture = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    write_atomic(Path(out), buffer.getvalue())
    return Path(out)
