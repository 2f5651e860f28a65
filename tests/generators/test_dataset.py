"""`bench generate dataset`: layout, counts, annotations, disjoint splits, resume, overwrite."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import invoke
from PIL import Image

import bench
from bench.generation.contract import CLASS_FOLDERS, default_generator
from bench.generation.datasets import generate_dataset

FOLDERS = {"Basophil", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"}
SMALL = {"train": 10, "test": 5, "size": 40, "prepare": False, "workers": 1}


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.png"))}


def test_layout_counts_and_annotations(bench_home):
    folder = generate_dataset("tiny-c", level="complex", **SMALL)
    assert folder == bench_home / "generated" / "tiny-c"
    assert sorted(p.name for p in folder.iterdir()) == ["annotations.jsonl", "dataset.json",
                                                        "test", "train"]
    for split, count in (("train", 10), ("test", 5)):
        assert {p.name for p in (folder / split).iterdir()} == FOLDERS
        images = sorted((folder / split).rglob("*.png"))
        assert len(images) == count
        assert all(Image.open(p).size == (40, 40) and Image.open(p).mode == "RGB"
                   for p in images)
    info = json.loads((folder / "dataset.json").read_text())
    assert {"name", "description", "level", "generator", "cells", "size", "train", "test",
            "seed"} <= set(info)
    assert (info["level"], info["level_name"], info["train"], info["test"]) == (5, "complex",
                                                                                10, 5)
    assert info["per_class"]["train"] == dict.fromkeys(bench.CLASSES, 2)
    records = [json.loads(line) for line in (folder / "annotations.jsonl").read_text()
               .splitlines()]
    assert len(records) == 15
    for record in records:
        assert (folder / record["path"]).is_file()
        assert record["path"].split("/")[1] == CLASS_FOLDERS[record["central"]["label"]]
        assert len(record["background"]) == 3 and len(record["central"]["box"]) == 4
        for added in record["added"]:
            assert {"label", "box", "overlap", "offset", "visible"} <= set(added)
            assert added["overlap"] <= 0.85
    assert np.mean([len(r["added"]) for r in records]) > 3  # about five at the complex level
    assert not any(p.name.startswith(".") for p in folder.parent.iterdir())  # no leftovers


def test_base_level_has_no_added_cells_and_shares_central_cells_with_complex():
    base = generate_dataset("tiny-b", level="base", **SMALL)
    complex_ = generate_dataset("tiny-c", level="complex", **SMALL)

    def records(folder):
        return {r["path"]: r for r in map(json.loads, (folder / "annotations.jsonl")
                                          .read_text().splitlines())}

    b, c = records(base), records(complex_)
    assert b.keys() == c.keys()
    assert all(not r["added"] for r in b.values())
    assert all(b[k]["central"]["box"] == c[k]["central"]["box"] for k in b)  # same cell, place
    assert any(b[k]["background"] != c[k]["background"] for k in b)  # on a new background


def test_train_and_test_draw_from_disjoint_partitions(procedural):
    from bench_generators.compositor import Compositor

    asked = []

    class Recording:
        def generate(self, label, count, *, partition, seed, start=0):
            asked.append(partition)
            return procedural.generate(label, count, partition=partition, seed=seed,
                                       start=start)

    counts = {split: dict.fromkeys(bench.CLASSES, 1) for split in ("train", "test")}
    progress = []
    Compositor("complex").build(
        bench.data_home() / "scratch", central=Recording(), background=Recording(),
        counts=counts, size=32, seed=0, workers=1,
        progress=lambda stage, done, total: progress.append(stage),
    )
    # the train split's cells are all drawn first, from A; then the test split's, from B
    first_test = progress.index("cells test")
    assert set(asked[: asked.index("B")]) == {"A"} and set(asked[asked.index("B"):]) == {"B"}
    assert "images train" in progress[:first_test]


def test_folder_cells_halves_are_disjoint(tmp_path, procedural, on_background):
    for label, folder in (("L", "Lymphocyte"), ("RBC", "RBC")):
        (tmp_path / folder).mkdir()
        for i, cell in enumerate(procedural.generate(label, 9, partition="A", seed=0)):
            Image.fromarray(on_background(cell)).save(tmp_path / folder / f"{i}.png")
    (tmp_path / "notes").mkdir()  # not a class: ignored
    cells = bench.get_registries().generators.get(f"folder:{tmp_path}").factory()
    a, b = cells.partition("L", "A"), cells.partition("L", "B")
    assert not set(a) & set(b) and len(a) + len(b) == 9
    drawn = cells.generate("L", 4, partition="B", seed=1)
    assert all(cell.shape[2] == 3 for cell in drawn)
    assert cells.partition("M", "A") == []
    with pytest.raises(bench.DataError, match="no Monocyte images"):
        cells.generate("M", 1, partition="A", seed=0)


def _cell_folder(root: Path, procedural, on_background, cluttered) -> Path:
    rng = np.random.default_rng(0)
    for label in bench.CLASSES:
        folder = root / CLASS_FOLDERS[label]
        folder.mkdir(parents=True)
        for i, cell in enumerate(procedural.generate(label, 8, partition="A", seed=0)):
            image = on_background(cell)
            if cluttered(i):  # noise all around: nothing separates this cell
                image = rng.integers(0, 255, image.shape).astype(np.uint8)
            Image.fromarray(image).save(folder / f"cell_{i}.png")
    return root


def test_cells_without_plain_background_are_skipped_and_counted(tmp_path, procedural,
                                                                on_background):
    source = _cell_folder(tmp_path / "half", procedural, on_background, lambda i: i % 2 == 0)
    folder = generate_dataset("from-folder", cells=f"folder:{source}", rbc_cells="procedural",
                              level="complex", **SMALL)
    info = json.loads((folder / "dataset.json").read_text())
    skipped = sum(sum(info["cells_skipped"][split].values()) for split in ("train", "test"))
    assert skipped > 0
    assert len(list((folder / "train").rglob("*.png"))) == 10

    source = _cell_folder(tmp_path / "all", procedural, on_background, lambda i: True)
    with pytest.raises(bench.DataError, match="no plain background"):
        generate_dataset("hopeless", cells=f"folder:{source}", rbc_cells="procedural", **SMALL)


def test_interrupted_generation_resumes_to_the_same_result(bench_home, procedural):
    reference = _digest(generate_dataset("whole", **SMALL))

    class PowerCut(RuntimeError):
        pass

    calls = {"n": 0, "fail_at": 9}
    original = type(procedural).generate

    def counting(self, label, count, *, partition, seed, start=0):
        calls["n"] += 1
        if calls["n"] == calls["fail_at"]:  # among the test split's cells
            raise PowerCut("power cut")
        return original(self, label, count, partition=partition, seed=seed, start=start)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(procedural), "generate", counting)
        with pytest.raises(PowerCut):
            generate_dataset("cut", **SMALL)
        assert not (bench_home / "generated" / "cut").exists()  # nothing under the final name
        partial = bench_home / "generated" / ".cut.partial"
        assert len(list((partial / "train").rglob("*.png"))) == 10  # train was finished
        calls.update(n=0, fail_at=-1)
        resumed = generate_dataset("cut", **SMALL)
    assert calls["n"] < 9  # the cached train cells were not drawn again
    assert _digest(resumed) == reference
    assert not partial.exists()


def test_overwrite_rules():
    generate_dataset("same", **SMALL)
    again = generate_dataset("same", **SMALL)  # the same request: nothing to do
    assert again.is_dir()
    with pytest.raises(bench.DataError, match="--overwrite"):
        generate_dataset("same", **{**SMALL, "train": 15})
    replaced = generate_dataset("same", overwrite=True, **{**SMALL, "train": 15})
    assert len(list((replaced / "train").rglob("*.png"))) == 15
    foreign = bench.data_home() / "generated" / "foreign"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(bench.DataError, match="not a generated data set"):
        generate_dataset("foreign", **SMALL)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"train": 3}, "at least 5"),
    ({"size": 8}, "16 pixels"),
    ({"level": "9"}, "level"),
    ({"settings": {"max_tries": 0}}, "max_tries"),
    ({"cells": "nonsense"}, "unknown generator"),
    ({"cells": "compositor"}, "not cells"),
])
def test_bad_requests_are_refused(arguments, message):
    with pytest.raises(bench.BenchError, match=message):
        generate_dataset("bad", **{**SMALL, **arguments})
    with pytest.raises(bench.DataError, match="usable data set name"):
        generate_dataset("../escape", **SMALL)
    with pytest.raises(bench.DataError, match="already the name of data set"):
        generate_dataset("wbc-usid-c", **SMALL)


def test_generated_data_set_is_registered_and_prepared():
    generate_dataset("ready", **{**SMALL, "prepare": True})
    prepared = bench.data.load_prepared("ready")
    test = prepared.split("test", 32)
    assert len(test) == 5 and sorted(set(test.labels.tolist())) == [0, 1, 2, 3, 4]


def test_cli_dataset_and_sample(tmp_path):
    result = invoke("generate", "dataset", "cli-set", "--train", "5", "--test",
                    "5", "--size", "32", "--level", "2.5", "--set",
                    "max_overlap=0.5", "--no-prepare", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["level"] == 2.5 and row["train"] == 5
    info = json.loads((Path(row["folder"]) / "dataset.json").read_text())
    assert info["request"]["settings"]["max_overlap"] == 0.5

    result = invoke("generate", "dataset", "cli-set", "--train", "10", "--size",
                    "32", "--no-prepare")
    assert result.exit_code == 1 and "--overwrite" in result.output

    result = invoke("generate", "dataset", "x", "--set", "max_overlap")
    assert result.exit_code == 1 and "KEY=VALUE" in result.output

    out = tmp_path / "cells"
    result = invoke("generate", "sample", "--cells", "procedural", "--per-class",
                    "3", "--classes", "L,RBC", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["Lymphocyte", "RBC"]
    assert len(list((out / "RBC").glob("*.png"))) == 3
    again = invoke("generate", "sample", "--per-class", "4", "--classes", "L",
                   "--out", str(out), "--json")
    assert json.loads(again.stdout)[0]["new"] == 1  # continues where it stopped

    result = invoke("generate", "sample", "--classes", "Q", "--out", str(out))
    assert result.exit_code == 1 and "not a cell class" in result.output


def test_generators_list_shows_all_four():
    result = invoke("generators", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert {"procedural", "ddpm", "folder", "compositor"} <= set(rows)
    assert rows["compositor"]["kind"] == "compositor"
    assert rows["compositor"]["settings"]["max_overlap"] == 0.85
    assert rows["compositor"]["settings"]["displacement_mean"] == 0.39  # the complex preset
    assert rows["compositor"]["settings"]["preset"] == "complex"


def test_sampler_options_go_to_whichever_chosen_generator_takes_them(tmp_path):
    # procedural central cells, DDPM background cells: --scheduler is the background's
    with pytest.raises(bench.DataError, match="no DDPM checkpoint for RBC"):
        generate_dataset("ddpm-rbcs", cells="procedural", rbc_cells=f"ddpm:{tmp_path}",
                         cell_options={"scheduler": "ddim", "steps": 2}, **SMALL)
    result = invoke(
        "generate", "dataset", "nobody", "--cells", "procedural", "--rbc-cells",
        f"folder:{tmp_path}", "--scheduler", "ddim", "--train", "5", "--test", "5",
        "--no-prepare")
    assert result.exit_code == 1
    assert (f"neither --cells procedural nor --rbc-cells folder:{tmp_path} has an option "
            "scheduler") in result.output


def test_the_default_generators_are_the_ones_the_plugins_declare(monkeypatch):
    """bench names no generator: `--cells` and the compositor default to a spec's `default`."""
    assert default_generator("cells") == "procedural"
    assert default_generator("compositor") == "compositor"
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "generators")
    bench.reset()
    try:
        with pytest.raises(bench.PluginError, match="no default cells generator; name one "
                                                    r"\(known: none is installed"):
            default_generator("cells")
    finally:
        monkeypatch.delenv("BENCH_DISABLE_PLUGINS")
        bench.reset()
