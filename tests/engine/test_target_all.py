"""`all` is the prepared benchmark sets: generated and the user's own sets only when asked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import invoke
from PIL import Image

import bench
from bench.data import prepare_dataset
from bench.engine.run_display import QuietListener
from bench.engine.runner import RunRequest, run_benchmark
from bench.protocols import load_protocol

QUICK = load_protocol("quick").with_overrides(training={"max_epochs": 1, "batch_size": 8},
                                              input={"size": 16})
COLOURS = {"L": (200, 40, 40), "M": (40, 200, 40), "N": (40, 40, 200), "E": (200, 200, 40),
           "B": (40, 200, 200)}
NAMES = {"L": "lymphocyte", "M": "monocyte", "N": "neutrophil", "E": "eosinophil",
         "B": "basophil"}


def write_split_folders(root: Path, splits: dict[str, int], seed: int) -> None:
    """train/<class>/, test/<class>/ colour squares, as `bench generate dataset` lays them."""
    rng = np.random.default_rng(seed)
    for split, per_class in splits.items():
        for label, colour in COLOURS.items():
            folder = root / split / NAMES[label]
            folder.mkdir(parents=True)
            for index in range(per_class):
                pixels = np.clip(np.array(colour) + rng.normal(0, 25, (20, 20, 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{index:03d}.png")


@pytest.fixture
def mixed_home(tiny_world, bench_home, tmp_path) -> str:
    """colours-a and -b (benchmark), a generated set `toy`, a prepared folder: set of the user."""
    toy = bench_home / "generated" / "toy"
    write_split_folders(toy, {"train": 8, "test": 4}, seed=3)
    (toy / "dataset.json").write_text(json.dumps({"name": "toy", "generator": "a test"}))
    write_split_folders(tmp_path / "mine", {"train": 8, "test": 4}, seed=4)
    bench.reset()
    return prepare_dataset(f"folder:{tmp_path / 'mine'}", progress=False).name


def run(sources, targets) -> tuple[set[tuple[str, str]], list[str]]:
    listener = QuietListener()
    results = run_benchmark(RunRequest(models=["tiny"], sources=sources, targets=targets,
                                       protocol=QUICK, pretrained=False), listener)
    assert all(r.status != "failed" for r in results), [r.detail for r in results]
    scores = bench.open_store().scores()
    return set(zip(scores.source, scores.target, strict=True)), listener.notices


def test_all_leaves_generated_and_own_sets_out_and_says_how_to_add_them(mixed_home):
    pairs, notices = run(["all"], ["all"])
    assert {source for source, _ in pairs} == {"colours-a", "colours-b"}
    assert {target for _, target in pairs} == {"colours-a", "colours-b"}
    [notice] = [n for n in notices if "left out" in n]
    assert "toy" in notice and "--source all+generated" in notice
    assert mixed_home in notice and f"all,{mixed_home}" in notice


def test_all_plus_generated_adds_generated_sets_and_names_add_the_rest(mixed_home):
    pairs, notices = run(["colours-a"], ["all+generated"])
    assert {target for _, target in pairs} == {"colours-a", "colours-b", "toy"}
    assert not [n for n in notices if "toy" in n]  # nothing generated was left out
    pairs, notices = run(["colours-a"], [f"colours-b,toy,{mixed_home}"])
    assert {target for _, target in pairs} == {"colours-a", "colours-b", "toy", mixed_home}
    assert not [n for n in notices if "left out" in n]  # named, not `all`


def test_a_spec_of_an_unknown_kind_is_refused():
    spec = bench.DatasetSpec(name="x", scan=lambda root: [], class_map={}, kind="toy")
    assert any("kind 'toy'" in problem for problem in spec.problems())


def test_a_board_selects_by_all_as_a_run_does(mixed_home):
    run(["colours-a"], [f"colours-b,toy,{mixed_home}"])  # a store holding every kind of target

    def columns(*args: str) -> set[str]:
        result = invoke("leaderboard", "--cross", "--metric", "f1", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        [board] = json.loads(result.stdout)
        return {column["target"] for table in board["tables"] for column in table["columns"]}

    assert columns() == {"colours-b", "toy", mixed_home}  # the store as it is
    assert columns("--targets", "all") == {"colours-b"}
    assert columns("--targets", "all+generated") == {"colours-b", "toy"}
    assert columns("--targets", f"all,{mixed_home}") == {"colours-b", mixed_home}
