"""What the user actually received: the wrong part of a release, a layout nobody confirmed."""

from __future__ import annotations

import json
from pathlib import Path

from dataset_fakes import make_class_folders, write_image, zip_folder
from fixtures.cli import invoke

import bench
from bench.data import prepare_dataset
from bench.data.catalogue import catalogue
from bench.data.counts import count_warning

# Raabin-WBC's "Cropped double-labeled" Train part, at about a hundredth of its size: the same
# class shares (N 61 %, L 24 %, E 7 %, M 6 %, B 2 %), far from the balanced 1,145-cell subset.
TRAIN_SHARES = {"Neutrophil": 61, "Lymphocyte": 24, "Eosinophil": 7, "Monocyte": 6,
                "Basophil": 2}


def _datasets() -> list[bench.DatasetSpec]:
    return list(bench.get_registries().datasets)


def test_the_published_counts_prepare_without_a_warning() -> None:
    pbc = bench.get_registries().datasets.get("pbc")
    assert count_warning(pbc, dict(pbc.paper_counts), _datasets()) is None


def test_raabins_train_part_given_as_the_subset_is_named() -> None:
    raabin = bench.get_registries().datasets.get("raabin")
    train = {"L": 2427, "M": 561, "N": 6231, "E": 744, "B": 212}  # as the article counts it
    warning = count_warning(raabin, train, _datasets())
    assert "far from the published ones" in warning and "10,175 images" in warning
    assert "raabin-cropped download (Train:" in warning
    assert "bench datasets prepare raabin-cropped" in warning


def test_half_a_download_is_called_incomplete() -> None:
    pbc = bench.get_registries().datasets.get("pbc")
    half = {label: count // 2 for label, count in pbc.paper_counts.items()}
    warning = count_warning(pbc, half, _datasets())
    assert "incomplete download or extraction" in warning


def test_prepare_warns_and_names_the_likely_download(tmp_path: Path) -> None:
    train = make_class_folders(tmp_path / "Train", TRAIN_SHARES, ".png", (8, 8))
    result = invoke("datasets", "prepare", "raabin", "--from", str(train), "--cache-size", "16")
    message = " ".join(result.output.split())
    assert result.exit_code == 0, message
    assert "warning: the prepared counts of Raabin" in message
    assert "raabin-cropped download" in message
    shown = invoke("datasets", "show", "raabin", "--json")
    assert "raabin-cropped download" in json.loads(shown.stdout)["count_warning"]


def test_unconfirmed_layouts_are_marked_and_say_how_to_prepare() -> None:
    rows = {row["name"]: row for row in catalogue()}
    assert {name for name, row in rows.items() if row["layout"] == "unconfirmed"} >= {
        "raabin", "ldwbc"}
    assert rows["pbc"]["layout"] == rows["raabin-cropped"]["layout"] == "confirmed"
    for name in ("raabin", "ldwbc"):
        assert "path,label" in rows[name]["how_to_prepare"]
        assert "folder:PATH" in rows[name]["how_to_prepare"]
    listed = invoke("datasets", "list", "--json")
    assert {row["name"]: row["layout"] for row in json.loads(listed.stdout)}["ldwbc"] == \
        "unconfirmed"


def test_an_unconfirmed_layout_is_prepared_from_a_path_label_csv(tmp_path: Path) -> None:
    for index, folder in enumerate(("a", "b", "c", "d", "e") * 3):
        write_image(tmp_path / "cells" / folder / f"{index}.png", (12, 12))
    labels = {"a": "Lymphocyte", "b": "mono", "c": "neutrophil", "d": "EOS", "e": "basophil"}
    rows = [f"{path.relative_to(tmp_path).as_posix()},{labels[path.parent.name]}"
            for path in sorted((tmp_path / "cells").rglob("*.png"))]
    (tmp_path / "labels.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    prepared = prepare_dataset("ldwbc", tmp_path / "labels.csv", progress=False, cache_size=16)
    assert {label: sum(split.values()) for label, split in prepared.counts().items()} == \
        dict.fromkeys("LMNEB", 3)


def test_a_folder_an_unconfirmed_scan_cannot_read_says_how_to_prepare(tmp_path: Path) -> None:
    write_image(tmp_path / "odd" / "x" / "1.png")
    result = invoke("datasets", "prepare", "ldwbc", "--from", str(tmp_path / "odd"))
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in message
    assert "layout unconfirmed" in message and "path,label" in message


def test_several_from_on_the_command_line(raabin_cropped_download: Path, tmp_path: Path) -> None:
    archives = []
    for part in ("Train", "TestA"):
        archives += ["--from", str(zip_folder(raabin_cropped_download / part,
                                              tmp_path / f"{part}.zip"))]
    result = invoke("datasets", "prepare", "raabin-cropped", *archives,
                    "--cache-size", "16", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    whole = prepare_dataset("raabin-cropped", raabin_cropped_download, progress=False,
                            cache_size=16)
    assert summary["fingerprint"] == whole.fingerprint
