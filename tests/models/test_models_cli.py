"""`bench models list`: what each model is built from, its size and its preprocessing."""

from __future__ import annotations

import json

import pytest
from fixtures.cli import invoke

from bench.cli import output


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell is cut, whatever terminal the tests run in."""
    monkeypatch.setattr(output.console, "width", 250)


def listing(*args: str) -> str:
    result = invoke("models", "list", *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_lists_the_seven_with_timm_weights_size_and_preprocessing():
    import timm

    rows = {row["name"]: row for row in json.loads(listing("--json"))}
    inception = rows["inceptionv3"]
    assert inception["display_name"] == "Inception-V3"
    assert (inception["architecture"], inception["weights"]) == ("inception_v3", "tv_in1k")
    assert (inception["input_size"], inception["mean"]) == (299, [0.5, 0.5, 0.5])
    assert inception["plugin"] == "models" and inception["interpolation"] == "bicubic"
    # counted on the meta device, it must still be the real size of the 5-way model
    real = timm.create_model("mobilenetv3_large_100", num_classes=5)
    assert rows["mobilenetv3"]["parameters"] == sum(p.numel() for p in real.parameters())
    assert all(rows[name]["parameters"] > 1e6 for name in
               ("vgg19", "resnet152", "densenet121", "vit", "swin"))
    assert rows["timm"]["architecture"] == "timm:<name>" and rows["timm"]["parameters"] is None


def test_every_model_says_what_it_was_pretrained_on_and_its_embedding_size():
    rows = {row["name"]: row for row in json.loads(listing("--json"))}
    assert all("pretraining_data" in row for row in rows.values())
    assert rows["vgg19"]["pretraining_data"] == ["ImageNet-1k"]
    assert rows["vit"]["pretraining_data"] == ["ImageNet-21k", "ImageNet-1k"]
    assert rows["swin"]["pretraining_data"] == ["ImageNet-21k", "ImageNet-1k"]
    dinobloom = rows["dinobloom-s"]
    assert {"PBC", "Raabin-WBC", "AML-Cytomorphology_LMU"} <= set(dinobloom["pretraining_data"])
    assert dinobloom["embedding"] == 384 and dinobloom["input_size"] == 224
    assert [rows[f"dinobloom-{v}"]["embedding"] for v in "blg"] == [768, 1024, 1536]
    assert 21e6 < dinobloom["parameters"] < 23e6 and rows["dinobloom-g"]["parameters"] > 1.1e9
    assert rows["vgg19"]["embedding"] == 4096  # its pre-logits layer, what a probe reads
    assert rows["resnet152"]["embedding"] == 2048
    concrete = [row for row in rows.values() if row["parameters"] is not None]
    assert all(row["pretraining_data"] for row in concrete)  # first-party models all declare
    table = listing("--all")
    assert "pretrained on" in table and "ImageNet-21k, ImageNet-1k" in table


def test_table_and_all_columns(example_plugin):
    table = listing()
    assert "VGG-19" in table and "tv_in1k" in table and "139.6M" in table
    assert "plugin" not in table
    everything = listing("--all")
    assert "plugin" in everything and "example-cnn" in everything
    assert "hierarchical transformer" in everything and example_plugin in everything


def test_a_model_with_broken_preprocessing_is_reported_not_fatal(install_distribution):
    install_distribution("half-done", {"half": "half_done_plugin"})
    result = invoke("models", "list")
    assert result.exit_code == 0
    assert "half-done: model 'half-done' gives no input_size, mean, std" in result.output


def test_a_small_model_is_not_listed_as_0_0m(install_distribution):
    from bench.cli.models import parameters_text

    assert [parameters_text(n) for n in (812, 23_412, 11_179_077, 143_667_240)] == [
        "812", "23.4k", "11.2M", "143.7M"]
    install_distribution("small-bench", {"small": "small_plugin"})
    row = next(line for line in listing().splitlines() if "small-mlp" in line)
    assert "23.2k" in row and "0.0M" not in row  # 768 * 30 + 30 + 30 * 5 + 5 weights
