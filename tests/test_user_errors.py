"""A catalogue of what a user can get wrong, and what bench answers.

Each case is one command line with one mistake in it, run on a data home that already holds a
prepared data set and a results store. Every case must end with the exit code click uses (2
for a bad option value, 1 for everything else), a message that names the cause (the phrases
listed), no traceback, and the data home exactly as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import invoke
from fixtures.rar_writer import write_rar
from PIL import Image

import bench

CLASSES = ("lymphocyte", "monocyte", "neutrophil", "eosinophil", "basophil")
RUN = "run --model timm:test_resnet --source cells --target cells --protocol quick --no-pretrained"


@dataclass(frozen=True)
class Mistake:
    args: str  # after `bench`; {name} is replaced by a path from the `files` fixture
    code: int
    says: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    records_failure: bool = False  # a failed cell is recorded in the store, as designed


CATALOGUE = {
    # -- bench run: seeds -----------------------------------------------------------------
    "run --seeds 0 is not 'no seeds'": Mistake(
        f"{RUN} --seeds 0", 2, ("--seeds 0", "must be at least 1", "--seed 0")),
    "run --seeds negative": Mistake(f"{RUN} --seeds -3", 2, ("--seeds -3", "--seed 0,5,7")),
    "run --seeds given a list": Mistake(f"{RUN} --seeds 0,5,7", 2, ("use --seed 0,5,7",)),
    "run --seeds huge": Mistake(f"{RUN} --seeds 100000", 2, ("--seeds 100000", "10000")),
    "run --seeds not a number": Mistake(f"{RUN} --seeds three", 2, ("'three'", "whole number")),
    "run --seed not a number": Mistake(f"{RUN} --seed 0,x", 2, ("--seed 'x'", "whole number")),
    "run --seed negative": Mistake(f"{RUN} --seed -1", 2, ("--seed -1", "between 0 and")),
    "run --seed empty list": Mistake(f"{RUN} --seed ,", 2, ("lists no seed",)),
    "run --seed listed twice": Mistake(f"{RUN} --seed 1,1", 2, ("listed twice",)),
    "run --seeds and --seed together": Mistake(f"{RUN} --seeds 2 --seed 1", 2, ("not both",)),
    # -- bench run: numbers -------------------------------------------------------------------
    "run --epochs 0": Mistake(f"{RUN} --epochs 0", 2, ("--epochs 0", "between 1 and")),
    "run --epochs negative": Mistake(f"{RUN} --epochs -5", 2, ("--epochs -5",)),
    "run --epochs not a number": Mistake(f"{RUN} --epochs ten", 2,
                                         ("'ten' is not a valid integer",)),
    "run --batch-size 0": Mistake(f"{RUN} --batch-size 0", 2, ("--batch-size 0", "batch size")),
    "run --batch-size huge": Mistake(f"{RUN} --batch-size 10000000", 2, ("65536",)),
    "run --image-size too small": Mistake(f"{RUN} --image-size 2", 2, ("--image-size 2",)),
    "run --image-size huge": Mistake(f"{RUN} --image-size 100000", 2, ("between 8 and 2048",)),
    "run --workers negative": Mistake(f"{RUN} --workers -1", 2, ("--workers -1",)),
    "run --ray-cpus 0": Mistake(f"{RUN} --executor ray --ray-cpus 0", 2,
                                ("--ray-cpus 0", "between 1 and 1024")),
    # -- bench run: executors -----------------------------------------------------------------
    "run --executor unknown": Mistake(f"{RUN} --executor dask", 2, ("'dask' is not one of",)),
    "run an executor's option without it": Mistake(
        f"{RUN} --slurm-partition gpu", 2,
        ("--slurm-partition gpu", "an option of --executor slurm", "Add --executor slurm")),
    "run --slurm-partition with a space": Mistake(
        f"{RUN} --executor slurm --slurm-partition 'gpu a100'", 2,
        ("--slurm-partition 'gpu a100'", "comma list without spaces", "sinfo -s")),
    "run --slurm-time read as minutes": Mistake(
        f"{RUN} --executor slurm --slurm-time 4", 2,
        ("--slurm-time '4'", "too short", "4:00:00 for four hours")),
    "run --slurm-time not a time": Mistake(
        f"{RUN} --executor slurm --slurm-time soon", 2, ("--slurm-time 'soon'", "H:MM:SS")),
    "run --slurm-time 75 minutes in an hour": Mistake(
        f"{RUN} --executor slurm --slurm-time 1:75:00", 2, ("out of range",)),
    "run --slurm-gpus negative": Mistake(f"{RUN} --executor slurm --slurm-gpus -1", 2,
                                         ("--slurm-gpus -1", "between 0 and 16")),
    "run --slurm-cpus 0": Mistake(f"{RUN} --executor slurm --slurm-cpus 0", 2,
                                  ("--slurm-cpus 0", "CPUs per job")),
    "run --slurm-logs a file": Mistake(f"{RUN} --executor slurm --slurm-logs {{text}}", 2,
                                       ("--slurm-logs", "is a file; give a folder")),
    "run --slurm-cluster unknown": Mistake(f"{RUN} --executor slurm --slurm-cluster mars", 2,
                                           ("'mars' is not one of",)),
    "run --slurm-gpus 0 with --device cuda": Mistake(
        f"{RUN} --executor slurm --slurm-gpus 0 --device cuda", 2,
        ("--device cuda with --slurm-gpus 0", "--device cpu")),
    "run --executor slurm without Slurm": Mistake(
        f"{RUN} --executor slurm", 1, ("sbatch and srun not on the PATH", "--slurm-cluster local"),
        env={"PATH": "{folder}"}),
    "run --device unknown": Mistake(f"{RUN} --device tpu", 2, ("'tpu' is not one of",)),
    # -- bench run: names ---------------------------------------------------------------------
    "run --model empty": Mistake("run --model '' --source cells", 2, ("--model", "names nothing")),
    "run --source only commas": Mistake("run --model timm:test_resnet --source ,", 2,
                                        ("--source", "names nothing")),
    "run --model unknown": Mistake("run --model resnett --source cells", 1,
                                   ("unknown model 'resnett'", "Known models")),
    "run --source unknown": Mistake("run --model timm:test_resnet --source cels", 1,
                                    ("unknown dataset 'cels'", "Did you mean")),
    "run --source not prepared": Mistake(
        "run --model timm:test_resnet --source pbc --no-pretrained", 1,
        ("not prepared", "bench datasets prepare pbc")),
    "run --protocol unknown name": Mistake(f"{RUN.replace('quick', 'quik')}", 1,
                                           ("unknown protocol 'quik'",)),
    # -- bench run: files ---------------------------------------------------------------------
    "run --weights missing": Mistake(f"{RUN} --weights {{missing}}", 2, ("no such file",)),
    "run --weights a folder": Mistake(f"{RUN} --weights {{folder}}", 2, ("is a directory",)),
    "run --weights empty file": Mistake(f"{RUN} --weights {{empty}}", 1, ("file is empty",)),
    "run --weights a text file": Mistake(f"{RUN} --weights {{text}}", 1,
                                         ("not a weights file", "safetensors")),
    "run --weights pickled objects": Mistake(f"{RUN} --weights {{pickled}}", 1,
                                             ("pickled Python objects",)),
    "run --weights non-UTF-8 name": Mistake(f"{RUN} --weights {{non_utf8}}", 2,
                                            ("no such file",)),
    "run --weights for two models": Mistake(
        "run --model timm:test_resnet,timm:test_efficientnet --source cells --no-pretrained "
        "--weights {tensors}", 2, ("one architecture", "2 models")),
    "run --weights of another architecture": Mistake(
        f"{RUN.replace('timm:test_resnet', 'timm:test_efficientnet')} --weights {{tensors}}", 1,
        ("1 of 1 cells failed", "timm:test_efficientnet on cells (seed 0)", "--retry-failed"),
        records_failure=True),
    "run --protocol missing file": Mistake(f"{RUN.replace('quick', '{missing_toml}')}", 1,
                                           ("does not exist",)),
    "run --protocol a folder": Mistake(f"{RUN.replace('quick', '{folder}')}", 1,
                                       ("is a folder", "zedda2024")),
    "run --protocol a binary file": Mistake(f"{RUN.replace('quick', '{binary_toml}')}", 1,
                                            ("not a text file",)),
    "run --protocol not TOML": Mistake(f"{RUN.replace('quick', '{text}')}", 1,
                                       ("not valid TOML",)),
    "run --protocol with a negative lr": Mistake(
        f"{RUN.replace('quick', '{negative_lr_toml}')}", 1,
        ("training.lr = -0.1 is out of range", "must be above 0")),
    "run --protocol with a flip rate above 1": Mistake(
        f"{RUN.replace('quick', '{flip_rate_toml}')}", 1,
        ("augmentation.hflip = 1.5 is out of range", "a probability")),
    "run --protocol with an unknown probe head": Mistake(
        f"{RUN.replace('quick', '{bad_probe_toml}')}", 1,
        ("probe.head must be one of finetune, linear, knn", "'svm'")),
    # -- bench run: shots ---------------------------------------------------------------------
    "run --shots 0": Mistake(f"{RUN} --shots 0", 2, ("--shots 0", "between 1 and")),
    "run --shots not a number": Mistake(f"{RUN} --shots 1,five", 2,
                                        ("'five' is not a number", "1,5,all")),
    "run --shots listed twice": Mistake(f"{RUN} --shots 5,all,5", 2, ("5 is listed twice",)),
    "run --shots empty list": Mistake(f"{RUN} --shots ,", 2, ("lists nothing",)),
    # -- bench runs -------------------------------------------------------------------------------
    "runs show an unknown id": Mistake("runs show 0123abcd", 1, ("no single run matches",)),
    "runs forget a SQL wildcard": Mistake("runs forget %", 1,
                                          ("no single run matches '%'", "hexadecimal")),
    "runs show a SQL wildcard": Mistake("runs show _", 1,
                                        ("no single run matches '_'", "read as written")),
    # -- bench evaluate ------------------------------------------------------------------------
    "evaluate a cell never trained": Mistake(
        "evaluate --model timm:test_resnet --source cells --target cells", 1,
        ("timm:test_resnet on cells", "`bench run --model timm:test_resnet --source cells`")),
    "evaluate a bare timm name never trained": Mistake(
        "evaluate --model test_resnet --source cells --target cells", 1,
        ("timm:test_resnet on cells", "`bench run --model timm:test_resnet --source cells`")),
    "evaluate --target unknown": Mistake(
        "evaluate --model timm:test_resnet --source cells --target cels", 1,
        ("unknown dataset 'cels'", "Did you mean")),
    "evaluate --seeds 0": Mistake("evaluate --model timm:test_resnet --source cells --seeds 0", 2,
                                  ("--seeds 0", "must be at least 1")),
    "evaluate --weights without the class order": Mistake(
        "evaluate --model timm:test_resnet --weights {tensors} --target cells", 2,
        ("does not state the order", "--class-order L,M,N,E,B")),
    "evaluate --class-order missing a class": Mistake(
        "evaluate --model timm:test_resnet --weights {tensors} --class-order L,M,N", 2,
        ("--class-order 'L,M,N'", "each class once")),
    "evaluate --weights with a --source": Mistake(
        "evaluate --model timm:test_resnet --source cells --weights {tensors}", 1,
        ("trained elsewhere", "Leave --source out")),
    "evaluate without --source or --weights": Mistake("evaluate --model timm:test_resnet", 2,
                                                     ("--source", "--weights FILE")),
    "runs list --status unknown": Mistake("runs list --status done", 2, ("'done' is not one of",)),
    # -- bench weights ------------------------------------------------------------------------
    "run offline without the pretrained weights": Mistake(
        RUN.replace(" --no-pretrained", ""), 1,
        ("needs its pretrained weights", "HF_HUB_OFFLINE is set", "Nothing was trained",
         "`bench weights download timm:test_resnet --to DIR`", "--no-pretrained"),
        env={"HF_HUB_OFFLINE": "1"}),
    "weights download a family": Mistake("weights download timm", 1,
                                         ("is a family of models", "timm:<name>")),
    "weights download offline": Mistake("weights download timm:test_resnet", 1,
                                        ("cannot fetch timm/test_resnet", "HF_HUB_OFFLINE is set",
                                         "needs the network"), env={"HF_HUB_OFFLINE": "1"}),
    "weights pack an empty folder": Mistake("weights pack w.tar --from {empty_folder}", 1,
                                            ("holds no weights", "bench weights download")),
    "weights unpack a file that is no archive": Mistake(
        "weights unpack {text}", 1, ("cannot read", "archive", "Nothing was unpacked")),
    "weights unpack a missing file": Mistake("weights unpack {missing}", 1, ("does not exist",)),
    # -- bench leaderboard: options before data ---------------------------------------------
    "leaderboard --metric unknown": Mistake("leaderboard --metric nosuch", 1,
                                            ("unknown metric 'nosuch'", "Known metrics")),
    "leaderboard --metric empty": Mistake("leaderboard --metric ,", 2, ("--metric needs a name",)),
    "leaderboard --format table with --out": Mistake("leaderboard --format table --out x.md", 2,
                                                     ("prints to the terminal",)),
    "leaderboard --format unknown": Mistake("leaderboard --format docx", 2, ("'docx'",)),
    "leaderboard --compare unknown": Mistake("leaderboard --compare zeda2024", 1,
                                             ("unknown reference board 'zeda2024'",)),
    "leaderboard --reference unknown": Mistake("leaderboard --reference paper", 1,
                                               ("unknown reference board 'paper'",)),
    "leaderboard --shots with --shift": Mistake("leaderboard --shots --shift", 1,
                                                ("leave out --shift",)),
    "leaderboard --reference with --protocol": Mistake(
        "leaderboard --reference zedda2024 --protocol quick", 1, ("leave it out",)),
    "leaderboard --date not a date": Mistake("leaderboard --reference zedda2024 --date 2026-13-45",
                                             2, ("--date '2026-13-45'", "YYYY-MM-DD")),
    "leaderboard --store missing": Mistake("leaderboard --store {missing}", 1,
                                           ("no results store at",)),
    "leaderboard --store a folder": Mistake("leaderboard --store {folder}", 2, ("is a directory",)),
    "leaderboard --out a folder": Mistake("leaderboard --reference zedda2024 --out {folder}", 2,
                                          ("is a directory",)),
    "leaderboard --out on a full disk": Mistake(
        "leaderboard --reference zedda2024 --format md --out /dev/full", 1,
        ("No space left on device", "free some space")),
    "leaderboard --plot-scale unknown": Mistake(
        "leaderboard --reference zedda2024 --plots {new_folder} --plot-scale 0-1", 2,
        ("'0-1' is not one of", "auto", "0-100")),
    "leaderboard --plots a file": Mistake("leaderboard --reference zedda2024 --plots {text}", 2,
                                          ("is a file",)),
    "leaderboard on an empty store": Mistake("leaderboard", 1,
                                             ("holds no finished runs", "--reference zedda2024")),
    "leaderboard --check without files": Mistake("leaderboard --check", 2,
                                                 ("--check needs files",)),
    "leaderboard --check not a submission": Mistake("leaderboard --check {text}", 1,
                                                    ("not a submission", ".scores.csv")),
    "leaderboard --check with --publish": Mistake("leaderboard --check {text} --publish", 2,
                                                  ("leave out --publish",)),
    "leaderboard --records not records": Mistake("leaderboard --records {text}", 1,
                                                 ("no column run_id", "--publish")),
    "leaderboard files without --records": Mistake("leaderboard {text}", 2,
                                                   ("--records", "--check")),
    "leaderboard --records with a NaN score": Mistake("leaderboard --records {nan_records}", 1,
                                                      ("row 2: value 'nan'",
                                                       "not a finite number")),
    "leaderboard --check with a NaN score": Mistake("leaderboard --check {nan_records}", 1,
                                                    ("row 2: value 'nan' is not a finite number",
                                                     "predictions")),
    "leaderboard --unofficial without --publish": Mistake(
        "leaderboard --reference zedda2024 --unofficial", 2, ("goes with --publish",)),
    "leaderboard --strict without --check": Mistake(
        "leaderboard --reference zedda2024 --strict", 2, ("--strict", "give --check too")),
    "leaderboard --marks tiers on a published board": Mistake(
        "leaderboard --reference zedda2024 --marks tiers", 1, ("need the results store",)),
    "leaderboard --marks unknown": Mistake("leaderboard --marks best", 2, ("'best'", "tiers")),
    "leaderboard --agreement on an empty store": Mistake("leaderboard --agreement", 1,
                                                         ("holds no finished runs",)),
    # -- bench compare ------------------------------------------------------------------------
    "compare --models and --sources together": Mistake(
        "compare --models a,b --sources c,d --target x", 2, ("either --models",)),
    "compare --sources without --model": Mistake("compare --sources c,d --target x", 2,
                                                 ("needs --model M",)),
    "compare --sources one name": Mistake("compare --sources c --model m --target x", 2,
                                          ("exactly two names",)),
    "compare --models without --source": Mistake("compare --models a,b --target x", 2,
                                                 ("needs --source S",)),
    "compare on an empty store": Mistake("compare --sources c,d --model m --target x", 1,
                                         ("holds no finished runs",)),
    # -- bench site ---------------------------------------------------------------------------
    "site build --store missing": Mistake("site build {new_folder} --store {missing}", 1,
                                          ("no results store at", "--records")),
    "site build --records and --store": Mistake(
        "site build {new_folder} --records {text} --store {missing}", 2, ("give one of them",)),
    "site build --records not records": Mistake("site build {new_folder} --records {text}", 1,
                                                ("no column run_id",)),
    "site build into a foreign folder": Mistake("site build {non_utf8_cells}", 1,
                                                ("not a site built by bench",)),
    "site build --resamples too few": Mistake("site build {new_folder} --resamples 3", 1,
                                              ("--resamples must be at least 10",)),
    "site build --date not a date": Mistake("site build {new_folder} --date 2026-13-45", 2,
                                            ("YYYY-MM-DD",)),
    "site verify not a site": Mistake("site verify {empty_folder}", 1, ("holds no site.json",)),
    # -- bench datasets -----------------------------------------------------------------------
    "datasets prepare unknown": Mistake("datasets prepare rabin", 1,
                                        ("unknown dataset 'rabin'", "Did you mean: raabin")),
    "datasets prepare --from missing": Mistake("datasets prepare raabin --from {missing}", 1,
                                               ("does not exist",)),
    "datasets prepare --from a file": Mistake("datasets prepare raabin --from {text}", 1,
                                              ("is not a folder",)),
    "datasets prepare folder: missing": Mistake("datasets prepare folder:{missing}", 1,
                                                ("does not exist",)),
    "datasets prepare folder: empty": Mistake("datasets prepare folder:{empty_folder}", 1,
                                              ("found no images",)),
    "datasets prepare non-UTF-8 file names": Mistake(
        "datasets prepare folder:{non_utf8_cells}", 1, ("not valid UTF-8", "Rename them")),
    "datasets prepare --cache-size 0": Mistake("datasets prepare raabin --cache-size 0", 2,
                                               ("--cache-size",)),
    "datasets show not prepared": Mistake("datasets show raabin", 1,
                                          ("not prepared", "bench datasets prepare raabin")),
    "datasets show --per-class 0": Mistake("datasets show cells --per-class 0", 2,
                                           ("--per-class",)),
    "datasets prepare a tar whose links lead outside": Mistake(
        "datasets prepare pbc --from {link_chain_tar}", 1, ("refusing to extract", "outside",
                                                              "not a file the publisher ships")),
    "datasets prepare a damaged RAR": Mistake("datasets prepare pbc --from {damaged_rar}", 1,
                                              ("not a readable archive", "Download it again")),
    "datasets prepare a RAR without a RAR tool": Mistake(
        "datasets prepare raabin-cropped --from {train_rar}", 1,
        ("RAR archive", "libarchive-tools", "extract it yourself"), env={"PATH": "{folder}"}),
    "datasets prepare two --from with one top folder": Mistake(
        "datasets prepare raabin-cropped --from {train_folder} --from {other_train_folder}", 1,
        ("both hold a folder named 'Train'", "Rename one")),
    "datasets prepare an unconfirmed layout it cannot read": Mistake(
        "datasets prepare ldwbc --from {folder}", 1,
        ("layout unconfirmed", "path,label", "folder:PATH")),
    "datasets verify unknown": Mistake("datasets verify nosuch", 1, ("unknown dataset",)),
    "datasets download unknown": Mistake("datasets download nosuch", 1, ("unknown dataset",)),
    # -- bench generate -------------------------------------------------------------------
    "generate dataset --train 0": Mistake("generate dataset g --train 0", 1,
                                          ("--train 0", "at least 5 images")),
    "generate dataset --train huge": Mistake("generate dataset g --train 1000000000", 2,
                                             ("--train",)),
    "generate dataset --size huge": Mistake("generate dataset g --size 100000", 2,
                                            ("16<=x<=2048",)),
    "generate dataset --level unknown": Mistake("generate dataset g --level hard", 1,
                                                ("--level 'hard'", "base, complex")),
    "generate dataset --level out of range": Mistake("generate dataset g --level 9", 1,
                                                     ("outside 0 (base) .. 5",)),
    "generate dataset --set without =": Mistake("generate dataset g --set max_overlap", 1,
                                                ("expected KEY=VALUE",)),
    "generate dataset --set unknown key": Mistake("generate dataset g --set overlap=1", 1,
                                                  ("no parameter 'overlap'",)),
    "generate dataset a path as name": Mistake("generate dataset ../g", 1,
                                               ("not a usable data set name",)),
    "generate dataset named all": Mistake("generate dataset all", 1, ("'all' is reserved",)),
    "generate dataset a taken name": Mistake("generate dataset raabin", 1,
                                             ("already the name of data set",)),
    "generate dataset --cells unknown": Mistake("generate dataset g --cells gan", 1,
                                                ("unknown generator 'gan'",)),
    "generate dataset --seed negative": Mistake("generate dataset g --seed -1", 2, ("--seed",)),
    "generate dataset --workers 0": Mistake("generate dataset g --workers 0", 2, ("--workers",)),
    "generate sample --per-class 0": Mistake("generate sample --out {new_folder} --per-class 0", 1,
                                             ("at least one cell",)),
    "generate sample --out a file": Mistake("generate sample --out {text}", 2, ("is a file",)),
    "generate sample --classes unknown": Mistake(
        "generate sample --out {new_folder} --classes Q", 1, ("'Q' is not a cell class",)),
    "generate sample --batch-size 0": Mistake(
        "generate sample --out {new_folder} --batch-size 0", 2, ("--batch-size",)),
    "generate train-ddpm --steps 0": Mistake("generate train-ddpm --steps 0", 2, ("--steps",)),
    "generate train-ddpm --learning-rate 0": Mistake("generate train-ddpm --learning-rate 0", 2,
                                                     ("--learning-rate",)),
    "generate train-ddpm --rbc missing": Mistake("generate train-ddpm --rbc {missing}", 2,
                                                 ("does not exist",)),
    "generate train-ddpm --dataset unknown": Mistake("generate train-ddpm --dataset rabin", 1,
                                                     ("unknown dataset 'rabin'",)),
    # -- bench demo, generators, the data home ----------------------------------------------
    "demo --epochs 0": Mistake("demo --epochs 0", 2, ("--epochs 0",)),
    "demo --out a file": Mistake("demo --out {text}", 2, ("is a file",)),
    "generators show unknown": Mistake("generators show gan", 1, ("unknown generator 'gan'",)),
    "data home is a file": Mistake("run --model timm:test_resnet --source cells", 1,
                                   ("the data home", "is not writable", "BENCH_HOME"),
                                   env={"BENCH_HOME": "{text}"}),
}


def _write_cells(root: Path, per_class: int = 6, names: tuple[str, ...] = ()) -> None:
    """Class folders of tiny noise images (with odd file names when ``names`` are given)."""
    rng = np.random.default_rng(0)
    for label in CLASSES:
        folder = root / label
        folder.mkdir(parents=True)
        for index in range(per_class):
            name = names[index] if index < len(names) else f"{index:02d}.png"
            pixels = rng.integers(0, 255, size=(20, 20, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name, format="PNG")


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home holding the prepared data set `cells` and a results store, made once."""
    home = tmp_path_factory.mktemp("template-home")
    cells = tmp_path_factory.mktemp("downloads") / "cells"
    _write_cells(cells)
    (cells / "bench-dataset.toml").write_text('name = "cells"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_HOME", str(home))
        bench.reset()
        from bench.data import prepare_dataset

        prepare_dataset(f"folder:{cells}", progress=False, cache_size=16)
        bench.open_store()
    bench.reset()
    return home


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Wrong inputs of every kind, by the name the catalogue uses."""
    import torch

    root = tmp_path_factory.mktemp("inputs")
    (root / "folder").mkdir()
    (root / "empty_folder").mkdir()
    (root / "empty.pt").write_bytes(b"")
    (root / "notes.txt").write_text("these are not weights\n")
    (root / "binary.toml").write_bytes(bytes(range(256)) * 4)
    linear = (Path(bench.__file__).parent / "protocols" / "linear-probe.toml").read_text()
    (root / "bad_probe.toml").write_text(linear.replace('head = "linear"', 'head = "svm"'))
    # Training scripts often save their argparse settings beside the weights: never unpickled.
    torch.save({"weight": torch.zeros(2), "args": argparse.Namespace(lr=0.1)},
               root / "pickled.pt")
    from bench.models import build_model

    spec = bench.get_registries().models.get("timm:test_resnet")
    torch.save(build_model(spec, pretrained=False).module.state_dict(), root / "tensors.pt")
    quick = (resources.files("bench") / "protocols" / "quick.toml").read_text()
    (root / "negative_lr.toml").write_text(quick.replace("lr = 0.01", "lr = -0.1"))
    (root / "flip_rate.toml").write_text(quick.replace("hflip = 0.5", "hflip = 1.5"))
    odd = os.fsdecode(b"\xffcell.png")  # not UTF-8: how a Latin-1 file system names "ÿcell"
    _write_cells(root / "non_utf8_cells", names=(odd,))
    (root / "nan.scores.csv").write_text(
        "run_id,model,source,seed,protocol,protocol_hash,source_fingerprint,target,"
        "target_fingerprint,metric,value,init,overrides\n"
        "abc,m,d1,0,quick,0123456789abcdef,f1,d1,f1,accuracy,nan,pretrained,\n")
    with tarfile.open(root / "links.tar", "w") as bundle:  # each link inside, the chain not
        for name, target in (("PBC/here", "."), ("PBC/up", "here/../..")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            bundle.addfile(link)
    (root / "damaged.rar").write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(range(40)))
    write_rar(root / "Train.rar", {"Train/Basophil/0.png": b"not read: no tool unpacks it"})
    _write_cells(root / "Train")
    _write_cells(root / "other" / "Train")
    return {
        "missing": str(root / "missing.pt"),
        "missing_toml": str(root / "missing.toml"),
        "folder": str(root / "folder"),
        "empty_folder": str(root / "empty_folder"),
        "new_folder": str(root / "new_folder"),
        "empty": str(root / "empty.pt"),
        "text": str(root / "notes.txt"),
        "binary_toml": str(root / "binary.toml"),
        "negative_lr_toml": str(root / "negative_lr.toml"),
        "flip_rate_toml": str(root / "flip_rate.toml"),
        "bad_probe_toml": str(root / "bad_probe.toml"),
        "pickled": str(root / "pickled.pt"),
        "tensors": str(root / "tensors.pt"),
        "non_utf8": str(root / os.fsdecode(b"weights-\xff.pt")),
        "non_utf8_cells": str(root / "non_utf8_cells"),
        "nan_records": str(root / "nan.scores.csv"),
        "link_chain_tar": str(root / "links.tar"),
        "damaged_rar": str(root / "damaged.rar"),
        "train_rar": str(root / "Train.rar"),
        "train_folder": str(root / "Train"),
        "other_train_folder": str(root / "other" / "Train"),
    }


def snapshot(home: Path, with_store: bool = True) -> dict[str, str]:
    """Every file in the data home and a hash of its bytes (SQLite's side files left out)."""
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file() and not path.name.endswith(("-wal", "-shm"))
        and (with_store or not path.name.startswith("results.sqlite"))
    }


@pytest.mark.parametrize("mistake", CATALOGUE.values(), ids=CATALOGUE.keys())
def test_a_mistake_gets_a_message_that_names_its_cause(mistake, template_home, bench_home,
                                                       files, monkeypatch):
    shutil.copytree(template_home, bench_home, dirs_exist_ok=True)
    before = snapshot(bench_home, with_store=not mistake.records_failure)
    for key, value in mistake.env.items():
        monkeypatch.setenv(key, value.format(**files))
    bench.reset()
    args = [part.format(**files) for part in shlex.split(mistake.args)]
    monkeypatch.chdir(files["folder"])  # relative outputs (x.md) land outside the data home

    result = invoke(*args)

    message = " ".join(result.output.split())
    assert result.exit_code == mistake.code, message
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "Error:" in message
    for phrase in mistake.says:
        assert phrase in message
    assert snapshot(bench_home, with_store=not mistake.records_failure) == before
    assert not os.listdir(files["folder"])  # nothing written where it was refused


def test_the_catalogue_covers_at_least_forty_mistakes():
    assert len(CATALOGUE) >= 40


def test_cuda_asked_for_on_a_machine_without_it(template_home, bench_home, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    shutil.copytree(template_home, bench_home, dirs_exist_ok=True)
    before = snapshot(bench_home)
    result = invoke(*shlex.split(RUN), "--device", "cuda")
    message = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "--device cuda:" in message and "--device cpu" in message
    assert "some cells failed" not in message  # said before any cell, not as failed cells
    assert snapshot(bench_home) == before


def test_a_read_only_data_home(tmp_path):
    """A real read-only file system (a tmpfs mounted read-only in a user namespace)."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) to mount a read-only file system")
    home = tmp_path / "read-only-home"
    home.mkdir()
    script = (f"mount -t tmpfs -o ro tmpfs {shlex.quote(str(home))} && "
              f"BENCH_HOME={shlex.quote(str(home))} {shlex.quote(sys.executable)} -m bench.cli "
              f"generate dataset g --train 5 --test 5 --size 16")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                            text=True, env=os.environ.copy())
    if "mount" in result.stderr and "Error:" not in result.stderr:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    message = " ".join(result.stderr.split())
    assert result.returncode == 1, message
    assert "is not writable (Read-only file system)" in message and "BENCH_HOME" in message
    assert "Traceback" not in message


def test_a_full_disk_is_not_a_damaged_store(template_home, tmp_path):
    """A real full file system (a small tmpfs in a user namespace), filled before the command."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) to mount a small file system")
    home = tmp_path / "full-home"
    home.mkdir()
    size = sum(f.stat().st_size for f in template_home.rglob("*") if f.is_file()) + (1 << 20)
    bench_cli = f"BENCH_HOME={shlex.quote(str(home))} {shlex.quote(sys.executable)} -m bench.cli"
    script = (f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(home))} && "
              f"cp -a {shlex.quote(str(template_home))}/. {shlex.quote(str(home))}/ && "
              f"(dd if=/dev/zero of={shlex.quote(str(home))}/filler bs=64k 2>/dev/null; "
              f"{bench_cli} {RUN}; echo \"exit $?\"; {bench_cli} runs list --json; "
              f"echo \"exit $?\")")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                            text=True, env=os.environ.copy())
    if "exit" not in result.stdout:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    message = " ".join(result.stderr.split())
    assert result.stdout.split().count("exit") == 2 and "exit 1" in result.stdout, message
    assert "Error: no space left on" in message and "Free some space" in message
    assert "is damaged" not in message and "Traceback" not in message
    assert "[]" in result.stdout and "exit 0" in result.stdout  # reading still works


def test_a_decompression_bomb_in_a_download_is_skipped_and_named(bench_home, tmp_path,
                                                                 bomb_pngs):
    cells = tmp_path / "cells"
    _write_cells(cells)
    (cells / "lymphocyte" / "bomb.png").write_bytes(bomb_pngs["refused"])
    result = invoke("datasets", "prepare", f"folder:{cells}")
    message = " ".join(result.output.split())
    assert result.exit_code == 0, message
    assert "Traceback" not in result.output
    assert "1 too large to decode" in message
    assert "excluded oversized image lymphocyte/bomb.png" in message
    assert "decompression bomb" in message


def test_removing_a_data_set_a_run_trains_on(template_home, bench_home):
    shutil.copytree(template_home, bench_home, dirs_exist_ok=True)
    bench.reset()
    training = bench.Cell("timm:test_resnet", "cells", 0, "quick", "h", "fp")
    bench.open_store().claim(training)  # this process: alive, so still training
    before = snapshot(bench_home)
    result = invoke("datasets", "remove", "cells", "--yes")
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "Error:" in message and "Traceback" not in message
    assert f"in use by a run still training: run {training.id}" in message
    assert "--force" in message
    assert snapshot(bench_home) == before


def _on_a_small_disk(home: Path, megabytes: int, command: str) -> subprocess.CompletedProcess:
    """``command`` with BENCH_HOME on a real tmpfs of ``megabytes`` (a user namespace mount);
    it prints ``exit=N`` and then every file left in the home but the store."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) to mount a small file system")
    home.mkdir()
    quoted = shlex.quote(str(home))
    script = (f"mount -t tmpfs -o size={megabytes}m tmpfs {quoted} || exit 99; "
              f"export BENCH_HOME={quoted}; {command}; echo exit=$?; "
              f"find {quoted} -type f ! -name 'results.sqlite*'")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                            text=True, env=os.environ.copy())
    if result.returncode == 99:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    return result


def test_a_full_disk_while_caching_a_data_set(tmp_path):
    """Issue 24: a cache bigger than the disk is refused when its blocks are reserved."""
    cells = tmp_path / "cells"
    _write_cells(cells)
    (cells / "bench-dataset.toml").write_text('name = "cells"\n')
    bench_cli = f"{shlex.quote(sys.executable)} -m bench.cli"
    result = _on_a_small_disk(tmp_path / "home", 1, f"{bench_cli} datasets prepare "
                              f"folder:{shlex.quote(str(cells))} --cache-size 256")
    message = " ".join(result.stderr.split())
    assert "exit=1" in result.stdout, result.stdout + message
    assert "no space left on the disk of" in message and "256 px cache of cells" in message
    assert "5.9 MB needed" in message and "BENCH_HOME" in message
    assert "Traceback" not in message and "Bus error" not in message
    assert not result.stdout.split("exit=1")[1].strip()  # nothing half-written is left


def test_a_full_disk_while_caching_a_shifted_test_set(tmp_path):
    """Issue 24: the shift cache was a sparse memory map and died with "Bus error" (exit 135)
    when the disk filled; now its blocks are reserved first and the error names the fix."""
    cells = tmp_path / "cells"
    _write_cells(cells)
    (cells / "bench-dataset.toml").write_text('name = "cells"\n')
    code = (f"import bench\n"
            f"from bench.data import prepare_dataset\n"
            f"from bench.shifts.dataset import load_shifted\n"
            f"prepare_dataset('folder:{cells}', progress=False, cache_size=16)\n"
            f"try:\n"
            f"    load_shifted('cells~blur:1').split('test', 300)\n"
            f"except bench.DataError as exc:\n"
            f"    raise SystemExit(f'Error: {{exc}}')\n")
    (tmp_path / "shift.py").write_text(code)
    result = _on_a_small_disk(tmp_path / "home", 1, f"{shlex.quote(sys.executable)} "
                              f"{shlex.quote(str(tmp_path / 'shift.py'))}")
    message = " ".join(result.stderr.split())
    assert "exit=1" in result.stdout, result.stdout + message
    assert "no space left on the disk of" in message and "cache of cells~blur:1" in message
    assert "Traceback" not in message and "Bus error" not in message
    left = result.stdout.split("exit=1")[1].split()
    assert left and not [path for path in left if "/shifted/" in path], left  # prepared only
