"""The shift suite's perturbations, definition and target names, on tiny images.

The perturbation tests run over the table (``PERTURBATIONS``): a new row is checked without a
new test.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest
from cells import cell_image

from bench.errors import OptionError, ProtocolError, UnknownNameError
from bench.shifts.context import ShiftContext
from bench.shifts.perturbations import PERTURBATIONS, perturb
from bench.shifts.stain import rotation_map
from bench.shifts.suite import SEVERITIES, _parse, load_suite
from bench.shifts.target_names import ShiftedName, expand_names, parse_name, shifted_fingerprint

SUITE = load_suite()  # the default: v2
V1 = load_suite("v1")
SUITES = [V1, SUITE]
# sha256 of cell_image() under each shift at severity 3, per suite: a change in any library
# or in this code that moves one byte of a shifted test set fails here. v2 differs from v1 in
# stain (HED jitter) and blur (sigma in the image's own pixels, not scaled from 256 px).
UNCHANGED = {
    "illumination": "257f29da8d71f36a967a0f5725968e435109c732639dd40337f21a08b6d1f4c5",
    "jpeg": "74e98cf20e5eb8ecddd9a1307721c20ecc76e3a4c4709051557c32765e496086",
    "scale": "1470006e1411a610cc4f23051df70a56a2099b8a051a6bc6a64a22359edd6ae7",
    "noise": "9c00274a39a8e17dfbf92b1e0a358f4fd2f10ccd19a7fc2cc7c3b8960f32006c",
}
CHECKSUMS = {
    "1": {**UNCHANGED,
          "stain": "2e00d69992a95281206fe522614df095172e09f6a6eb5b3b6f9a049fc33ae2a6",
          "blur": "c1af56158040e0a33065d6fd4dbe849f08c4faa870114298782a76e743532fdc"},
    "2": {**UNCHANGED,
          "stain": "0b62d34b00726fb80e1245b52321826c47ed8bec2f34be4600fdb12b3bc7d7d5",
          "blur": "aaf5069df7ad08a809b96264614abf72026b3175a931300971bbeeccbd6f2de8"},
}
EVERY_SHIFT = [(suite, shift) for suite in SUITES for shift in suite.shifts]


def ids(case):
    return f"v{case[0].version}-{case[1]}"


def digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int64) - b.astype(np.int64)).mean())


@pytest.mark.parametrize("name", [n for n, row in PERTURBATIONS.items() if row.identity])
def test_zero_strength_is_the_identity(name):
    image = cell_image()
    row = PERTURBATIONS[name]
    assert set(row.identity) == set(row.parameters)
    assert np.array_equal(perturb(image, name, row.identity, ShiftContext(name, "0")), image)


@pytest.mark.parametrize("case", EVERY_SHIFT, ids=ids)
def test_each_severity_changes_the_image_more_than_the_one_before(case):
    suite, shift = case
    image = cell_image(64, 64)
    changes = [change(suite.apply(image, shift, str(s)), image) for s in SEVERITIES]
    assert changes[0] > 0
    assert all(later > earlier for earlier, later in zip(changes, changes[1:])), changes


@pytest.mark.parametrize("case", EVERY_SHIFT, ids=ids)
def test_shape_and_dtype_are_kept_and_a_second_call_gives_the_same_bytes(case):
    suite, shift = case
    image = cell_image(37, 53)  # odd, non-square
    first = suite.apply(image, shift, "4")
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, suite.apply(image.copy(), shift, "4"))


@pytest.mark.parametrize("case", EVERY_SHIFT, ids=ids)
def test_severity_three_of_each_shift_matches_its_stored_checksum(case):
    suite, shift = case
    assert digest(suite.apply(cell_image(), shift, "3")) == CHECKSUMS[suite.version][shift]


def test_noise_is_seeded_by_the_image_and_the_severity():
    image, other = cell_image(), cell_image()
    other[0, 0, 0] ^= 1  # one bit of content: another draw
    parameters = SUITE.parameters("noise", "2")
    base = perturb(image, "noise", parameters, ShiftContext("noise", "2"))
    assert not np.array_equal(base - image, SUITE.apply(other, "noise", "2") - other)
    assert np.array_equal(base, SUITE.apply(image, "noise", "2"))
    assert not np.array_equal(base, perturb(image, "noise", parameters,
                                            ShiftContext("noise", "2b")))


def test_v1_stain_keeps_white_white_and_turns_the_colours():
    white = np.full((2, 2, 3), 255, dtype=np.uint8)
    assert np.array_equal(V1.apply(white, "stain", "5"), white)
    image = cell_image()
    nucleus = V1.apply(image, "stain", "5")[24, 20]
    assert not np.array_equal(nucleus, image[24, 20])
    assert np.allclose(rotation_map(0, 1, 1), np.eye(3))


def suite_text(version: str) -> str:
    return (resources.files("bench") / "shifts" / f"{version}.toml").read_text()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_suite_hash_covers_the_values_and_not_the_descriptions(version):
    text = suite_text(version)
    suite = load_suite(version)
    assert _parse(text, version).hash == suite.hash
    described = text.replace('description = "Gaussian defocus', 'description = "Out of focus')
    assert described != text and _parse(described, version).hash == suite.hash
    changed = text.replace("{ sigma = 1.6 }", "{ sigma = 1.7 }")
    assert changed != text and _parse(changed, version).hash != suite.hash


def test_v1_keeps_its_hash_and_v2_hashes_where_and_what_it_applies():
    assert V1.hash == "03c83d0c98878e22"  # every fingerprint made under v1 depends on it
    assert not V1.native and SUITE.native and SUITE.reference_size is None
    cache = _parse(suite_text("v2").replace('resolution = "native"',
                                            'resolution = "cache"\nreference_size = 256'), "x")
    assert cache.hash not in (SUITE.hash, V1.hash)
    assert SUITE.perturbation("stain").name == "hed" and V1.perturbation("stain").name == "stain"


def test_a_malformed_suite_is_named():
    text = suite_text("v1")
    with pytest.raises(ProtocolError, match="severity 2 must give exactly sigma"):
        _parse(text.replace("{ sigma = 1.0 }", "{ radius = 1.0 }"), "v1")
    with pytest.raises(ProtocolError, match="unknown perturbation 'fog'"):
        _parse(text + "\n[fog]\nlevels = []\n", "v1")
    with pytest.raises(ProtocolError, match="needs reference_size"):
        _parse(text.replace("reference_size = 256", ""), "v1")
    with pytest.raises(ProtocolError, match="resolution = 'camera'"):
        _parse(suite_text("v2").replace('"native"', '"camera"'), "v2")


def test_a_suite_is_picked_by_version_or_environment(monkeypatch):
    assert load_suite("1") is V1 and load_suite("v1.toml") is V1
    monkeypatch.setenv("BENCH_SHIFT_SUITE", "v1")
    assert load_suite() is V1
    monkeypatch.setenv("BENCH_SHIFT_SUITE", "v7")
    with pytest.raises(OptionError, match=r"BENCH_SHIFT_SUITE=v7: no such shift suite.*v1, v2"):
        load_suite()


def test_names_expand_to_severities_ranges_and_free_factors():
    def resolve(base):
        return ["a", "b"] if base == "all" else [base.lower()]

    assert expand_names("X~stain", resolve) == [f"x~stain:{s}" for s in SEVERITIES]
    assert expand_names("x~blur:2..4", resolve) == ["x~blur:2", "x~blur:3", "x~blur:4"]
    assert expand_names("all~jpeg:5", resolve) == ["a~jpeg:5", "b~jpeg:5"]
    assert len(expand_names("all~noise", resolve)) == 10
    assert expand_names("x~scale:0.5", resolve) == ["x~scale:0.5"]
    assert SUITE.parameters("scale", "0.5") == {"factor": 0.5}
    assert parse_name("x~Stain:03") == ShiftedName("x", "stain", "3")
    for bad in ("x~stain:0.5", "x~stain:9", "x~blur:4..2", "x~stain:0"):
        with pytest.raises(OptionError, match="severit"):
            expand_names(bad, resolve)
    with pytest.raises(UnknownNameError, match="Did you mean: stain"):
        expand_names("x~stian:1", resolve)


def test_the_fingerprint_changes_with_base_shift_severity_and_definition():
    one = ShiftedName("x", "stain", "1")
    fingerprints = {
        shifted_fingerprint("f" * 64, one, SUITE),
        shifted_fingerprint("e" * 64, one, SUITE),
        shifted_fingerprint("f" * 64, ShiftedName("x", "stain", "2"), SUITE),
        shifted_fingerprint("f" * 64, ShiftedName("x", "blur", "1"), SUITE),
    }
    text = suite_text("v2")
    other = _parse(text.replace("hematoxylin_scale = 1.05", "hematoxylin_scale = 1.06"), "v2")
    fingerprints.add(shifted_fingerprint("f" * 64, one, other))
    fingerprints.add(shifted_fingerprint("f" * 64, one, V1))
    assert len(fingerprints) == 6
    assert all(len(f) == 64 for f in fingerprints)


def test_levels_from_optical_density_are_decided_by_the_exact_bounds():
    from bench.shifts.density import LEVEL_BOUNDS, to_levels

    edges = np.concatenate([LEVEL_BOUNDS, np.nextafter(LEVEL_BOUNDS, -np.inf),
                            np.nextafter(LEVEL_BOUNDS, np.inf), [-50.0, -6.0, 0.0, 3.0]])
    values = np.concatenate([edges, np.linspace(-7, 1, 100_003)])
    assert np.array_equal(to_levels(values), np.searchsorted(LEVEL_BOUNDS, values, "right"))


def test_the_readme_describes_every_shift_of_the_suite():
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    if not readme.is_file():
        pytest.skip("no README beside this checkout")
    text = readme.read_text()
    section = text[text.index("## Shift suite"):]
    section = section[:section.index("\n## ")]
    rows = {line.split("|")[1].strip(" `") for line in section.splitlines()
            if line.startswith("| `")}
    assert rows == set(SUITE.shifts)
    assert "bench/shifts/v2.toml" in section and "BENCH_SHIFT_SUITE=v1" in section


def test_a_fingerprint_made_under_v1_is_still_recognised():
    """What the board and `leaderboard --check` use for records made under an older suite."""
    from bench.leaderboard.truth import derived_fingerprint
    from bench.shifts.target_names import built_in_fingerprint

    shifted = ShiftedName("x", "stain", "3")
    under_v1 = shifted_fingerprint("f" * 64, shifted, V1)
    under_v2 = shifted_fingerprint("f" * 64, shifted, SUITE)
    assert under_v1 != under_v2
    assert built_in_fingerprint("f" * 64, shifted, under_v1) == under_v1
    assert built_in_fingerprint("f" * 64, shifted, "0" * 64) == under_v2  # unknown: in use
    assert derived_fingerprint("f" * 64, shifted, under_v1) == under_v1
