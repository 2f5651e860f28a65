"""Registries: names, aliases, case, families, unknown names and clashes."""

from __future__ import annotations

import pytest

import bench
from bench.registry import Registry


def model(name: str, *aliases: str, **kwargs) -> bench.ModelSpec:
    return bench.ModelSpec(name=name, aliases=aliases, factory=lambda n, p: None, **kwargs)


@pytest.fixture
def registry() -> Registry:
    registry = Registry("model", bench.ModelSpec)
    registry.add(model("resnet152", "ResNet-152"), "models")
    registry.add(model("swin", "Swin"), "models")
    return registry


def test_lookup_by_name_or_alias_ignores_case(registry):
    assert registry.get("RESNET152").name == "resnet152"
    assert registry.get("resnet-152").name == "resnet152"
    assert registry.get(" Swin ").name == "swin"
    assert "ResNet-152" in registry and "vgg" not in registry


def test_unknown_name_lists_known_names_and_suggests_the_closest(registry):
    with pytest.raises(bench.UnknownNameError) as caught:
        registry.get("resnet15")
    message = str(caught.value)
    assert "Did you mean: resnet152" in message
    assert "Known models: resnet152, swin" in message


def test_duplicate_name_or_alias_names_both_plugins(registry):
    with pytest.raises(bench.DuplicateNameError, match="'models'.*'acme'"):
        registry.add(model("acme-swin", "swin"), "acme")
    with pytest.raises(bench.DuplicateNameError):
        registry.get("swin")  # the clash stays visible: the name is ambiguous now


def test_family_specs_resolve_their_argument(registry):
    def resolve(argument: str) -> bench.ModelSpec:
        return model(f"timm:{argument}", description=argument)

    registry.add(model("timm", resolve_argument=resolve), "models")
    assert registry.get("timm:resnet18").description == "resnet18"
    with pytest.raises(bench.UnknownNameError):
        registry.get("nofamily:resnet18")


def test_registering_something_that_is_not_a_spec_is_a_plugin_error(registry):
    with pytest.raises(bench.PluginError, match="expected bench.ModelSpec"):
        registry.add(bench.GeneratorSpec(name="x", kind="cells", factory=dict), "acme")
