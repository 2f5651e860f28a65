"""A model trained outside bench, tested with `bench evaluate --weights` and shown on the boards."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures.cli import invoke
from safetensors.torch import save_file

import bench
from bench.weights import file_sha256

THEIR_ORDER = ("N", "L", "M", "E", "B")  # the order the outside training script used


def train_elsewhere(order=THEIR_ORDER):
    """The tiny architecture trained by a plain PyTorch loop, classes in ``order``."""
    spec = bench.get_registries().models.get("tiny")
    module = spec.factory(5, False)
    train = bench.kit.load_prepared("colours-a").split("train", 16)
    images = torch.tensor(np.asarray(train.images)).permute(0, 3, 1, 2).float() / 255
    images = (images - 0.5) / 0.25
    labels = torch.tensor([order.index(bench.CLASSES[i]) for i in train.labels])
    optimiser = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(150):
        optimiser.zero_grad()
        F.cross_entropy(module(images), labels).backward()
        optimiser.step()
    return module.state_dict()


@pytest.fixture
def checkpoint(tiny_world, tmp_path):
    path = tmp_path / "theirs.pt"
    torch.save({"model_state_dict": train_elsewhere()}, path)  # as training scripts wrap it
    return path


def test_an_external_checkpoint_is_tested_in_its_class_order_and_recorded(checkpoint):
    result = invoke("evaluate", "--model", "tiny", "--weights", str(checkpoint), "--target",
                    "colours-a,colours-b,colours-b~stain:2", "--class-order", "N,L,M,E,B",
                    "--protocol", "quick", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["source"] == "external" and row["status"] == "finished"
    assert row["scores"]["colours-b"]["f1"] > 0.9  # learnt, and read in the right order
    assert set(row["scores"]) == {"colours-a", "colours-b", "colours-b~stain:2"}

    run = bench.open_store().run(row["run_id"])
    assert run["init"] == f"weights:{file_sha256(checkpoint)[:12]}"
    assert run["split_fingerprint"] == file_sha256(checkpoint)
    assert run["settings"]["class_order"] == list(THEIR_ORDER) and run["epochs"] == 0

    board = invoke("leaderboard", "--cross", "--metric", "f1", "--format", "md")
    assert board.exit_code == 0, board.output
    assert f"weights file sha256 {file_sha256(checkpoint)[:12]}" in board.stdout
    assert "| tiny | external |" in board.stdout
    assert "Source external: a model trained outside bench" in board.stdout

    again = invoke("evaluate", "--model", "tiny", "--weights", str(checkpoint), "--target",
                   "colours-b", "--class-order", "N,L,M,E,B", "--protocol", "quick", "--json")
    assert json.loads(again.stdout)[0]["status"] == "skipped"  # the same cell, tested already


def test_the_wrong_class_order_gives_the_wrong_answers(checkpoint):
    result = invoke("evaluate", "--model", "tiny", "--weights", str(checkpoint), "--target",
                    "colours-b", "--class-order", "L,M,N,E,B", "--protocol", "quick", "--json")
    assert json.loads(result.stdout)[0]["scores"]["colours-b"]["f1"] < 0.7


def test_a_safetensors_file_states_its_own_order(tiny_world, tmp_path):
    path = tmp_path / "theirs.safetensors"
    save_file(train_elsewhere(), str(path), metadata={"class_order": "N,L,M,E,B"})
    result = invoke("evaluate", "--model", "tiny", "--weights", str(path), "--target",
                    "colours-b", "--protocol", "quick", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["scores"]["colours-b"]["f1"] > 0.9
    clash = invoke("evaluate", "--model", "tiny", "--weights", str(path), "--target",
                   "colours-b", "--class-order", "L,M,N,E,B", "--protocol", "quick")
    assert clash.exit_code == 2 and "states N,L,M,E,B" in clash.output


def test_mistakes_are_named(checkpoint, tmp_path):
    no_order = invoke("evaluate", "--model", "tiny", "--weights", str(checkpoint), "--target",
                      "colours-b")
    assert no_order.exit_code == 2 and "does not state the order" in no_order.output
    bad = invoke("evaluate", "--model", "tiny", "--weights", str(checkpoint), "--target",
                 "colours-b", "--class-order", "N,L,M,E")
    assert bad.exit_code == 2 and "each class once" in bad.output
    source = invoke("evaluate", "--model", "tiny", "--source", "colours-a", "--weights",
                    str(checkpoint), "--class-order", "N,L,M,E,B")
    assert source.exit_code == 1 and "Leave --source out" in source.output
    nothing = invoke("evaluate", "--model", "tiny")
    assert nothing.exit_code == 2 and "--weights FILE" in nothing.output
    ten_way = tmp_path / "ten.pt"
    state = train_elsewhere()
    state["4.weight"], state["4.bias"] = torch.zeros(10, 8), torch.zeros(10)
    torch.save(state, ten_way)
    head = invoke("evaluate", "--model", "tiny", "--weights", str(ten_way), "--target",
                  "colours-b", "--class-order", "N,L,M,E,B", "--protocol", "quick")
    assert head.exit_code == 1 and "10-class classifier head" in head.output
    assert "bench run --weights" in head.output
