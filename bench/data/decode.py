"""Decoding one source file into a square uint8 RGB image, and noting what had to be converted.

Resizing rule (documented in the README): centre-crop to the largest square, then resize to the
cache side with bicubic filtering. Cells sit in the middle of every published crop and the
published crops are square or nearly so (360x363 at worst), so cropping loses a few border
pixels, while padding would add borders that no real image has.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from bench.data.scan import IMAGE_SUFFIXES

RESIZE_RULE = "centre-crop to square, bicubic resize"

# Pillow's own limit (about 89 megapixels, 268 MB as RGB): a published cell crop has about a
# tenth of a megapixel. A file that declares more is a decompression bomb (a few kilobytes that
# would take gigabytes to decode) or not a cell crop; it is skipped, and the audit names it.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485

_CONVERSIONS = {
    "1": "grayscale",
    "L": "grayscale",
    "LA": "grayscale",
    "La": "grayscale",
    "P": "palette",
    "PA": "palette",
    "RGBA": "rgba",
    "RGBa": "rgba",
    "RGBX": "rgba",
    "CMYK": "cmyk",
    "YCbCr": "other-colour-space",
    "LAB": "other-colour-space",
    "HSV": "other-colour-space",
    "F": "float",
}


@dataclass(frozen=True)
class ImageFacts:
    """What decoding one file found: its hash, whether it is usable, and its original form."""

    sha256: str
    status: str = "ok"  # "ok", "corrupt" (does not decode), "not_image" or "too_large"
    error: str = ""
    width: int = 0
    height: int = 0
    mode: str = ""
    converted: str = ""  # why the file was not plain 8-bit RGB: "rgba", "grayscale", "16bit", ...

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _is_16_bit(image: Image.Image) -> bool:
    if image.mode.startswith("I;16") or image.mode == "I":
        return True
    # 16-bit RGB PNG/TIFF decode to 8-bit "RGB" silently; the raw mode still says so.
    return any(";16" in str(tile[3]) for tile in getattr(image, "tile", None) or ())


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    sixteen = _is_16_bit(image)
    if image.mode.startswith("I"):
        values = np.asarray(image, dtype=np.uint32)
        if sixteen and values.max(initial=0) > 255:
            values = values >> 8
        gray = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
        return gray.convert("RGB"), "16bit"
    plain = "" if image.mode == "RGB" else "other"
    kind = "16bit" if sixteen else _CONVERSIONS.get(image.mode, plain)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # converting P straight to RGB warns about transparency
    return (image if image.mode == "RGB" else image.convert("RGB")), kind


def square_resize(image: Image.Image, size: int) -> Image.Image:
    """Centre-crop to the largest square and resize to ``size`` x ``size``."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    gap = 2.0 if side >= 2 * size else None  # reduce() first: much faster, same look
    return image.resize(
        (size, size), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side),
        reducing_gap=gap,
    )


def decode_bytes(data: bytes, size: int, suffix: str = "") -> tuple[ImageFacts, np.ndarray | None]:
    """Hash ``data`` and decode it to ``(size, size, 3)`` uint8; ``None`` pixels when unusable."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EXIF and metadata chatter; real damage raises
            with Image.open(io.BytesIO(data)) as image:
                width, height, mode = image.width, image.height, image.mode
                if width * height > MAX_PIXELS:  # Pillow only warns up to twice its limit
                    return ImageFacts(digest, status="too_large",
                                      error=_too_large(f"declares {width}x{height} pixels")), None
                if image.format == "JPEG":
                    image.draft("RGB", (size, size))  # DCT-domain downscale: decodes far less
                image.load()
                rgb, converted = _to_rgb(image)
                pixels = np.asarray(square_resize(rgb, size), dtype=np.uint8)
    except Image.DecompressionBombError as exc:  # beyond twice the limit: refused at open
        return ImageFacts(digest, status="too_large", error=_too_large(str(exc))), None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        status = "corrupt" if suffix.lower() in IMAGE_SUFFIXES else "not_image"
        message = f"{type(exc).__name__}: {exc}"
        return ImageFacts(digest, status=status, error=message), None
    facts = ImageFacts(digest, width=width, height=height, mode=mode, converted=converted)
    return facts, pixels


def _too_large(what: str) -> str:
    return (f"{what.rstrip('.')}: more than the {MAX_PIXELS / 1e6:.0f} megapixels bench "
            f"decodes, so a decompression bomb or not a cell crop; skipped")


def decode_native(data: bytes) -> np.ndarray:
    """A usable source file as published: RGB uint8 at its own resolution (no crop, no resize).

    What shifts are applied to before the image is resized (suites at native resolution).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb, _ = _to_rgb(image)
            return np.asarray(rgb, dtype=np.uint8)


def decode_file(path: Path, size: int) -> tuple[ImageFacts, np.ndarray | None]:
    """:func:`decode_bytes` on a file; the file is read once for both hash and pixels."""
    return decode_bytes(path.read_bytes(), size, path.suffix)
