"""Does the compositor make what the WBC-USID release shows? Statistics measured side by side.

Both data sets are measured from their pixels the same way, pairing each complex image with
the base image of the same name (the release's level_0 and level_5 share their central cells,
and so do bench's base and complex sets made with one seed):

- background: the most frequent colour (the flat background) per channel, and its share;
- central cell: offset of its centroid from the centre, equivalent diameter (of the side);
- added cells: connected regions of the complex image outside the central cell, their count
  per image, the displacement of their centroids per axis (|offset| / side), their share that
  is reddish (RBCs) rather than purple (WBCs), and how often two of them merged into one region
  (a sign of overlap);
- occlusion: the share of the central cell whose pixels changed between base and complex.

For the generated set the compositor's own annotations (true counts, displacements, overlaps)
are printed as well. Usage:

    python benchmarks/compositor_stats.py [--images 400] [--size 256] [--release PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

RELEASE = Path(__file__).resolve().parents[2] / "shared" / "data" / "WBC-USID" / "dataset"
CONTRAST = 20  # summed |RGB| difference from the background that counts as a cell
MIN_REGION = 0.004  # of the image area: smaller regions are slivers at the edge, not cells


def measure_pair(base: np.ndarray, complex_: np.ndarray) -> dict:
    side = base.shape[0]
    bg_base = _mode_colour(base)
    bg, share = _mode_colour(complex_), None
    share = float((complex_ == bg).all(-1).mean())
    central = _largest(np.abs(base.astype(int) - bg_base).sum(-1) > CONTRAST)
    cy, cx = ndimage.center_of_mass(central)
    foreground = np.abs(complex_.astype(int) - bg).sum(-1) > CONTRAST
    added = foreground & ~ndimage.binary_dilation(central, iterations=3)
    labels, count = ndimage.label(added)
    regions = []
    for index in range(1, count + 1):
        region = labels == index
        area = region.sum()
        if area < MIN_REGION * side * side:
            continue
        ry, rx = ndimage.center_of_mass(region)
        rows, cols = np.nonzero(region)
        colour = complex_[region].mean(0)
        regions.append({
            "area": area / side**2,
            "offset": (abs(rx - side / 2) / side, abs(ry - side / 2) / side),
            "edge": bool(rows.min() == 0 or cols.min() == 0 or rows.max() == side - 1
                         or cols.max() == side - 1),
            "red": bool(colour[0] - colour[2] > -10),  # RBCs are salmon, WBCs purple
        })
    inner = ndimage.binary_erosion(central, iterations=2)
    changed = np.abs(complex_.astype(int) - base.astype(int)).sum(-1) > 40
    return {
        "background": bg.tolist(),
        "background_share": share,
        "central_offset": ((cx - side / 2) / side, (cy - side / 2) / side),
        "central_diameter": 2 * np.sqrt(central.sum() / np.pi) / side,
        "occluded": float(changed[inner].mean()) if inner.any() else 0.0,
        "regions": regions,
    }


def _mode_colour(image: np.ndarray) -> np.ndarray:
    colours, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return colours[counts.argmax()].astype(int)


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def summarise(pairs: list[dict]) -> dict:
    backgrounds = np.array([p["background"] for p in pairs])
    regions = [r for p in pairs for r in p["regions"]]
    whole = [r for r in regions if not r["edge"]]
    offsets = np.array([r["offset"] for r in regions]).reshape(-1)
    areas = np.array([r["area"] for r in whole])
    single = np.median(areas) if len(areas) else 0.0
    red = [2 * np.sqrt(r["area"] / np.pi) for r in whole if r["red"] and r["area"] < 1.8 * single]
    counts = np.array([len(p["regions"]) for p in pairs])
    occluded = np.array([p["occluded"] for p in pairs])
    central = np.array([p["central_offset"] for p in pairs])
    return {
        "images": len(pairs),
        "background_min": backgrounds.min(0).tolist(),
        "background_max": backgrounds.max(0).tolist(),
        "background_share_mean": _r(np.mean([p["background_share"] for p in pairs])),
        "central_offset_sd": _r(central.std()),
        "central_diameter_mean": _r(np.mean([p["central_diameter"] for p in pairs])),
        "added_regions_mean": _r(counts.mean()),
        "added_regions_histogram": np.bincount(counts).tolist(),
        "displacement_mean": _r(offsets.mean()) if len(offsets) else None,
        "displacement_sd": _r(offsets.std()) if len(offsets) else None,
        "red_region_share": _r(np.mean([r["red"] for r in regions])) if regions else None,
        "regions_touching_edge": _r(np.mean([r["edge"] for r in regions])) if regions else None,
        "merged_region_share": _r(np.mean(areas > 1.8 * single)) if len(areas) else None,
        "red_region_diameter_median": _r(np.median(red)) if len(red) else None,
        "central_occluded_mean": _r(occluded.mean()),
        "central_occluded_p90": _r(np.percentile(occluded, 90)),
        "images_with_central_occluded_over_5pct": _r((occluded > 0.05).mean()),
    }


def _r(value: float) -> float:
    return round(float(value), 4)


def read_pairs(base_root: Path, complex_root: Path, limit: int) -> list[tuple[Path, Path]]:
    pairs = []
    for path in sorted(complex_root.rglob("*.png")):
        twin = base_root / path.relative_to(complex_root)
        if twin.is_file():
            pairs.append((twin, path))
    step = max(1, len(pairs) // limit)
    return pairs[::step][:limit]


def measure(base_root: Path, complex_root: Path, limit: int) -> dict:
    pairs = read_pairs(base_root, complex_root, limit)
    if not pairs:
        raise SystemExit(f"no image pairs under {base_root} and {complex_root}")
    return summarise([measure_pair(np.asarray(Image.open(b).convert("RGB")),
                                   np.asarray(Image.open(c).convert("RGB"))) for b, c in pairs])


def annotation_truth(folder: Path) -> dict:
    records = [json.loads(line) for line in (folder / "annotations.jsonl").read_text().splitlines()]
    added = [a for r in records for a in r["added"]]
    offsets = np.abs(np.array([a["offset"] for a in added])).reshape(-1)
    overlaps = np.array([a["overlap"] for a in added])
    return {
        "added_cells_mean": _r(np.mean([len(r["added"]) for r in records])),
        "rbc_share": _r(np.mean([a["label"] == "RBC" for a in added])),
        "displacement_mean": _r(offsets.mean()),
        "displacement_sd": _r(offsets.std()),
        "overlap_mean": _r(overlaps.mean()),
        "overlap_max": _r(overlaps.max()),
        "placements_abandoned": int(sum(r["abandoned"] for r in records)),
        "central_occluded_mean": _r(np.mean([r["central"]["occluded"] for r in records])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400, help="image pairs per data set")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--cells", default="procedural")
    parser.add_argument("--release", type=Path, default=RELEASE)
    parser.add_argument("--set", dest="parameters", action="append", default=[],
                        metavar="KEY=VALUE", help="a compositor parameter for the generated set")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.parameters)

    with tempfile.TemporaryDirectory() as home:
        os.environ["BENCH_HOME"] = home
        from bench.generated import generate_dataset

        started = time.perf_counter()
        folders = {
            level: generate_dataset(f"stats-{level}", cells=args.cells, level=level,
                                    train=args.images, test=5, size=args.size, prepare=False,
                                    settings=settings)
            for level in ("base", "complex")
        }
        seconds = time.perf_counter() - started
        generated = measure(folders["base"] / "train", folders["complex"] / "train",
                            args.images)
        truth = annotation_truth(folders["complex"])
    released = measure(args.release / "level_0", args.release / "level_5", args.images)
    print(json.dumps({
        "released": str(args.release),
        "generated": f"{args.cells} cells, {args.size} px, {args.images} train images per "
                     f"level, made in {seconds:.1f} s, settings {settings or 'default'}",
        "side_by_side": {key: {"released": released[key], "generated": generated[key]}
                         for key in released},
        "generated_annotations": truth,
    }, indent=2))


if __name__ == "__main__":
    main()
