"""`pretrained` end to end: weights served in their published layout by a local hub, downloaded
by huggingface_hub, checked, mapped, given a new head and trained; offline, a clear stop."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import torch
from fixtures.cli import invoke

import bench
from bench.models import ensure_pretrained_weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
from test_models_dinobloom import dinobloom_s_file  # noqa: E402 - the published layout

RUN = ("run", "--model", "dinobloom-s", "--source", "colours-a", "--target", "colours-b",
       "--protocol", "quick", "--epochs", "1", "--json")


@pytest.fixture
def served(tiny_world, local_hub):
    buffer = io.BytesIO()
    torch.save(dinobloom_s_file(), buffer)
    local_hub("MarrLab/DinoBloom", {"pytorch_model_s.bin": buffer.getvalue()})
    return local_hub


def test_a_pretrained_foundation_model_downloads_and_trains(served, monkeypatch):
    result = invoke(*RUN)
    assert result.exit_code == 0, result.output
    cell = json.loads(result.stdout)[0]
    assert cell["status"] == "finished" and cell["init"] == "pretrained"
    run = bench.open_store().run(cell["run_id"])
    weights = run["summary"]["weights"]
    # Fetched by the check before any cell starts, then loaded from the cache it went to.
    assert weights["source"] == "hf-cache" and weights["repo"] == "MarrLab/DinoBloom"
    assert weights["tag"] == "MarrLab/DinoBloom/pytorch_model_s.bin"
    assert any("new 5-way head" in note for note in weights["notes"])
    assert 0 <= cell["f1 colours-b"] <= 100
    assert [path for path, _ in served.server.requests] == [
        "/MarrLab/DinoBloom/resolve/main/pytorch_model_s.bin"] * 2

    # Offline now, the same weights come from the cache: nothing is asked of the hub.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    served.server.requests.clear()
    ensure_pretrained_weights(bench.get_registries().models.get("dinobloom-s"))
    assert not served.server.requests


def test_offline_without_the_weights_a_run_stops_before_training(served, monkeypatch):
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda *a, **k: pytest.fail("hf_hub_download was called"))
    result = invoke(*RUN[:-1])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "model 'dinobloom-s' needs its pretrained weights" in message
    assert "pytorch_model_s.bin of the Hugging Face repo MarrLab/DinoBloom" in message
    assert "HF_HUB_OFFLINE is set" in message and "Nothing was trained" in message
    assert "(1) --weights PATH" in message and "(3) --no-pretrained" in message
    assert "`bench weights download dinobloom-s --to DIR`" in message
    assert not served.server.requests
    assert bench.open_store().runs().empty  # not even a failed run: nothing started
