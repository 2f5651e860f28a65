"""Probes: a frozen backbone run once per image, its embeddings cached, a head per cell.

The tiny world's models and data sets, real heads (scikit-learn's L-BFGS, DINO's weighted
k-NN), real cache files; a timm ViT where timm's own classifier removal is the code under test.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
from fixtures.cli import invoke

import bench
from bench.engine.embeddings import EMBEDDINGS, cached_entries
from bench.engine.run_display import QuietListener
from bench.engine.runner import RunRequest, run_benchmark
from bench.home import data_home
from bench.metrics import METRICS

PROBE = ["run", "--image-size", "16", "--no-pretrained", "--json"]


def probe_run(*args: str):
    return invoke(*PROBE, *args)


def api_run(protocol: str, **fields) -> tuple[list, QuietListener]:
    listener = QuietListener()
    recipe = bench.load_protocol(protocol).with_overrides(input={"size": 16})
    request = RunRequest(models=["tiny"], sources=["colours-a"], targets=["colours-a"],
                         protocol=recipe, pretrained=False, **fields)
    return run_benchmark(request, listener), listener


def summaries() -> list[dict]:
    store = bench.open_store()
    return [store.run(run_id)["summary"] for run_id in store.runs()["id"]]


def test_a_linear_probe_is_an_ordinary_cell_with_every_metric_and_the_cost_keys(tiny_world):
    result = probe_run("--model", "tiny", "--protocol", "linear-probe", "--source", "colours-a",
                       "--target", "all")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["status"] == "finished" and row["protocol"] == "linear-probe"
    assert row["protocol_hash"] == bench.load_protocol("linear-probe").with_overrides(
        input={"size": 16}).hash
    store = bench.open_store()
    run = store.run(row["run_id"])
    scores = store.scores()
    assert set(scores.target) == {"colours-a", "colours-b"}
    assert set(METRICS) <= set(scores.metric)  # the one metric table, in full
    assert len(store.predictions(run["id"], "colours-b")) == 10  # 2 test images x 5 classes
    # the head was chosen on the validation split: one entry per C, the best by val_f1
    log = run["epoch_log"]
    assert len(log) == 9 and [entry["c"] for entry in log] == sorted(entry["c"] for entry in log)
    best = max(log, key=lambda entry: (entry["val_f1"], -entry["epoch"]))
    assert run["best_epoch"] == best["epoch"]
    assert Path(run["checkpoint"]).name == "head.pt" and Path(run["checkpoint"]).is_file()
    summary = run["summary"]
    assert summary["selection"] == "val_f1"
    fine_tuned_keys = {"wall_seconds", "train_images_per_second", "train_seconds",
                       "eval_images_per_second", "evaluation", "peak_memory"}
    assert fine_tuned_keys <= set(summary["cost"])
    assert summary["cost"]["evaluation"].keys() == {"colours-a", "colours-b"}
    assert summary["device_info"]["device"] == "cpu"
    assert summary["probe"]["backbone_passes"] > 0 and summary["probe"]["train_images"] == 45
    # colours-a: 75 images, 45/15/15; colours-b: 50, tested on its 10 test images
    assert {entry["count"] for entry in cached_entries()} == {45, 15, 10}


def test_a_second_probe_reuses_the_embeddings_for_every_head_seed_and_shot(tiny_world):
    first, _ = api_run("linear-probe")
    assert first[0].status == "finished"
    entries = {entry["folder"] for entry in cached_entries()}
    mtimes = {folder: (Path(folder) / EMBEDDINGS).stat().st_mtime_ns for folder in entries}
    results, listener = api_run("knn", seeds=[0, 1], shots=[1, 2, "all"])
    assert [r.status for r in results] == ["finished"] * 6
    assert len({r.cell.protocol_hash for r in results}) == 3  # K is part of the recipe
    passes = [n for n in listener.notices if "backbone passes" in n]
    assert len(passes) == 6 and all(n.endswith(": 0 backbone passes") for n in passes)
    assert all(s["probe"]["backbone_passes"] == 0 for s in summaries()[1:])
    assert {entry["folder"] for entry in cached_entries()} == entries  # nothing new written
    assert {f: (Path(f) / EMBEDDINGS).stat().st_mtime_ns for f in entries} == mtimes
    trained_on = sorted(s["probe"]["train_images"] for s in summaries()[1:])
    assert trained_on == [5, 5, 10, 10, 45, 45]  # K images of each of the five classes


def test_a_random_backbone_is_the_same_for_every_seed(tiny_world):
    api_run("knn", seeds=[3])
    api_run("knn", seeds=[4])
    hashes = {s["probe"]["weights_sha256"] for s in summaries()}
    assert len(hashes) == 1 and len(cached_entries()) == 3  # train, val, test of colours-a


def test_evaluate_tests_a_probe_on_a_shifted_target_embedding_only_that(tiny_world):
    assert probe_run("--model", "tiny", "--protocol", "knn", "--source", "colours-a",
                     "--target", "colours-a").exit_code == 0
    before = len(cached_entries())
    result = invoke("evaluate", "--model", "tiny", "--source", "colours-a",
                    "--target", "colours-b~blur:2", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["status"] == "finished" and "colours-b~blur:2" in row["scores"]
    assert len(cached_entries()) == before + 1  # the shifted test split, nothing else
    shifted = [e for e in cached_entries() if e["dataset"] == "colours-b~blur:2"]
    assert shifted and shifted[0]["count"] == 10


def test_fine_tuning_on_k_shots_trains_on_k_images_per_class(tiny_world):
    from bench.engine.few_shot import few_shot_indices

    result = invoke("run", "--protocol", "quick", "--image-size", "16",
                    "--epochs", "1", "--no-pretrained", "--model", "tiny",
                    "--source", "colours-a", "--target", "colours-a",
                    "--shots", "2,all", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["shots"] for row in rows] == [2, "all"]
    assert "training.shots=2" in rows[0]["overrides"]
    cost = bench.open_store().run(rows[0]["run_id"])["summary"]["cost"]
    assert cost["train_images"] == 10  # 2 images x 5 classes, one epoch
    data = bench.kit.load_prepared("colours-a")
    split = data.split("train", 64)
    chosen = few_shot_indices(split.paths, split.labels, data.fingerprint, 2, 0)
    assert np.bincount(split.labels[chosen]).tolist() == [2] * 5
    board = invoke("leaderboard", "--format", "md").stdout
    assert "training.shots=2" in board.replace("\\_", "_")  # the board header says K


def test_the_shots_board_lays_out_score_against_k_with_intervals_and_a_plot(tiny_world,
                                                                             tmp_path):
    api_run("knn", seeds=[0, 1], shots=[1, 2, "all"])
    api_run("linear-probe", shots=[2])  # one K alone: no curve, no board
    result = invoke("leaderboard", "--shots", "--ci", "--resamples", "50",
                    "--json", "--plots", str(tmp_path / "plots"))
    assert result.exit_code == 0, result.output
    [board] = json.loads(result.stdout[result.stdout.index("["):])
    assert board["title"] == "Label efficiency, protocol knn, from scratch"
    hashes = board["context"]["protocol_hash"].split(", ")
    assert len(hashes) == 3 and "K = 1, 2, all" in board["context"]["recipe"]
    [table] = board["tables"]
    assert [c["label"] for c in table["columns"]] == ["1", "2", "all"]
    [row] = table["rows"]
    for cell in row["cells"].values():
        assert cell["n"] == 2 and cell["ci_low"] <= cell["value"] <= cell["ci_high"]
    assert sorted(p.name for p in (tmp_path / "plots").rglob("shots-*")) == [
        "shots-colours-a.png", "shots-colours-a.svg"]


def test_a_timm_backbone_loses_its_classifier_and_embeds_its_pooled_features(tiny_world):
    recipe = bench.load_protocol("knn").with_overrides(input={"size": 32})
    request = RunRequest(models=["timm:test_vit"], sources=["colours-a"],
                         targets=["colours-a"], protocol=recipe, pretrained=False)
    [result] = run_benchmark(request, QuietListener())
    assert result.status == "finished", result.detail
    entry = next(e for e in cached_entries() if e["count"] == 45)
    vectors = np.load(Path(entry["folder"]) / EMBEDDINGS)
    import timm

    assert vectors.shape == (45, timm.create_model("test_vit").num_features)


def test_a_damaged_cache_entry_is_made_again(tiny_world):
    api_run("knn")
    entry = next(e for e in cached_entries() if e["count"] == 45)
    path = Path(entry["folder"]) / EMBEDDINGS
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    api_run("knn", seeds=[1])
    assert summaries()[1]["probe"]["backbone_passes"] > 0
    assert np.load(path).shape[0] == 45


def test_a_full_disk_while_caching_is_one_message_and_leaves_nothing(tiny_world, monkeypatch):
    def full(descriptor, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    [result], _ = api_run("knn")
    assert result.status == "failed"
    assert "no space left" in result.detail and "BENCH_HOME" in result.detail
    root = data_home() / "embeddings"
    assert not root.is_dir() or not any(root.iterdir())  # no entry, no work folder


def test_the_run_says_0_backbone_passes_and_the_dry_run_knew(tiny_world):
    args = ["run", "--image-size", "16", "--no-pretrained", "--model", "tiny", "--source",
            "colours-a", "--target", "colours-a"]
    dry = invoke(*args, "--protocol", "linear-probe", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    [cell] = json.loads(dry.stdout)["cells"]
    assert "embeds 75 images" in cell["detail"]  # 45 train, 15 val, 15 test
    assert invoke(*args, "--protocol", "linear-probe").exit_code == 0
    dry = invoke(*args, "--protocol", "knn", "--shots", "1,all", "--dry-run", "--json")
    assert all("0 backbone passes" in c["detail"] for c in json.loads(dry.stdout)["cells"])
    shown = invoke(*args, "--protocol", "knn", "--shots", "1,all")
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("tiny on colours-a (seed 0): 0 backbone passes") == 2
