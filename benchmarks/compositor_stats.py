"""Does the compositor make what the WBC-USID release shows? Statistics measured side by side.

Both data sets are measured from their pixels the same way, pairing each complex image with
the base image of the same name (the release's level_0 and level_5 share their central cells,
and so do bench's base and complex sets made with one seed):

- background: the most frequent colour (the flat background) per channel, and its share;
- central cell: offset of its centroid from the centre, equivalent diameter (of the side);
- added cells: connected regions of the complex image outside the central cell, their count
  per image (mean, sd, histogram), the displacement of their centroids per axis
  (|offset| / side), their share that is salmon rather than purple or blue ("red"), their
  share that shows a nucleus (WBCs, whatever the stain), their share cut by one border and by
  two (a corner), and how often a whole region is over 1.8 single cells (merged, or a WBC);
- RBC size: median diameter of the whole, single, nucleus-free regions;
- occlusion: the share of the central cell whose pixels changed between base and complex
  (mean, 90th percentile, images over 5 %), and per class the images over 1 % (shown only:
  in the release only basophils are ever covered).

Each statistic is printed beside the release's with the difference, and whether it is within
the tolerance tests/generators/test_release_match.py pins: 10 % of the release's value, and for
shares 0.03, or a quarter of the value where that is smaller (the occlusion figures are near
0.01, where an absolute 0.03 would pass anything).
The release's figures come from --release PATH, or from wbc_usid_c_stats.json, written by
--pin. The generated pairs are composed in memory (the same pixels a build writes). Usage:

    python benchmarks/compositor_stats.py [--images 400] [--preset complex|paper] [--set K=V]
    python benchmarks/compositor_stats.py --pin --images 2000 --release PATH/dataset
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

RELEASE = Path(os.environ.get(  # the release's dataset/ folder, beside the checkout by default
    "WBC_USID_RELEASE", Path(__file__).resolve().parents[2] / "shared/data/WBC-USID/dataset"))
PINNED = Path(__file__).with_name("wbc_usid_c_stats.json")  # its figures, from --pin
CONTRAST = 20  # summed |RGB| difference from the background that counts as a cell
MIN_REGION = 0.004  # of the image area: smaller regions are slivers at the edge, not cells
NUCLEUS = 120  # mean RGB below which a pixel is nucleus (the release's RBCs stay above 140)
HISTOGRAM = 10  # regions per image counted 0..9


def measure_pair(base: np.ndarray, complex_: np.ndarray) -> dict:
    side = base.shape[0]
    bg_base = _mode_colour(base)
    bg = _mode_colour(complex_)
    share = float((complex_ == bg).all(-1).mean())
    central = _largest(np.abs(base.astype(int) - bg_base).sum(-1) > CONTRAST)
    cy, cx = ndimage.center_of_mass(central)
    foreground = np.abs(complex_.astype(int) - bg).sum(-1) > CONTRAST
    added = foreground & ~ndimage.binary_dilation(central, iterations=3)
    labels, _ = ndimage.label(added)
    luminance = complex_.mean(-1)
    regions = []
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        region = labels[rows, cols] == index
        area = region.sum()
        if area < MIN_REGION * side * side:
            continue
        ry, rx = ndimage.center_of_mass(region)
        colour = complex_[rows, cols][region].mean(0)
        edges = (rows.start == 0, cols.start == 0, rows.stop == side, cols.stop == side)
        regions.append({
            "area": area / side**2,
            "offset": (abs(cols.start + rx - side / 2) / side,
                       abs(rows.start + ry - side / 2) / side),
            "edges": int(sum(edges)),
            "red": bool(colour[0] - colour[2] > -10),  # salmon rather than purple or blue
            # a WBC shows its nucleus, darker than any RBC whatever its stain
            "nucleated": bool((luminance[rows, cols][region] < NUCLEUS).mean() > 0.05),
        })
    return {
        "background": bg.tolist(),
        "background_share": share,
        "central_offset": ((cx - side / 2) / side, (cy - side / 2) / side),
        "central_diameter": 2 * np.sqrt(central.sum() / np.pi) / side,
        "occluded": central_occlusion(base, complex_, central),
        "regions": regions,
    }


def central_occlusion(base: np.ndarray, complex_: np.ndarray,
                      central: np.ndarray | None = None) -> float:
    """The share of the central cell (less a 2-pixel rim) whose colour the complex image changed."""
    if central is None:
        central = _largest(np.abs(base.astype(int) - _mode_colour(base)).sum(-1) > CONTRAST)
    inner = ndimage.binary_erosion(central, iterations=2)
    changed = np.abs(complex_.astype(int) - base.astype(int)).sum(-1) > 40
    return float(changed[inner].mean()) if inner.any() else 0.0


def _mode_colour(image: np.ndarray) -> np.ndarray:
    # one integer per colour: np.unique over rows (axis=0) is a hundred times slower
    packed = image.reshape(-1, 3).astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], np.int32)
    colours, counts = np.unique(packed, return_counts=True)
    mode = int(colours[counts.argmax()])
    return np.array([mode >> 16, (mode >> 8) & 255, mode & 255])


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def summarise(pairs: list[dict], labels: list[str] | None = None) -> dict:
    """The statistics of measured pairs; ``labels`` (the central cells' classes) adds the
    per-class occlusion."""
    backgrounds = np.array([p["background"] for p in pairs])
    regions = [r for p in pairs for r in p["regions"]]
    whole = [r for r in regions if not r["edges"]]
    offsets = np.array([r["offset"] for r in regions]).reshape(-1)
    areas = np.array([r["area"] for r in whole])
    single = np.median(areas) if len(areas) else 0.0
    rbc = [2 * np.sqrt(r["area"] / np.pi) for r in whole
           if not r["nucleated"] and r["area"] < 1.8 * single]
    counts = np.array([len(p["regions"]) for p in pairs])
    occluded = np.array([p["occluded"] for p in pairs])
    central = np.array([p["central_offset"] for p in pairs])

    def share(key: str, at_least: int = 1) -> float | None:
        return _r(np.mean([r[key] >= at_least for r in regions])) if regions else None

    return {
        "images": len(pairs),
        "background_min": backgrounds.min(0).tolist(),
        "background_max": backgrounds.max(0).tolist(),
        "background_share_mean": _r(np.mean([p["background_share"] for p in pairs])),
        "central_offset_sd": _r(central.std()),
        "central_diameter_mean": _r(np.mean([p["central_diameter"] for p in pairs])),
        "added_regions_mean": _r(counts.mean()),
        "added_regions_sd": _r(counts.std()),
        "added_regions_histogram": [_r(v) for v in
                                    np.bincount(np.minimum(counts, HISTOGRAM - 1),
                                                minlength=HISTOGRAM) / len(counts)],
        "displacement_mean": _r(offsets.mean()) if len(offsets) else None,
        "displacement_sd": _r(offsets.std()) if len(offsets) else None,
        "red_region_share": share("red"),
        "nucleated_region_share": share("nucleated"),
        "regions_touching_edge": share("edges"),
        "regions_touching_two_edges": share("edges", 2),
        "merged_region_share": _r(np.mean(areas > 1.8 * single)) if len(areas) else None,
        "rbc_diameter_median": _r(np.median(rbc)) if len(rbc) else None,
        **occlusion_summary(occluded),
        "images_with_central_occluded_over_1pct_by_class": None if labels is None else {
            label: _r((occluded[np.array(labels) == label] > 0.01).mean())
            for label in sorted(set(labels))},
    }


def occlusion_summary(occluded: np.ndarray) -> dict:
    """The occlusion statistics of the central cells' covered shares, one per image."""
    return {
        "central_occluded_mean": _r(occluded.mean()),
        "central_occluded_p90": _r(np.percentile(occluded, 90)),
        "images_with_central_occluded_over_5pct": _r((occluded > 0.05).mean()),
    }


def _r(value: float) -> float:
    return round(float(value), 4)


# Shares are compared by their absolute difference, at most a quarter of the release's value
# (0.009 against 0.018 fails); the rest relative to the release's value.
SHARES = {"background_share_mean", "added_regions_histogram", "red_region_share",
          "nucleated_region_share", "regions_touching_edge", "regions_touching_two_edges",
          "merged_region_share", "central_occluded_mean", "central_occluded_p90",
          "images_with_central_occluded_over_5pct"}
TOLERANCE = {"share": 0.03, "small_share": 0.25, "relative": 0.10}
# The histogram's bins are shares too, but 200 images estimate a bin of 0.3 to +-0.03 (one
# sd), so its shape is compared through its mean and sd; the bins are shown, not pinned.
SHOWN_ONLY = {"images", "background_min", "background_max", "added_regions_histogram",
              "images_with_central_occluded_over_1pct_by_class"}


def within_tolerance(key: str, released: float, generated: float) -> bool:
    """Whether a generated statistic is close enough to the release's (see TOLERANCE)."""
    gap = abs(generated - released)
    if key in SHARES:
        return gap <= min(TOLERANCE["share"], TOLERANCE["small_share"] * abs(released))
    return gap <= TOLERANCE["relative"] * abs(released)


def compare(released: dict, generated: dict) -> dict:
    """Every statistic side by side, with the difference and whether it is within tolerance."""
    table = {}
    for key, ours in generated.items():
        theirs = released.get(key)
        row: dict = {"released": theirs, "generated": ours}
        if isinstance(theirs, list) and isinstance(ours, list):
            gap = max((abs(a - b) for a, b in zip(theirs, ours, strict=False)), default=0.0)
            row["max_difference"] = _r(gap)
        elif isinstance(theirs, int | float) and isinstance(ours, int | float):
            row["relative_difference"] = _r((ours - theirs) / theirs) if theirs else None
            if key in SHARES:
                row["difference"] = _r(ours - theirs)
        if key not in SHOWN_ONLY and theirs is not None and ours is not None:
            row["within_tolerance"] = within_tolerance(key, theirs, ours)
        table[key] = row
    return table


def read_pairs(base_root: Path, complex_root: Path, limit: int) -> list[tuple[Path, Path]]:
    pairs = []
    for path in sorted(complex_root.rglob("*.png")):
        twin = base_root / path.relative_to(complex_root)
        if twin.is_file():
            pairs.append((twin, path))
    step = max(1, len(pairs) // limit)
    return pairs[::step][:limit]


def measure_release(release: Path, limit: int) -> dict:
    pairs = read_pairs(release / "level_0", release / "level_5", limit)
    if not pairs:
        raise SystemExit(f"no image pairs under {release}/level_0 and level_5: pass "
                         "--release PATH (the release's dataset/ folder) or leave it out to "
                         f"use the figures pinned in {PINNED.name}")
    # the release's class folders begin with bench's labels (Basophil, Esophil, ...: B, E, ...)
    return summarise([measure_pair(np.asarray(Image.open(b).convert("RGB")),
                                   np.asarray(Image.open(c).convert("RGB"))) for b, c in pairs],
                     [c.parent.name[0] for _, c in pairs])


def compose_pairs(images: int, *, size: int = 256, cells: str = "procedural", seed: int = 0,
                  preset: str = "complex", settings: dict | None = None) -> Iterator[tuple]:
    """``images`` (base, complex, annotation) triples composed in memory, one at a time."""
    from bench import CLASSES
    from bench.generation.contract import cell_generator, compositor
    from bench.generation.datasets import split_counts

    builder = compositor(level=preset, **(settings or {}))
    generator = cell_generator(cells)
    counts = split_counts(images, "train")
    assert sum(counts.values()) == images and len(counts) == len(CLASSES)
    options = {"central": generator, "background": generator, "counts": counts, "size": size,
               "seed": seed}
    with tempfile.TemporaryDirectory() as cache:
        base = builder.images(Path(cache), level="base", **options)
        complex_ = builder.images(Path(cache), **options)
        for (plain, _), (busy, note) in zip(base, complex_, strict=True):
            yield plain, busy, note


def generate(images: int, **options) -> tuple[dict, dict]:
    """Compose ``images`` base/complex pairs in memory; their statistics and annotations."""
    pairs, notes = [], []
    for plain, busy, note in compose_pairs(images, **options):
        pairs.append(measure_pair(plain, busy))
        notes.append(note)
    return summarise(pairs, [n["central"]["label"] for n in notes]), annotation_truth(notes)


def annotation_truth(records: list[dict]) -> dict:
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
        "images_with_restained_rbcs": _r(np.mean([r["rbc_restained"] for r in records])),
        "images_with_central_drawn_first": _r(np.mean([r["central"]["drawn_first"]
                                                       for r in records])),
        "central_occluded_mean": _r(np.mean([r["central"]["occluded"] for r in records])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400, help="image pairs per data set")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--cells", default="procedural")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="complex", help="complex, paper or a level 0-5")
    parser.add_argument("--release", type=Path, default=None,
                        help="the release's dataset/ folder (default: measure nothing, read "
                             f"{PINNED.name})")
    parser.add_argument("--pin", action="store_true",
                        help=f"measure --release on --images pairs and write {PINNED.name}")
    parser.add_argument("--set", dest="parameters", action="append", default=[],
                        metavar="KEY=VALUE", help="a compositor parameter for the generated set")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.parameters)

    if args.pin:
        release = args.release or RELEASE
        figures = {"release": "WBC-USID-C (dataset/level_5 beside dataset/level_0)",
                   "measured_by": "python benchmarks/compositor_stats.py --pin "
                                  f"--images {args.images}",
                   "statistics": measure_release(release, args.images)}
        PINNED.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {PINNED}")
        return
    if args.release:
        released, source = measure_release(args.release, args.images), str(args.release)
    else:
        pinned = json.loads(PINNED.read_text())
        released, source = pinned["statistics"], f"{PINNED.name} ({pinned['measured_by']})"
    started = time.perf_counter()
    os.environ.setdefault("BENCH_HOME", tempfile.mkdtemp())
    generated, truth = generate(args.images, size=args.size, cells=args.cells, seed=args.seed,
                                preset=args.preset, settings=settings)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "released": source,
        "generated": f"{args.cells} cells, {args.size} px, {args.images} image pairs, seed "
                     f"{args.seed}, preset "
                     f"{args.preset}, settings {settings or 'default'}, {seconds:.1f} s",
        "side_by_side": compare(released, generated),
        "generated_annotations": truth,
    }, indent=2))


if __name__ == "__main__":
    main()
