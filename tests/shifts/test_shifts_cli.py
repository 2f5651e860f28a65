"""`bench shifts list` and `bench shifts render`: what a severity does, as a table and a PNG."""

from __future__ import annotations

import json

import numpy as np
from cells import cell_image
from fixtures.cli import invoke
from PIL import Image

from bench.shifts.preview import shift_image
from bench.shifts.suite import SEVERITIES, load_suite


def picture(tmp_path, height=48, width=40):
    path = tmp_path / "cell.png"
    Image.fromarray(cell_image(height, width)).save(path)
    return path


def read(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_render_writes_the_image_under_one_shift_as_the_suite_makes_it(tmp_path):
    source = picture(tmp_path)
    result = invoke("shifts", "render", str(source), "--shift", "stain:5",
                    "--out", str(tmp_path / "out" / "stain5.png"))
    assert result.exit_code == 0, result.output
    assert "stain:5" in result.output and load_suite().hash in result.output
    written = read(tmp_path / "out" / "stain5.png")
    assert np.array_equal(written, load_suite().apply(cell_image(), "stain", "5"))

    # --size: what a model at that size sees; v2 shifts first, v1 resizes first
    for version in ("v1", "v2"):
        out = tmp_path / f"blur-{version}.png"
        assert invoke("shifts", "render", str(source), "--shift", "blur:3", "--size", "24",
                      "--suite", version, "--out", str(out)).exit_code == 0
        expected = shift_image(cell_image(), load_suite(version), "blur", "3", 24)
        assert read(out).shape == (24, 24, 3) and np.array_equal(read(out), expected)
    assert not np.array_equal(read(tmp_path / "blur-v1.png"), read(tmp_path / "blur-v2.png"))


def test_the_grid_shows_every_shift_at_every_severity(tmp_path):
    source = picture(tmp_path)
    out = tmp_path / "grid.png"
    result = invoke("shifts", "render", str(source), "--grid", "--out", str(out))
    assert result.exit_code == 0, result.output
    grid = read(out)
    suite = load_suite()
    # a label column, then severities 0-5; a header row, then one row per shift
    from bench.shifts.preview import GAP, LABEL_HEIGHT, LABEL_WIDTH
    assert grid.shape == (LABEL_HEIGHT + len(suite.shifts) * (48 + GAP),
                          LABEL_WIDTH + (1 + len(SEVERITIES)) * (40 + GAP), 3)
    for row, shift in enumerate(suite.shifts):
        y = LABEL_HEIGHT + row * (48 + GAP)
        for level in range(6):
            x = LABEL_WIDTH + level * (40 + GAP)
            tile = grid[y:y + 48, x:x + 40]
            expected = cell_image() if level == 0 else suite.apply(cell_image(), shift,
                                                                   str(level))
            assert np.array_equal(tile, expected), (shift, level)


def test_render_refuses_what_it_cannot_draw(tmp_path):
    source = picture(tmp_path)
    out = str(tmp_path / "x.png")
    neither = invoke("shifts", "render", str(source), "--out", out)
    assert neither.exit_code == 2 and "give one of them" in neither.output
    both = invoke("shifts", "render", str(source), "--grid", "--shift", "blur:1", "--out", out)
    assert both.exit_code == 2
    unknown = invoke("shifts", "render", str(source), "--shift", "stian:5", "--out", out)
    assert unknown.exit_code == 1 and "Did you mean: stain" in unknown.output
    severity = invoke("shifts", "render", str(source), "--shift", "stain:9", "--out", out)
    assert severity.exit_code == 2 and "severity" in severity.output
    bare = invoke("shifts", "render", str(source), "--shift", "stain", "--out", out)
    assert bare.exit_code == 2 and "SHIFT:SEVERITY" in bare.output
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    unreadable = invoke("shifts", "render", str(text), "--shift", "stain:1", "--out", out)
    assert unreadable.exit_code == 1 and "not an image Pillow can read" in unreadable.output
    suite = invoke("shifts", "render", str(source), "--shift", "stain:1", "--suite", "v9",
                   "--out", out)
    assert suite.exit_code == 2 and "no such shift suite" in suite.output
    assert not (tmp_path / "x.png").exists()


def test_list_names_each_shift_its_perturbation_and_parameters(monkeypatch):
    rows = json.loads(invoke("shifts", "list", "--json").stdout)
    suite = load_suite()
    assert [row["shift"] for row in rows] == suite.shifts
    stain = rows[0]
    assert stain["perturbation"] == "hed" and stain["hash"] == suite.hash
    assert stain["severity_5"] == suite.parameters("stain", "5")
    table = invoke("shifts", "list")
    assert table.exit_code == 0 and "published image" in table.output
    monkeypatch.setenv("BENCH_SHIFT_SUITE", "v1")
    old = json.loads(invoke("shifts", "list", "--json").stdout)
    assert old[0]["perturbation"] == "stain" and old[0]["suite"] == "v1"
