"""Label efficiency: the K-shot draw is a pure function of the split, K and the seed."""

from __future__ import annotations

import numpy as np
import pytest

from bench.engine.few_shot import few_shot_indices, parse_shots, shots_of, without_shots
from bench.errors import OptionError

PATHS = [f"train/{label}/{i:03d}.png" for label in "LMNEB" for i in range(12)]
LABELS = np.repeat(np.arange(5), 12)


def draw(shots, seed=0, fingerprint="abc"):
    return few_shot_indices(PATHS, LABELS, fingerprint, shots, seed)


def test_k_images_of_every_class_in_split_order():
    rows = draw(3)
    assert np.bincount(LABELS[rows]).tolist() == [3] * 5
    assert rows.tolist() == sorted(rows.tolist())
    assert draw("all").tolist() == list(range(len(PATHS)))
    assert len(draw(50)) == len(PATHS)  # fewer than K in a class: all of them


def test_the_draw_depends_on_the_seed_and_the_split_and_nothing_else():
    assert draw(3).tolist() == draw(3).tolist()
    assert draw(3).tolist() != draw(3, seed=1).tolist()
    assert draw(3).tolist() != draw(3, fingerprint="abd").tolist()
    # shuffled input order, same images: the same draw (ordered by a hash of each path)
    order = np.random.default_rng(0).permutation(len(PATHS))
    shuffled = few_shot_indices([PATHS[i] for i in order], LABELS[order], "abc", 3, 0)
    assert sorted(PATHS[order[i]] for i in shuffled) == sorted(PATHS[i] for i in draw(3))


def test_smaller_draws_are_nested_in_larger_ones():
    one, five, ten = (set(draw(k).tolist()) for k in (1, 5, 10))
    assert one < five < ten


@pytest.mark.parametrize(("text", "expected"), [
    ("5", [5]), ("1,5,all", [1, 5, "all"]), (" ALL ", ["all"]), (None, []),
])
def test_shots_options(text, expected):
    assert parse_shots(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("0", "between 1 and"), ("x", "not a number"), ("2,2", "listed twice"), (",", "nothing"),
])
def test_bad_shots_options(text, says):
    with pytest.raises(OptionError, match=says):
        parse_shots(text)


def test_k_is_read_back_from_a_recipe_line():
    assert shots_of("training.max_epochs=2, training.shots=5, input.size=16") == 5
    assert shots_of("input.size=16") == "all" and shots_of("") == "all"
    assert without_shots("training.shots=5, input.size=16") == "input.size=16"


def test_an_api_caller_gets_the_options_message(tiny_world):
    import bench
    from bench.engine.runner import RunRequest, run_benchmark

    request = RunRequest(models=["tiny"], sources=["colours-a"], targets=["colours-a"],
                         protocol=bench.load_protocol("knn"), shots=[0])
    with pytest.raises(OptionError, match="--shots 0"):
        run_benchmark(request)
