"""Faults in a run: divergence, a full disk, a kill between checkpoint and store, new targets."""

from __future__ import annotations

import errno
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fixtures.cli import invoke

import bench
import bench.data
from bench.engine import runner

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json"]

def bench_run(*args: str):
    return invoke(*RUN, *args)


def test_nan_in_validation_fails_the_cell_with_the_reason_and_reaches_no_board(
        tiny_world, install_distribution):
    install_distribution("diverged-model", {"diverged": "diverged_plugin"})
    bench.reset()
    result = bench_run("--model", "diverged", "--source", "colours-a", "--target", "colours-a",
                       "--epochs", "2")
    assert result.exit_code == 1
    runs = bench.open_store().runs()
    assert runs.status.tolist() == ["failed"]
    assert "validation loss is not finite" in runs.error.iloc[0]
    assert "epoch 1" in runs.error.iloc[0]
    assert bench.open_store().scores().empty


def test_nan_test_probabilities_fail_the_cell(tiny_world, monkeypatch):
    from bench.engine import training

    real = training._Trainer._test

    def poisoned(self, name, dataset):
        real_predict = self.predict
        self.predict = lambda data: (real_predict(data)[0] * float("nan"), 0.0)
        try:
            return real(self, name, dataset)
        finally:
            self.predict = real_predict

    monkeypatch.setattr(training._Trainer, "_test", poisoned)
    result = bench_run("--model", "tiny", "--source", "colours-a", "--target", "colours-b",
                       "--epochs", "1")
    assert result.exit_code == 1
    run = bench.open_store().runs().iloc[0]
    assert run.status == "failed" and "test probabilities on colours-b" in run.error
    assert bench.open_store().scores().empty


@pytest.mark.parametrize("failure", ["enospc", "torch-enforce"])
def test_a_full_disk_fails_the_cell_removes_the_partial_and_the_cell_resumes(
        tiny_world, bench_home, monkeypatch, failure):
    args = ("--model", "tiny", "--source", "colours-a", "--target", "colours-a", "--epochs", "3")
    real_save, real_disk_usage = torch.save, shutil.disk_usage
    saves = []

    def full_disk(state, path, *rest, **options):
        saves.append(Path(path))
        if Path(path).name == "last.partial" and "optimizer" in state and state["epoch"] == 2:
            Path(path).write_bytes(b"x" * 4096)  # what torch had written when the disk filled
            if failure == "enospc":
                raise OSError(errno.ENOSPC, "No space left on device")
            monkeypatch.setattr("shutil.disk_usage",
                                lambda _: shutil._ntuple_diskusage(1 << 30, 1 << 30, 0))
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")
        return real_save(state, path, *rest, **options)

    monkeypatch.setattr(torch, "save", full_disk)
    result = bench_run(*args)
    assert result.exit_code == 1
    run = bench.open_store().runs().iloc[0]
    assert run.status == "failed"
    assert run.error.startswith("no space left on ") and str(bench_home / "runs") in run.error
    folder = bench_home / "runs" / run.id
    assert not (folder / "last.partial").exists()
    assert torch.load(folder / "last.pt", weights_only=True)["epoch"] == 1  # the last good one

    # Undo only what this test patched: monkeypatch.undo() would also drop the per-test data
    # home and send the resumed run into the user's own.
    monkeypatch.setattr(torch, "save", real_save)
    monkeypatch.setattr("shutil.disk_usage", real_disk_usage)
    resumed = bench_run(*args, "--retry-failed")
    assert resumed.exit_code == 0, resumed.output
    run = bench.open_store().run(run.id)
    assert run["status"] == "finished" and run["epochs"] == 3
    assert [e["epoch"] for e in run["epoch_log"]] == [1, 2, 3]


def test_an_epoch_row_lost_between_checkpoint_and_store_is_rebuilt_on_resume(
        tiny_world, monkeypatch):
    args = ("--model", "tiny", "--source", "colours-a", "--target", "colours-a", "--epochs", "3")
    real = bench.ResultsStore.record_epoch

    def killed_at_epoch_two(self, run_id, epoch, values):
        if epoch == 2:  # last.pt of epoch 2 is on disk; its row never reaches the store
            raise KeyboardInterrupt
        real(self, run_id, epoch, values)

    monkeypatch.setattr(bench.ResultsStore, "record_epoch", killed_at_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        runner.run_benchmark(runner.RunRequest(
            models=["tiny"], sources=["colours-a"], targets=["colours-a"],
            protocol=bench.load_protocol("quick").with_overrides(
                training={"max_epochs": 3, "batch_size": 8}, input={"size": 16}),
            pretrained=False))
    store = bench.open_store()
    run_id = store.runs().id.iloc[0]
    assert [e["epoch"] for e in store.run(run_id)["epoch_log"]] == [1]
    monkeypatch.setattr(bench.ResultsStore, "record_epoch", real)
    assert bench_run(*args).exit_code == 0
    run = store.run(run_id)
    assert run["status"] == "finished"
    assert [e["epoch"] for e in run["epoch_log"]] == [1, 2, 3]
    assert all("val_loss" in e and "train_loss" in e for e in run["epoch_log"])


def test_a_finished_cell_is_tested_on_new_targets_without_retraining(tiny_world, monkeypatch):
    assert bench_run("--model", "tiny", "--source", "colours-a", "--target", "colours-a",
                     "--epochs", "2").exit_code == 0
    store = bench.open_store()
    run_id = store.runs().id.iloc[0]
    before = store.scores().set_index(["target", "metric"]).value.to_dict()
    from bench.engine import training

    def no_training(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(training, "train_and_evaluate", no_training)
    result = bench_run("--model", "tiny", "--source", "colours-a", "--target",
                       "colours-a,colours-b", "--epochs", "2")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["status"] == "finished" and "tested on colours-b" in row["detail"]
    scores = store.scores()
    assert set(scores.target) == {"colours-a", "colours-b"}
    after = scores.set_index(["target", "metric"]).value.to_dict()
    assert {k: v for k, v in after.items() if k[0] == "colours-a"} == before  # kept as they were
    assert len(store.predictions(run_id, "colours-b")) == 10  # 2 test images x 5 classes
    assert store.run(run_id)["summary"]["target_fingerprints"].keys() == {"colours-a",
                                                                          "colours-b"}
    again = bench_run("--model", "tiny", "--source", "colours-a", "--target",
                      "colours-a,colours-b", "--epochs", "2")
    assert json.loads(again.stdout)[0]["detail"] == "already finished"


def test_new_target_scores_equal_those_of_a_run_that_asked_for_them_at_once(
        tiny_world, tmp_path, monkeypatch):
    args = ("--model", "tiny", "--source", "colours-a", "--epochs", "2")
    assert bench_run(*args, "--target", "colours-a").exit_code == 0
    assert bench_run(*args, "--target", "colours-b,colours-a").exit_code == 0
    later = bench.open_store().scores().set_index(["target", "metric"]).value.to_dict()

    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "at-once"))
    bench.reset()
    from bench.data import prepare_dataset

    for name in ("colours-a", "colours-b"):
        prepare_dataset(name, progress=False)
    assert bench_run(*args, "--target", "colours-a,colours-b").exit_code == 0
    at_once = bench.open_store().scores().set_index(["target", "metric"]).value.to_dict()
    assert later == pytest.approx(at_once)


def test_a_process_that_skips_a_cell_running_elsewhere_says_the_matrix_is_not_complete(
        tiny_world):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        protocol = bench.load_protocol("quick").with_overrides(
            training={"max_epochs": 1, "batch_size": 8}, input={"size": 16})
        cell = bench.Cell("tiny", "colours-a", 0, protocol.name, protocol.hash,
                          bench.data.load_prepared("colours-a").fingerprint, init="scratch")
        bench.open_store().claim(cell, owner=f"{socket.gethostname()}:{other.pid}")
        result = bench_run("--model", "tiny,tiny2", "--source", "colours-a", "--target",
                           "colours-a", "--epochs", "1")
    finally:
        other.kill()
        other.wait()
    assert result.exit_code == 3, result.output
    assert ("matrix not complete: 1 cell(s) running in another process (tiny on colours-a "
            "(seed 0)); give the same command again") in result.output
    statuses = bench.open_store().runs().set_index("model").status
    assert statuses.to_dict() == {"tiny": "running", "tiny2": "finished"}


def test_a_store_moved_aside_is_refilled_from_the_checkpoints_without_training(
        tiny_world, bench_home, monkeypatch):
    args = ("--model", "tiny", "--source", "colours-a", "--target", "colours-a,colours-b",
            "--epochs", "2")
    assert bench_run(*args).exit_code == 0
    before = bench.open_store().scores().set_index(["target", "metric"]).value.to_dict()
    for path in bench_home.glob("results.sqlite*"):
        path.rename(path.with_name(path.name + ".damaged"))
    from bench.engine import training

    def no_epochs(*args, **kwargs):
        raise AssertionError("an epoch was trained again")

    monkeypatch.setattr(training._Trainer, "_train_epoch", no_epochs)
    assert bench_run(*args).exit_code == 0
    store = bench.open_store()
    assert store.scores().set_index(["target", "metric"]).value.to_dict() == before
    assert [e["epoch"] for e in store.run(store.runs().id.iloc[0])["epoch_log"]] == [1, 2]


def test_a_protocol_file_out_of_range_is_refused_before_any_cell(tiny_world, tmp_path):
    from importlib import resources

    quick = (resources.files("bench") / "protocols" / "quick.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(quick.replace("lr = 0.01", "lr = -0.1"))
    result = invoke("run", "--protocol", str(path), "--model", "tiny",
                    "--source", "colours-a", "--no-pretrained")
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}: training.lr = -0.1 is out of range" in message
    assert bench.open_store().runs().empty  # no cell was claimed, so none is left running


def test_an_unexpected_error_in_a_cell_records_it_failed_not_running(tiny_world, monkeypatch):
    from bench.engine import training

    def broken(self, plan, listener):
        raise ValueError("Invalid learning rate: -0.1")

    monkeypatch.setattr(training._Trainer, "__init__", broken)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        runner.run_benchmark(runner.RunRequest(
            models=["tiny"], sources=["colours-a"], targets=["colours-a"],
            protocol=bench.load_protocol("quick"), pretrained=False))
    run = bench.open_store().runs().iloc[0]
    assert run.status == "failed"
    assert run.error.startswith("ValueError: Invalid learning rate: -0.1")
