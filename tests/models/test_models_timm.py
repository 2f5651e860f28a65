"""`timm:<name>`: any timm architecture as a model, with timm's own preprocessing."""

from __future__ import annotations

import pytest
import torch
from bench_models.timm_backend import UnknownTimmModelError

import bench
from bench.models import build_model, data_config, describe, parameter_count


def models():
    return bench.get_registries().models


def test_timm_test_model_builds_at_timms_input_size():
    spec = models().get("timm:test_resnet")
    assert describe(spec) == {"architecture": "test_resnet", "weights": "r160_in1k"}
    built = build_model(spec, pretrained=False)
    assert (built.input_size, built.mean, built.std) == (160, (0.5,) * 3, (0.5,) * 3)
    built.module.eval()
    with torch.no_grad():
        assert built.module(torch.randn(2, 3, 160, 160)).shape == (2, 5)


def test_explicit_pretrained_tag_is_kept():
    spec = models().get("timm:test_vit.r160_in1k")
    assert describe(spec) == {"architecture": "test_vit", "weights": "r160_in1k"}
    assert data_config(spec) == (160, (0.5,) * 3, (0.5,) * 3, "bicubic")


def test_parameter_count_on_meta_equals_the_real_model():
    spec = models().get("timm:test_vit")
    real = build_model(spec, num_classes=7, pretrained=False).module
    assert parameter_count(spec, num_classes=7) == sum(p.numel() for p in real.parameters())


def test_unknown_timm_name_suggests_close_matches():
    with pytest.raises(UnknownTimmModelError) as caught:
        models().get("timm:resnet_18")
    assert "resnet18" in caught.value.suggestions
    assert "timm has no model 'resnet_18'" in str(caught.value)
    assert isinstance(caught.value, bench.UnknownNameError)


def test_unknown_pretrained_tag_lists_the_real_ones():
    with pytest.raises(bench.BenchError) as caught:
        models().get("timm:test_resnet.imagenet_by_hand")
    assert str(caught.value) == (
        "timm has no pretrained weights 'test_resnet.imagenet_by_hand'. "
        "The tags test_resnet has: r160_in1k."
    )


def test_the_family_alone_is_not_a_model():
    with pytest.raises(bench.RunError, match="timm:<name>"):
        build_model(models().get("timm"), pretrained=False)


def test_unknown_model_lists_known_ones_and_suggests():
    with pytest.raises(bench.UnknownNameError, match="Did you mean: resnet152") as caught:
        models().get("resnet125")
    assert "vgg19" in str(caught.value)


def test_a_bare_timm_name_is_the_timm_model_of_that_name(tmp_path, monkeypatch):
    """The demo prints `timm:resnet18`; `--model resnet18` means it too."""
    assert models().get("resnet18").name == "timm:resnet18"
    assert models().get("Test_ViT").name == "timm:test_vit"
    assert models().get("resnet152").name == "resnet152"  # a registered name comes first
    with pytest.raises(bench.UnknownNameError, match="Did you mean: resnet152"):
        models().get("resnet125")  # nor a timm name: the registry's own suggestions
    (tmp_path / "cells").mkdir()  # a data set's family argument is a path: never guessed
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bench.UnknownNameError):
        bench.get_registries().datasets.get("cells")
