"""Leakage across data sets shown beside the scores: a † on the cell and a footnote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench
from bench.data import load_prepared, prepare_dataset

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--epochs", "1", "--json", "--model", "tiny", "--source", "colours-a", "--target", "all"]


def _world(root: Path, *, shared: bool) -> None:
    if shared:  # colours-b's lymphocytes become copies of five of colours-a's training images
        trained = [row.path for row in load_prepared("colours-a").manifest
                   if row.split == "train" and row.label == "L"]
        shutil.rmtree(root / "colours-b" / "L")
        (root / "colours-b" / "L").mkdir()
        for path in trained[:5]:
            shutil.copy(root / "colours-a" / path, root / "colours-b" / "L" / f"copy-{index(path)}")
        prepare_dataset("colours-b", progress=False)  # the download changed: prepared anew
    result = invoke(*RUN)
    assert result.exit_code == 0, result.output


def index(path: str) -> str:
    return Path(path).name


def board() -> str:
    result = invoke("leaderboard", "--cross", "--format", "md")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_target_sharing_test_images_with_the_source_train_split_is_marked(
        tiny_world):
    _world(tiny_world, shared=True)
    train = {row.sha256 for row in load_prepared("colours-a").manifest if row.split == "train"}
    tests = [row for row in load_prepared("colours-b").manifest if row.split == "test"]
    seen = sum(row.sha256 in train for row in tests)
    assert seen > 0
    text = board()
    row = next(line for line in text.splitlines() if line.startswith("| tiny | colours-a"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert all(cell.strip("*").endswith("†") for cell in cells[6:10])  # colours-b: A, P, R, F1
    assert not any("†" in cell for cell in cells[2:6])  # colours-a on itself (the baseline)
    assert (f"† {seen} of the {len(tests)} test images of colours-b also appear in the train "
            f"split of colours-a") in " ".join(text.split())
    scores = bench.open_store().scores()  # the score itself is kept as it is
    assert set(scores.target) == {"colours-a", "colours-b"}


def test_data_sets_that_share_nothing_carry_no_mark(tiny_world):
    _world(tiny_world, shared=False)
    assert "†" not in board()


@pytest.mark.parametrize("fmt", ["html", "csv", "latex"])
def test_every_format_carries_the_mark(tiny_world, fmt):
    _world(tiny_world, shared=True)
    result = invoke("leaderboard", "--cross", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "†" in result.stdout
