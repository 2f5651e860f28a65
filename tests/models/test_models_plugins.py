"""Third-party architectures: the example plugin's own nn.Module, and factories that break."""

from __future__ import annotations

import pytest
import torch
from fixtures.tiny_models import TinyNet

import bench
from bench.models import build_model, check_model, data_config
from bench.plugins import discover
from bench.registry import build_registries

COMMON = {"input_size": 32, "mean": (0.5,) * 3, "std": (0.25,) * 3}


class MetaShy(TinyNet):
    """Reads a value out of its input, which meta tensors cannot give: forces a real pass."""

    def forward(self, x):
        if float(x.sum()) > 1e12:
            raise AssertionError("never")
        return super().forward(x)


class OddPlugin:
    """An in-process plugin with one sound model and every way a factory can go wrong."""

    @bench.hookimpl
    def register_models(self):
        return [
            bench.ModelSpec(name="tiny-ok", factory=lambda n, p: TinyNet(n), **COMMON),
            bench.ModelSpec(name="returns-text", factory=lambda n, p: "a model", **COMMON),
            bench.ModelSpec(name="ten-outputs", factory=lambda n, p: TinyNet(10), **COMMON),
            bench.ModelSpec(name="aux-in-train",
                            factory=lambda n, p: TinyNet(n, extra_output=True), **COMMON),
            bench.ModelSpec(name="explodes", factory=lambda n, p: 1 / 0, **COMMON),
            bench.ModelSpec(name="no-size", factory=lambda n, p: TinyNet(n)),
        ]


@pytest.fixture
def odd_models():
    registries = build_registries(discover(extra={"odd": OddPlugin()}))
    assert not registries.problems
    return registries.models


def test_example_plugin_model_trains_like_the_built_ins(example_plugin):
    models = bench.get_registries().models
    spec = models.get("example-cnn")
    assert models.owner("example-cnn") == example_plugin
    assert data_config(spec) == (64, (0.5,) * 3, (0.25,) * 3, "bilinear")
    built = build_model(spec, pretrained=False)
    assert built.weights["source"] == "none"
    built.module.eval()
    with torch.no_grad():
        assert built.module(torch.randn(2, 3, 64, 64)).shape == (2, 5)
    with pytest.raises(bench.RunError, match="no pretrained weights"):
        build_model(spec, pretrained=True)


def test_a_third_party_checkpoint_for_other_classes_loses_only_its_head(odd_models, tmp_path):
    source = TinyNet(10)
    path = tmp_path / "ten.pt"
    torch.save(source.state_dict(), path)
    built = build_model(odd_models.get("tiny-ok"), weights=path)
    assert sorted(built.weights["skipped_keys"]) == ["classifier.bias", "classifier.weight"]
    assert torch.equal(built.module.body[0].weight, source.body[0].weight)


def test_factory_returning_something_else_than_a_module(odd_models):
    with pytest.raises(bench.PluginError, match="returned str, expected a torch.nn.Module"):
        build_model(odd_models.get("returns-text"), pretrained=False)


def test_factory_with_the_wrong_number_of_outputs(odd_models):
    with pytest.raises(bench.PluginError, match=r"shape \(2, 10\).*expected \(2, 5\)"):
        build_model(odd_models.get("ten-outputs"), pretrained=False)


def test_module_returning_a_tuple_in_train_mode(odd_models):
    with pytest.raises(bench.PluginError, match="train mode returned tuple"):
        build_model(odd_models.get("aux-in-train"), pretrained=False)


def test_factory_that_raises_is_named(odd_models):
    with pytest.raises(bench.PluginError, match="factory of model 'explodes' failed: Zero"):
        build_model(odd_models.get("explodes"), pretrained=False)


def test_spec_without_preprocessing_says_what_is_missing(odd_models):
    with pytest.raises(bench.PluginError, match="gives no input_size, mean, std"):
        build_model(odd_models.get("no-size"), pretrained=False)


@pytest.mark.parametrize("module_type", [TinyNet, MetaShy])
def test_checking_leaves_weights_buffers_mode_and_randomness_alone(module_type):
    module = module_type(5).train()
    before = {key: value.clone() for key, value in module.state_dict().items()}
    rng = torch.random.get_rng_state()
    check_model(module, 5, 32)
    assert module.training
    assert all(torch.equal(before[key], value) for key, value in module.state_dict().items())
    assert torch.equal(rng, torch.random.get_rng_state())
