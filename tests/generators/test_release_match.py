"""The ``complex`` preset reproduces the released WBC-USID-C, statistic by statistic.

The release's figures are pinned in benchmarks/wbc_usid_c_stats.json (written by
`python benchmarks/compositor_stats.py --pin`); 200 generated image pairs are measured from
their pixels by the same code, and every statistic must lie within 0.03 (shares) or 10 %
(the rest) of the release's.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

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


def _misses(table: dict) -> dict:
    return {key: row for key, row in table.items() if row.get("within_tolerance") is False}


def test_complex_preset_matches_the_release(stats, released):
    generated, truth = stats.generate(200, preset="complex")
    table = stats.compare(released, generated)
    checked = [key for key, row in table.items() if "within_tolerance" in row]
    # every statistic of the table is among those checked
    assert {"added_regions_mean", "added_regions_sd", "displacement_mean", "displacement_sd",
            "regions_touching_edge", "red_region_share", "merged_region_share"} <= set(checked)
    assert not _misses(table), json.dumps(_misses(table), indent=1)
    assert truth["placements_abandoned"] == 0


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
