"""The first-party data set plugin: its specs, generated data sets and the folder: family."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dataset_fakes import make_class_folders, write_image

import bench
from bench.data import ensure_prepared, load_prepared, prepare_dataset

PAPER = {  # PROTOCOL.md, L / M / N / E / B
    "raabin": (242, 242, 242, 201, 218),
    "aml": (3948, 1789, 8593, 424, 79),
    "pbc": (1214, 1420, 3329, 3117, 1218),
    "ldwbc": (10445, 968, 10469, 539, 224),
    "wbc-usid-b": (400,) * 5,
    "wbc-usid-c": (400,) * 5,
}
DISPLAY = {"raabin": "Raabin", "aml": "AML", "pbc": "PBC", "ldwbc": "LDWBC",
           "wbc-usid-b": "WBC-USID-B", "wbc-usid-c": "WBC-USID-C"}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_data_sets_carry_the_papers_names_and_counts(name: str) -> None:
    registry = bench.get_registries().datasets
    spec = registry.get(DISPLAY[name])
    assert spec.name == name and spec.display_name == DISPLAY[name]
    assert DISPLAY[name] in spec.aliases
    assert tuple(spec.paper_counts[label] for label in bench.CLASSES) == PAPER[name]
    assert spec.citation and spec.licence and spec.download_hint
    assert registry.owner(name) == "datasets"


def test_data_set_plugin_loads_without_problems_or_heavy_imports() -> None:
    code = ("import sys, bench; r = bench.get_registries(); assert not r.problems, r.problems; "
            "assert len(r.datasets) >= 8; "
            "print(sorted(m for m in ('numpy', 'PIL', 'torch', 'pandas') if m in sys.modules))")
    env = {**os.environ, "BENCH_DISABLE_PLUGINS": "models,generators"}  # this plugin alone
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=env)
    assert result.stdout.strip() == "[]"


def test_generated_sets_register_and_prepare_without_from(generated_set: Path) -> None:
    bench.reset()
    spec = bench.get_registries().datasets.get("ddpm-level2")
    assert spec.synthetic and spec.split_policy == "official_test"
    assert spec.default_source == generated_set
    # the engine's path: a data set that already lies here is prepared on first use
    with pytest.raises(bench.DataError, match="bench datasets prepare ddpm-level2"):
        load_prepared("ddpm-level2")  # reading never writes
    dataset = ensure_prepared("ddpm-level2")
    counts = dataset.counts()
    assert counts["E"] == {"train": 6, "val": 2, "test": 4}  # Eosinophil folder
    assert dataset.info["synthetic"] is True


def test_generated_set_with_a_taken_name_is_skipped(bench_home: Path) -> None:
    folder = make_class_folders(bench_home / "generated" / "PBC" / "train", {"Basophil": 1})
    (folder.parent / "dataset.json").write_text(json.dumps({"name": "PBC"}))
    registry = bench.get_registries().datasets
    with pytest.warns(UserWarning, match="taken"):  # found on this machine when listed
        assert "PBC" not in [spec.display_name for spec in registry if spec.synthetic]
    assert registry.get("pbc").display_name == "PBC" and not registry.get("pbc").synthetic


def test_unprepared_real_data_set_names_the_command() -> None:
    with pytest.raises(bench.DataError, match=r"bench datasets prepare aml --from PATH"):
        load_prepared("aml")


def test_folder_family_with_default_names(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "my cells", dict.fromkeys(
        ("lymphocytes", "monocytes", "neutrophils", "eosinophils", "basophils"), 5))
    dataset = prepare_dataset(f"folder:{root}", progress=False, cache_size=16)
    assert dataset.name.startswith("folder-my-cells-")
    assert dataset.split_rule.policy == "stratified"
    assert dataset.counts()["B"] == {"train": 3, "val": 1, "test": 1}
    assert load_prepared(f"folder:{root}").fingerprint == dataset.fingerprint
    # prepared folder data sets are registered under their own name from now on
    bench.reset()
    assert load_prepared(dataset.name).fingerprint == dataset.fingerprint


def test_folder_family_with_a_mapping_file(tmp_path: Path) -> None:
    make_class_folders(tmp_path / "private" / "images",
                       {"lym": 3, "mono": 3, "junk": 2, "gran": 3})
    mapping = tmp_path / "private" / "cells.toml"
    mapping.write_text('name = "my-cells"\nroot = "images"\n'
                       '[classes]\nlym = "L"\nmono = "monocyte"\njunk = "-"\ngran = "N"\n')
    dataset = prepare_dataset(f"folder:{mapping}", progress=False, cache_size=16)
    assert dataset.name == "my-cells"
    assert dataset.info["dropped"]["classes"] == {"junk": 2}
    assert {row.label for row in dataset.manifest} == {"L", "M", "N"}
    bench.reset()
    assert bench.get_registries().datasets.get("my-cells").name == "my-cells"


def test_folder_family_reports_unmapped_classes_and_bad_labels(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "cells", {"lym": 1, "weird": 1})
    with pytest.raises(bench.DataError, match=r"weird.*mapping file"):
        prepare_dataset(f"folder:{root}", progress=False)
    (root / "bench-dataset.toml").write_text('[classes]\nlym = "X"\n')
    with pytest.raises(bench.DataError, match="not a class"):
        bench.get_registries().datasets.get(f"folder:{root}")
    with pytest.raises(bench.DataError, match="does not exist"):
        bench.get_registries().datasets.get(f"folder:{tmp_path / 'nowhere'}")


def test_folder_family_reads_a_csv(tmp_path: Path) -> None:
    lines = ["path,label"]
    for label in ("lymphocyte", "monocyte"):
        for index in range(5):
            write_image(tmp_path / "pics" / f"{label}{index}.png")
            lines.append(f"pics/{label}{index}.png,{label}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    dataset = prepare_dataset(f"folder:{tmp_path / 'labels.csv'}", progress=False, cache_size=16)
    assert sum(dataset.counts()["M"].values()) == 5
    assert dataset.manifest[0].path.startswith("pics/")
