"""The paper's seven architectures: names, timm weights, preprocessing, and a real forward pass."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
import torch

import bench
from bench.models import build_model, data_config

# name -> (paper spelling, input size the protocol expects)
PAPER = {
    "vgg19": ("VGG-19", 224),
    "resnet152": ("ResNet-152", 224),
    "mobilenetv3": ("MobileNet-V3", 224),
    "densenet121": ("DenseNet-121", 224),
    "inceptionv3": ("Inception-V3", 299),
    "vit": ("ViT", 224),
    "swin": ("Swin", 224),
}


def models():
    return bench.get_registries().models


@pytest.mark.slow
@pytest.mark.parametrize("name", PAPER)
def test_each_paper_model_gives_five_logits_at_its_input_size(name):
    built = build_model(models().get(name), num_classes=5, pretrained=False)
    assert built.input_size == PAPER[name][1]
    assert built.weights["source"] == "none" and built.weights["sha256"] is None
    images = torch.randn(2, 3, built.input_size, built.input_size)
    modes = (False, True) if name == "inceptionv3" else (False,)  # the auxiliary-head case
    for training in modes:
        built.module.train(training)
        with torch.no_grad():
            logits = built.module(images)
        assert isinstance(logits, torch.Tensor), f"{name} in train={training}"
        assert logits.shape == (2, 5) and torch.isfinite(logits).all()
    del built, logits
    gc.collect()


@pytest.mark.parametrize("name", PAPER)
def test_paper_spelling_and_short_name_reach_the_same_model(name):
    display, _ = PAPER[name]
    spec = models().get(display)
    assert spec.name == name and spec.display_name == display
    assert models().get(name.upper()) is spec
    assert models().owner(name) == "models"


def test_each_paper_model_is_its_own_family():
    families = {models().get(name).family for name in PAPER}
    assert families == {"linear CNN", "residual CNN", "lightweight CNN", "dense CNN",
                        "inception CNN", "transformer", "hierarchical transformer"}


@pytest.mark.parametrize("name", PAPER)
def test_preprocessing_is_timms_config_of_the_chosen_weights(name):
    import timm
    from timm.data import resolve_data_config
    from timm.models import get_pretrained_cfg

    spec = models().get(name)
    architecture = spec.factory.architecture
    assert architecture in timm.list_pretrained(), f"{architecture} has no timm weights"
    expected = resolve_data_config(pretrained_cfg=get_pretrained_cfg(architecture).to_dict())
    size, mean, std, interpolation = data_config(spec)
    assert (3, size, size) == expected["input_size"]
    assert mean == tuple(expected["mean"]) and std == tuple(expected["std"])
    assert interpolation == expected["interpolation"]
    assert spec.input_size is None and spec.mean is None  # nothing hand-typed in the plugin


def test_importing_the_plugin_and_looking_up_a_model_stay_light():
    code = (
        "import sys, bench, bench_models\n"
        "spec = bench.get_registries().models.get('Inception-V3')\n"
        "print(spec.name, [m for m in ('torch', 'timm') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "inceptionv3 []"
