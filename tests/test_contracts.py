"""Every registered plugin, first- or third-party, passes the contract checks of bench.testing.

Parametrised over the registry itself, so a new plugin is checked without a new test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import bench
import bench.testing
from bench.testing import ContractError

# Families (timm:<name>, folder:PATH, ddpm:DIR) are checked through one member each.
FAMILY_MEMBERS = {"timm": "timm:test_resnet"}


def _registered(kind: str) -> list[str]:
    bench.reset()
    registry = getattr(bench.get_registries(), kind)
    names = [FAMILY_MEMBERS.get(spec.name, spec.name) for spec in registry
             if spec.resolve_argument is None or spec.name in FAMILY_MEMBERS]
    bench.reset()
    return names


@pytest.mark.parametrize("name", _registered("models"))
def test_every_model_builds_and_trains_one_step(name: str) -> None:
    spec = bench.get_registries().models.get(name)
    config = bench.testing.check_model(spec)
    assert config["parameters"] > 0 and config["input_size"] >= 32


@pytest.mark.parametrize("name", _registered("datasets"))
def test_every_data_set_spec_is_valid(name: str) -> None:
    spec = bench.get_registries().datasets.get(name)
    assert bench.testing.check_dataset(spec) == []


@pytest.mark.parametrize("name", ["wbc-usid-b", "wbc-usid-c"])
def test_the_wbc_usid_scans_read_the_real_release(name: str, wbc_usid: Path) -> None:
    spec = bench.get_registries().datasets.get(name)
    images = bench.testing.check_dataset(spec, wbc_usid)
    assert len(images) == 2000 and {i.official_split for i in images} == {"train", "test"}


@pytest.mark.parametrize("name", _registered("generators"))
def test_every_generator_makes_what_it_declares(name: str) -> None:
    spec = bench.get_registries().generators.get(name)
    bench.testing.check_generator(spec)


def test_a_broken_model_fails_the_contract_with_the_reason() -> None:
    from fixtures.tiny_models import linear

    spec = bench.ModelSpec(name="three-way", factory=lambda n, p: linear(3),
                           input_size=8, mean=(0.5,) * 3, std=(0.5,) * 3)
    with pytest.raises(ContractError, match="three-way"):
        bench.testing.check_model(spec)


def test_a_scan_with_unknown_classes_fails_the_contract(tmp_path: Path) -> None:
    (tmp_path / "platelet").mkdir()
    (tmp_path / "platelet" / "a.png").write_bytes(b"x")
    spec = bench.DatasetSpec(name="no-platelets", scan=bench.kit.scan_class_folders,
                             class_map={"lymphocyte": "L"})
    with pytest.raises(ContractError, match="'platelet' is not in the class map"):
        bench.testing.check_dataset(spec, tmp_path)


def test_a_bad_class_map_is_refused_at_registration_and_spares_the_other_specs(
        install_distribution) -> None:
    install_distribution("half-good", {"halfgood": "half_good"})
    bench.reset()
    registries = bench.get_registries()
    assert "good-set" in registries.datasets  # a refused spec does not drop the others
    assert "bad-map" not in registries.datasets
    problems = " ".join(registries.problems)
    assert "class_map['lym'] = 'lymphocyte'" in problems and "registered twice" in problems
