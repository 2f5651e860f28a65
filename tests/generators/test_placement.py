"""The compositor's parameters and its placement rule, on single images."""

from __future__ import annotations

import numpy as np
import pytest
from bench_generators.placement import compose, make_settings, parse_level

import bench


def test_levels_follow_the_release_scale():
    assert parse_level("base") == 0 and parse_level("complex") == 5
    assert parse_level("paper") == 5
    assert parse_level("2.5") == 2.5 and parse_level(5) == 5
    assert make_settings("base").expected_added == 0
    assert make_settings("complex").expected_added == 10
    assert make_settings(2.5).expected_added == pytest.approx(5)  # interpolated
    for bad in ("7", "-1", "hard"):
        with pytest.raises(bench.DataError, match="level"):
            parse_level(bad)


def test_the_paper_and_the_release_are_presets_of_their_own():
    paper, release = make_settings("paper"), make_settings("complex")
    assert (paper.preset, release.preset) == ("paper", "complex")
    assert (paper.displacement_mean, paper.displacement_sd, paper.max_overlap) == (0.3, 0.1, 0.85)
    assert (paper.added_cells, paper.rbc_restain, paper.diameters["RBC"]) == (5, 0, 7.2)
    assert (release.displacement_mean, release.displacement_sd) == (0.39, 0.18)
    assert release.added_cells == 10 and release.rbc_restain > 0 and not release.overlap_central
    assert (release.central_under, release.cover_central) == (0.2, 0)
    assert paper.overlap_central and (paper.central_under, paper.cover_central) == (0, 0.15)
    assert make_settings("paper", max_overlap=0.5).max_overlap == 0.5  # a preset, then overrides
    assert make_settings("complex", overlap_central="true").overlap_central is True
    with pytest.raises(bench.DataError, match="overlap_central='maybe' is not a bool"):
        make_settings("complex", overlap_central="maybe")
    assert make_settings(5).preset == "complex"
    with pytest.raises(bench.DataError, match="no parameter 'preset'"):
        make_settings("complex", preset="paper")


def test_restain_moves_an_rbc_to_the_stain_keeping_its_texture(procedural):
    from bench_generators.compositor import restain

    (cell,) = procedural.generate("RBC", 1, partition="A", seed=0)
    inside = cell[..., 3] > 127
    blue = restain(cell, (155, 148, 201))
    assert np.abs(blue[inside, :3].mean(0) - (155, 148, 201)).max() < 2
    assert (blue[..., 3] == cell[..., 3]).all()
    # the pale centre stays paler than the rim: a gain per channel, not a flat fill
    assert np.corrcoef(blue[inside, 2].astype(float), cell[inside, 2].astype(float))[0, 1] > 0.9


def test_parameters_can_be_set_and_are_checked():
    settings = make_settings("complex", max_overlap="0.5", max_tries="7",
                             background_low="10,20,30", **{"diameters.RBC": "8"})
    assert (settings.max_overlap, settings.max_tries) == (0.5, 7)
    assert settings.background_low == (10, 20, 30) and settings.diameters["RBC"] == 8
    with pytest.raises(bench.DataError, match="no parameter 'overlapp'"):
        make_settings("complex", overlapp=1)
    with pytest.raises(bench.DataError, match="max_tries"):
        make_settings("complex", max_tries=0)
    with pytest.raises(bench.DataError, match="max_overlap"):
        make_settings("complex", max_overlap=1.5)
    with pytest.raises(bench.DataError, match="not a float"):
        make_settings("complex", max_overlap="lots")


def test_an_impossible_placement_budget_names_its_parameters():
    with pytest.raises(bench.DataError, match="impossible placement budget.*added_cells.*"
                                              "max_overlap"):
        make_settings("complex", added_cells=80, max_overlap=0)


def _cells(procedural, count, seed=0):
    from bench_generators.compositor import _resize

    labels = ["RBC", "N", "L", "M", "E", "B"]
    return [(label, _resize(cell, 0.5)) for i in range(count)
            for label in [labels[i % len(labels)]]
            for cell in procedural.generate(label, 1, partition="A", seed=seed, start=i)]


def _compose(procedural, settings, added, index=0, size=64):
    (central,) = procedural.generate("L", 1, partition="A", seed=9, start=index)
    from bench_generators.compositor import _resize

    return compose(_resize(central, 0.5), added, size=size, settings=settings,
                   layout_rng=np.random.default_rng((index, 0)),
                   background_rng=np.random.default_rng((index, 1)),
                   placement_rng=np.random.default_rng((index, 2)))


def _footprint(cell, top, left, size, pad):
    canvas = np.zeros((size + 2 * pad, size + 2 * pad), bool)
    h, w = cell.shape[:2]
    canvas[top + pad : top + pad + h, left + pad : left + pad + w] = cell[..., 3] > 127
    return canvas


def test_overlap_never_exceeds_the_limit(procedural):
    settings = make_settings("paper", max_overlap=0.2, added_cells=8, cover_central=1)
    size, pad = 64, 80
    for index in range(12):
        added = _cells(procedural, 8, seed=index)
        (central,) = procedural.generate("L", 1, partition="A", seed=9, start=index)
        image, note = _compose(procedural, settings, added, index, size)
        assert image.shape == (size, size, 3) and image.dtype == np.uint8
        # rebuild every footprint from the recorded offsets and check the rule independently
        from bench_generators.compositor import _resize

        central = _resize(central, 0.5)
        c_top = note["central"]["box"][1] - np.nonzero((central[..., 3] > 127).any(1))[0][0]
        c_left = note["central"]["box"][0] - np.nonzero((central[..., 3] > 127).any(0))[0][0]
        placed = _footprint(central, c_top, c_left, size, pad)
        cells = iter(added)
        for record in note["added"]:
            label, cell = next(cells)
            while label != record["label"]:  # skip cells that found no position
                label, cell = next(cells)
            h, w = cell.shape[:2]
            top = int(round(size / 2 + record["offset"][1] * size - h / 2))
            left = int(round(size / 2 + record["offset"][0] * size - w / 2))
            mine = _footprint(cell, top, left, size, pad)
            overlap = (mine & placed).sum() / mine.sum()
            assert overlap <= 0.2 + 1e-9
            assert overlap == pytest.approx(record["overlap"], abs=1e-3)
            placed |= mine
        assert len(note["added"]) + note["abandoned"] == 8


def test_displacement_background_and_counts_follow_the_parameters(procedural):
    settings = make_settings("paper", max_overlap=1.0)
    offsets, backgrounds = [], []
    for index in range(60):
        _, note = _compose(procedural, settings, _cells(procedural, 5, seed=index), index)
        offsets += [abs(v) for record in note["added"] for v in record["offset"]]
        backgrounds.append(note["background"])
        assert note["abandoned"] == 0 and len(note["added"]) == 5
    assert np.mean(offsets) == pytest.approx(0.30, abs=0.02)
    assert np.std(offsets) == pytest.approx(0.10, abs=0.02)
    backgrounds = np.array(backgrounds)
    assert (backgrounds.min(0) >= (189, 189, 232)).all()
    assert (backgrounds.max(0) <= (208, 208, 251)).all()


def test_flat_background_and_central_cell_in_the_middle(procedural):
    image, note = _compose(procedural, make_settings("base"), [], 0, 96)
    corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == note["background"]).all()
    x0, y0, x1, y1 = note["central"]["box"]
    assert abs((x0 + x1) / 2 - 48) < 8 and abs((y0 + y1) / 2 - 48) < 8


def test_cells_over_or_under_the_central_one(procedural):
    def occluded(cover):
        settings = make_settings("complex", central_under=0, cover_central=cover,
                                 displacement_mean=0.05, max_overlap=1.0)
        return [_compose(procedural, settings, _cells(procedural, 5, seed=i), i)[1]
                ["central"]["occluded"] for i in range(8)]

    assert max(occluded(0.0)) == 0.0
    assert np.mean(occluded(1.0)) > 0.2


def test_the_central_cell_counts_in_the_overlap_rule_when_asked_or_drawn_first(procedural):
    def abandoned(overlap_central, central_under=0.0):
        settings = make_settings("complex", overlap_central=overlap_central, max_overlap=0.0,
                                 central_under=central_under, added_cells=1, added_cells_sd=0,
                                 displacement_mean=0.0, displacement_sd=0.01, max_tries=5)
        return sum(_compose(procedural, settings, _cells(procedural, 1, seed=i), i)[1]
                   ["abandoned"] for i in range(6))

    assert abandoned(False) == 0  # a cell under the central one is allowed ...
    assert abandoned(True) == 6  # ... unless the central cell counts
    assert abandoned(False, central_under=1.0) == 6  # ... or is on the canvas before it


def test_where_the_central_cell_is_drawn_first_every_cell_reaching_it_covers_it(procedural):
    def notes(central_under):
        settings = make_settings("complex", central_under=central_under, cover_central=0,
                                 displacement_mean=0.05, max_overlap=1.0)
        return [_compose(procedural, settings, _cells(procedural, 5, seed=i), i)[1]
                for i in range(8)]

    first, last = notes(1.0), notes(0.0)
    assert all(n["central"]["drawn_first"] for n in first)
    assert all(r["over_central"] for n in first for r in n["added"])
    assert np.mean([n["central"]["occluded"] for n in first]) > 0.2
    assert not any(n["central"]["drawn_first"] for n in last)
    assert max(n["central"]["occluded"] for n in last) == 0.0


def test_which_images_draw_the_central_cell_first_is_a_share_of_images(procedural):
    """Decided per image from the layout alone: the same at every level, a fifth of images."""
    (central,) = procedural.generate("L", 1, partition="A", seed=9)
    cells = _cells(procedural, 3)

    def drawn_first(level, index):
        _, note = compose(central, cells if level else [], size=32,
                          settings=make_settings(level or "base", central_under=0.2),
                          layout_rng=np.random.default_rng((index, 0)),
                          background_rng=np.random.default_rng((index, 1)),
                          placement_rng=np.random.default_rng((index, 2)))
        return note["central"]["drawn_first"]

    first = [drawn_first("complex", i) for i in range(400)]
    assert 0.2 - 0.06 < np.mean(first) < 0.2 + 0.06  # three binomial sd
    assert first[:40] == [drawn_first(0, i) for i in range(40)]
    assert first[:40] == [drawn_first(2.5, i) for i in range(40)]
