"""Where weights come from: a user's file, the local Hugging Face cache, or a clear refusal."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
import timm
import torch
from safetensors.torch import save, save_file

import bench
from bench.models import build_model
from bench.weights import read_state_dict

PAPER = ("vgg19", "resnet152", "mobilenetv3", "densenet121", "inceptionv3", "vit", "swin")


def models():
    return bench.get_registries().models


def same_tensors(source: dict, loaded: dict, skip: str = "") -> bool:
    """Every tensor of the loaded model equals the source's (except keys starting with skip)."""
    keys = [key for key in loaded if not (skip and key.startswith(skip))]
    return bool(keys) and all(torch.equal(source[key], loaded[key]) for key in keys)


def test_local_safetensors_file_is_the_weights_used(tmp_path):
    spec = models().get("timm:test_resnet")
    torch.manual_seed(1)
    source = build_model(spec, pretrained=False).module.eval()
    path = tmp_path / "mine.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))

    torch.manual_seed(2)
    fresh = build_model(spec, pretrained=False).module
    assert not same_tensors(source.state_dict(), fresh.state_dict())  # seeds give other weights
    torch.manual_seed(2)
    built = build_model(spec, weights=path)

    assert same_tensors(source.state_dict(), built.module.state_dict())
    images = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        assert torch.equal(source(images), built.module.eval()(images))
    assert built.weights["source"] == "file"
    assert built.weights["file"] == str(path.resolve())
    assert built.weights["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert built.weights["skipped_keys"] == []


def test_imagenet_head_of_a_plain_state_dict_is_skipped_and_said(tmp_path):
    imagenet = timm.create_model("test_resnet", num_classes=1000)
    path = tmp_path / "imagenet.pth"
    # a training script's checkpoint: wrapped, saved from DataParallel
    torch.save({"state_dict": {f"module.{k}": v for k, v in imagenet.state_dict().items()},
                "epoch": 3}, path)
    built = build_model(models().get("timm:test_resnet"), weights=path)
    assert sorted(built.weights["skipped_keys"]) == ["fc.bias", "fc.weight"]
    assert any("1000-class" in note for note in built.weights["notes"])
    assert same_tensors(imagenet.state_dict(), built.module.state_dict(), skip="fc.")
    assert built.module.fc.weight.shape == (5, imagenet.fc.in_features)


def test_weights_of_another_architecture_name_the_mismatching_keys(tmp_path):
    path = tmp_path / "vit.safetensors"
    save_file(timm.create_model("test_vit", num_classes=5).state_dict(), str(path))
    with pytest.raises(bench.RunError) as caught:
        build_model(models().get("timm:test_resnet"), weights=path)
    message = str(caught.value)
    assert "does not fit the ResNet architecture" in message
    assert "Missing from the file" in message and "conv1.0.weight" in message
    assert re.search(r"Not in the model: \d+ key\(s\): blocks\.0\.", message)


def test_a_reshaped_layer_is_reported_with_both_shapes(tmp_path):
    state = timm.create_model("test_resnet", num_classes=5).state_dict()
    state["conv1.0.weight"] = state["conv1.0.weight"][:, :2]
    path = tmp_path / "cut.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    with pytest.raises(bench.RunError, match=r"conv1\.0\.weight: file \(\d+, 2, 3, 3\), model"):
        build_model(models().get("timm:test_resnet"), weights=path)


def test_a_pickled_object_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "whole-model.pt"
    torch.save(timm.create_model("test_resnet", num_classes=5), path)
    with pytest.raises(bench.RunError, match="pickled Python objects"):
        read_state_dict(path)
    with pytest.raises(bench.RunError, match="does not exist"):
        read_state_dict(tmp_path / "nowhere.safetensors")


@pytest.mark.parametrize("name", PAPER)
def test_missing_pretrained_weights_offline_name_the_three_ways_out(name, offline_hub):
    spec = models().get(name)
    architecture = spec.factory.architecture
    with pytest.raises(bench.RunError) as caught:
        build_model(spec)  # pretrained is the default
    message = str(caught.value)
    assert f"model {name!r}" in message and architecture in message
    assert f"timm/{architecture}" in message and str(offline_hub) in message
    assert "--weights PATH" in message and "--no-pretrained" in message
    assert f"`bench weights download {name} --to DIR`" in message
    assert "`bench weights unpack weights.tar`" in message and "BENCH_WEIGHTS" in message
    assert "HF_HUB_OFFLINE" in message


def test_weights_in_the_local_hf_cache_are_used_offline(warm_hf_cache):
    imagenet = timm.create_model("test_resnet", num_classes=1000)
    path = warm_hf_cache("timm/test_resnet.r160_in1k", imagenet.state_dict())
    built = build_model(models().get("timm:test_resnet"))
    assert built.weights["source"] == "hf-cache"
    assert built.weights["tag"] == "test_resnet.r160_in1k"
    assert built.weights["repo"] == "timm/test_resnet.r160_in1k"
    assert built.weights["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert same_tensors(imagenet.state_dict(), built.module.state_dict(), skip="fc.")
    assert built.module.fc.out_features == 5


def test_torchvision_style_inception_checkpoint_loads_without_its_auxiliary_head(tmp_path):
    with_aux = timm.create_model("inception_v3", num_classes=1000, aux_logits=True)
    path = tmp_path / "inception_v3_google.pth"
    torch.save(with_aux.state_dict(), path)
    built = build_model(models().get("inceptionv3"), weights=path)
    skipped = built.weights["skipped_keys"]
    assert {"fc.weight", "fc.bias"} <= set(skipped)
    assert any(key.startswith("AuxLogits.") for key in skipped)
    assert any("auxiliary head" in note for note in built.weights["notes"])
    assert same_tensors(with_aux.state_dict(), built.module.state_dict(), skip="fc.")


def test_the_hub_is_asked_only_when_the_cache_has_nothing(local_hub):
    imagenet = timm.create_model("test_vit", num_classes=1000)
    local_hub("timm/test_vit.r160_in1k", {"model.safetensors": save(
        {k: v.contiguous() for k, v in imagenet.state_dict().items()})})
    built = build_model(models().get("timm:test_vit"))
    assert [path for path, _ in local_hub.server.requests] == [
        "/timm/test_vit.r160_in1k/resolve/main/model.safetensors"] * 2  # HEAD, then GET
    assert built.weights["source"] == "hub" and built.weights["repo"] == "timm/test_vit.r160_in1k"
    assert same_tensors(imagenet.state_dict(), built.module.state_dict(), skip="head.")
    local_hub.server.requests.clear()
    again = build_model(models().get("timm:test_vit"))
    assert again.weights["source"] == "hf-cache" and not local_hub.server.requests


def test_a_repo_without_safetensors_falls_back_to_pytorch_model_bin(local_hub):
    imagenet = timm.create_model("test_vit", num_classes=1000)
    buffer = io.BytesIO()
    torch.save(imagenet.state_dict(), buffer)
    local_hub("timm/test_vit.r160_in1k", {"pytorch_model.bin": buffer.getvalue()})
    built = build_model(models().get("timm:test_vit"))
    assert built.weights["file"].endswith(hashlib.sha256(buffer.getvalue()).hexdigest())
    assert same_tensors(imagenet.state_dict(), built.module.state_dict(), skip="head.")
