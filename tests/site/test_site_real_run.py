"""A real tiny run to a site: thumbnails of misclassified images, shift curves, cost."""

from __future__ import annotations

import json
import re

import numpy as np
from fixtures.cli import invoke
from PIL import Image

from bench.data import load_prepared

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--model", "tiny", "--source", "colours-a", "--epochs", "2",
       "--target", "colours-a,colours-b,colours-b~stain:1..3"]


def test_a_trained_model_gets_thumbnails_shift_curves_and_cost(tiny_world, tmp_path):
    assert invoke(*RUN).exit_code == 0
    built = invoke("site", "build", tmp_path / "site", "--no-reference", "--json")
    assert built.exit_code == 0, built.output
    site = tmp_path / "site"
    manifest = json.loads((site / "site.json").read_text())
    cell = next(p for p in manifest["cells"] if p.endswith("colours-b~stain-3.html".replace(
        "~", "-")))
    page = (site / cell).read_text()
    # Misclassified images, most confident first, each with its thumbnail from the cache.
    thumbs = re.findall(r'<img src="\.\./\.\./(thumbs/[^"]+)" width="96" height="96" '
                        r'alt="([^"]+)">', page)
    assert thumbs, "a stain of severity 3 fools the colour-coded tiny model"
    split = load_prepared("colours-b").split("test", 16)  # the base of the shifted set
    path, key = thumbs[0]
    assert key in split.paths
    with Image.open(site / path) as image:
        assert image.size == (96, 96)
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    base = np.asarray(split.images[split.paths.index(key)], dtype=float)
    # stained, not the base image: the thumbnail shows what the model was tested on
    assert abs(pixels.mean(axis=(0, 1)) - base.mean(axis=(0, 1))).max() > 3
    confidences = [float(c) for c in re.findall(r"→ [LMNEB] ([\d.]+) %", page)]
    assert confidences == sorted(confidences, reverse=True)
    shift = next(p for p in manifest["boards"] if p.endswith("-shift.html"))
    assert "<polyline" in (site / shift).read_text()
    model = (site / "models/tiny.html").read_text()
    assert "training images/s" in model and "peak memory" in model
    verified = invoke("site", "verify", site, "--no-reference")
    assert verified.exit_code == 0, verified.output
