"""How far apart the two stains stay under each suite's stain shift. Prints JSON.

    python benchmarks/stain_separation.py PATH/WBC-USID

Two measures per severity, for suite v1 (stain vectors turned) and v2 (concentrations scaled
and shifted):
- ``macenko_degrees``: the angle between the two stain directions Macenko's method finds in
  the stained pixels of WBC-USID test images (4 per class and level, pooled per class and
  level, as tests/shifts/test_stain.py does), mean over the 10 pools and the smallest ratio
  to the unshifted angle (issue 27's done-when: at least 0.5 at severity 5);
- ``hue_separation_degrees``: the hue angle between a pixel of pure haematoxylin and one of
  pure eosin (optical density 1.0 along each Ruifrok-Johnston vector), each shifted.
"""

from __future__ import annotations

import argparse
import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("Basophil", "Esophil", "Lymphocyte", "Monocyte", "Neutrophil")


def pools(release: Path) -> list[np.ndarray]:
    found = []
    for level in ("level_0", "level_5"):
        for label in CLASSES:
            paths = sorted((release / "dataset" / level / "test" / label).glob("*.png"))[:4]
            found.append(np.concatenate([np.asarray(Image.open(p).convert("RGB"))
                                         for p in paths], axis=1))
    return found


def hue_gap(suite, severity: int) -> float:
    from bench.shifts.density import unit_stains

    pixels = np.clip(np.rint(256 * np.exp(-unit_stains()[:2]) - 1), 0, 255).astype(np.uint8)
    image = pixels[None]
    if severity:
        image = suite.apply(image, "stain", str(severity))
    hues = [colorsys.rgb_to_hsv(*(image[0, i] / 255))[0] * 360 for i in range(2)]
    gap = abs(hues[0] - hues[1]) % 360
    return round(min(gap, 360 - gap), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("release", type=Path, help="the WBC-USID release root")
    args = parser.parse_args()
    from bench.shifts.stain import stain_separation
    from bench.shifts.suite import load_suite

    images = pools(args.release)
    original = [stain_separation(image) for image in images]
    report = {"pools": len(images), "unshifted_macenko_degrees": round(np.mean(original), 1)}
    for version in ("v1", "v2"):
        suite = load_suite(version)
        rows = {}
        for severity in range(0, 6):
            angles = original if severity == 0 else [
                stain_separation(suite.apply(image, "stain", str(severity))) for image in images]
            ratios = [a / o for a, o in zip(angles, original, strict=True)]
            rows[severity] = {"macenko_degrees": round(float(np.mean(angles)), 1),
                              "smallest_ratio": round(min(ratios), 2),
                              "hue_separation_degrees": hue_gap(suite, severity)}
        report[version] = {"hash": suite.hash, "severities": rows}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
