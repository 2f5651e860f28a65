"""The ``complex`` preset reproduces the released WBC-USID-C, statistic by statistic.

The release's figures are pinned in benchmarks/wbc_usid_c_stats.json (written by
`python benchmarks/compositor_stats.py --pin`); generated image pairs are measured from their
pixels by the same code, and every statistic must lie within 0.03 or a quarter (shares,
whichever is smaller) or 10 % (the rest) of the release's.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def stats():
    spec = importlib.util.spec_from_file_location("compositor_stats",
                                                  BENCHMARKS / "compositor_stats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def released(stats):
    return json.loads(stats.PINNED.read_text())["statistics"]


# A fifth of the images hold nearly all of the covering (the release's as ours), so 200 pairs
# estimate these only to about +-50 % (the release's own 200-pair subsamples: mean 0.007 to
# 0.017, 90th percentile 0.006 to 0.029, 5-95 %); they are checked on 2,000 pairs below.
OCCLUSION = {"central_occluded_mean", "central_occluded_p90",
             "images_with_central_occluded_over_5pct"}


def _misses(table: dict) -> dict:
    return {key: row for key, row in table.items() if row.get("within_tolerance") is False}


def test_complex_preset_matches_the_release(stats, released):
    generated, truth = stats.generate(200, preset="complex")
    table = stats.compare(released, generated)
    checked = [key for key, row in table.items() if "within_tolerance" in row]
    # every statistic of the table is among those checked
    assert {"added_regions_mean", "added_regions_sd", "displacement_mean", "displacement_sd",
            "regions_touching_edge", "red_region_share", "merged_region_share"} <= set(checked)
    misses = {key: row for key, row in _misses(table).items() if key not in OCCLUSION}
    assert not misses, json.dumps(misses, indent=1)
    assert truth["placements_abandoned"] == 0


@pytest.mark.slow  # about 20 s of one core: 2,000 image pairs composed and measured
def test_the_central_cell_is_covered_as_in_the_release(stats, released):
    """Mean, 90th percentile and images over 5 % within a quarter of the release's.

    The compositor before the fix (added cells over the central one at random, one in ten)
    gave 0.0083, 0.0024 and 0.045 here (0.0083, 0.0050 and 0.044 with today's cells), against
    the release's 0.0115, 0.0114 and 0.059.
    """
    occluded = np.array([stats.central_occlusion(base, busy)
                         for base, busy, _ in stats.compose_pairs(2000, preset="complex")])
    table = stats.compare(released, stats.occlusion_summary(occluded))
    assert set(table) == OCCLUSION
    assert not _misses(table), json.dumps(table, indent=1)


def test_the_paper_preset_does_not_match_the_release(stats, released):
    """The check can fail: the paper's stated placement leaves the release's figures."""
    generated, _ = stats.generate(60, preset="paper")
    misses = _misses(stats.compare(released, generated))
    assert {"added_regions_mean", "regions_touching_edge", "red_region_share"} <= set(misses)


def test_compare_applies_both_tolerances(stats):
    table = stats.compare({"regions_touching_edge": 0.80, "displacement_mean": 0.30},
                          {"regions_touching_edge": 0.84, "displacement_mean": 0.32})
    assert table["regions_touching_edge"]["within_tolerance"] is False  # 0.04 > 0.03
    assert table["displacement_mean"]["within_tolerance"] is True  # 6.7 % < 10 %
    assert table["displacement_mean"]["relative_difference"] == pytest.approx(0.0667, abs=1e-4)


def test_small_shares_are_compared_relative_to_their_value(stats):
    released = {"central_occluded_mean": 0.018, "central_occluded_p90": 0.0114,
                "merged_region_share": 0.13}
    table = stats.compare(released, {"central_occluded_mean": 0.009,
                                     "central_occluded_p90": 0.0125,
                                     "merged_region_share": 0.105})
    assert table["central_occluded_mean"]["within_tolerance"] is False  # half: 0.009 < 0.03
    assert table["central_occluded_p90"]["within_tolerance"] is True  # +9.6 %
    assert table["merged_region_share"]["within_tolerance"] is True  # 0.025 < 0.03 < 0.0325
