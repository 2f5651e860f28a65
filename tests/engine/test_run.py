"""`bench run` end to end on tiny data: scores, skipping, resume after SIGKILL, failures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from fixtures.cli import invoke
from sklearn import metrics as skm

import bench
import bench.data

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json"]


def bench_run(*args: str):
    return invoke(*RUN, *args)


def test_matrix_writes_models_x_sources_x_targets_scores_equal_to_sklearn(tiny_world):
    result = bench_run("--model", "tiny", "--source", "all", "--target", "all", "--epochs", "2")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["source"], r["status"]) for r in rows} == {("colours-a", "finished"),
                                                           ("colours-b", "finished")}
    store = bench.open_store()
    scores = store.scores()
    assert len(scores) == 1 * 2 * 2 * 9  # models x sources x targets x metrics
    for run_id, target in scores[["run_id", "target"]].drop_duplicates().values:
        stored = scores[(scores.run_id == run_id) & (scores.target == target)]
        value = dict(zip(stored.metric, stored.value))
        predictions = store.predictions(run_id, target)
        y, p = predictions.label, predictions.predicted
        assert value["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
        assert value["f1"] == pytest.approx(skm.f1_score(y, p, average="weighted"))
        assert value["recall"] == pytest.approx(value["accuracy"])
        assert value["mcc"] == pytest.approx(skm.matthews_corrcoef(y, p))
        assert stored.target_fingerprint.nunique() == 1
    run = store.run(scores.run_id.iloc[0])
    assert run["summary"]["selection"] == "val_f1"  # the epoch was chosen on validation only
    shown = json.loads(invoke("runs", "show", run["id"], "--json").stdout)
    for target_scores in shown["scores"].values():
        assert {"macro_f1", "balanced_accuracy", "mcc", "ece", "brier"} <= set(target_scores)
    assert run["provenance"]["versions"]["torch"]
    assert run["settings"]["protocol_version"] == "1.0"
    assert run["split_fingerprint"] == bench.data.load_prepared(run["source"]).fingerprint
    assert run["epochs"] == 2 and len(run["epoch_log"]) == 2


def test_a_second_run_of_the_same_command_skips_finished_cells(tiny_world):
    args = ("--model", "tiny", "--source", "colours-a", "--target", "colours-b", "--epochs", "1")
    assert bench_run(*args).exit_code == 0
    again = bench_run(*args)
    assert again.exit_code == 0
    assert [r["status"] for r in json.loads(again.stdout)] == ["skipped"]
    assert "already finished" in again.output
    assert len(bench.open_store().runs()) == 1


def test_a_run_killed_mid_epoch_resumes_to_the_same_scores(
    tiny_world, tmp_path, bench_home, monkeypatch
):
    argv = [sys.executable, "-m", "bench.cli", *RUN, "--model", "slow", "--source", "colours-a",
            "--target", "colours-a", "--epochs", "3", "--seeds", "1"]
    process = subprocess.Popen(argv, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not list(bench_home.glob("runs/*/last.pt")) and time.time() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    time.sleep(0.1)  # into the second epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    store = bench.open_store()
    assert store.runs().status.tolist() == ["running"]  # nothing finished, nothing corrupt
    assert store.scores().empty
    resumed = subprocess.run(argv, env=os.environ.copy(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    interrupted_scores = store.scores().set_index(["target", "metric"]).value

    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "uninterrupted"))
    bench.reset()
    from bench.data import prepare_dataset

    prepare_dataset("colours-a", progress=False)
    clean = subprocess.run(argv, env=os.environ.copy(), capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    clean_scores = bench.open_store().scores().set_index(["target", "metric"]).value
    assert interrupted_scores.to_dict() == clean_scores.to_dict()


def test_non_finite_loss_fails_that_cell_and_the_next_one_still_runs(tiny_world):
    result = bench_run("--model", "nan,tiny", "--source", "colours-a", "--target", "colours-a",
                       "--epochs", "1")
    assert result.exit_code == 1
    runs = bench.open_store().runs().set_index("model")
    assert runs.loc["nan", "status"] == "failed"
    assert "loss became nan" in runs.loc["nan", "error"]
    assert runs.loc["tiny", "status"] == "finished"
    # The summary names each failed cell and its reason, not another command to run.
    message = " ".join(result.stderr.split())
    assert "1 of 2 cells failed" in message
    assert "nan on colours-a (seed 0):" in message and "loss became nan" in message
    assert "--retry-failed" in message and "runs list" not in message
    # Epochs are counted in whole numbers, and a cell without any shows none (not 1.0, nan).
    plain = invoke("runs", "list").stdout
    epochs = {line.split()[1]: line.split()[5] for line in plain.splitlines()
              if line.split()[1:2] in (["nan"], ["tiny"])}
    assert epochs == {"nan": "-", "tiny": "1"}, plain
    full = invoke("runs", "list", "--all").stdout
    tiny = next(line.split() for line in full.splitlines() if " tiny " in line)
    assert tiny[-5:-2] == ["finished", "1", "1"] and tiny[-1] == "-", full  # epochs, best; no error
    rows = {r["model"]: r for r in json.loads(invoke("runs", "list", "--json").stdout)}
    assert rows["tiny"]["epochs"] == 1 and isinstance(rows["tiny"]["epochs"], int)


def test_ctrl_c_says_what_was_kept_and_how_to_resume(tiny_world, bench_home):
    argv = [sys.executable, "-m", "bench.cli", *RUN, "--model", "slow", "--source", "colours-a",
            "--target", "colours-a", "--epochs", "3"]
    process = subprocess.Popen(argv, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(bench_home.glob("runs/*/last.pt")) and time.time() < deadline:
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stderr = " ".join(process.communicate(timeout=60)[1].split())
    assert process.returncode == 130, stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr
    assert "Interrupted (Ctrl-C) during `bench run`" in stderr
    assert "last epoch checkpoint" in stderr
    assert "To go on: bench run --protocol quick" in stderr  # the very command, to rerun
    assert list(bench_home.glob("runs/*/last.pt"))  # what the message says was kept


def test_a_target_that_is_not_prepared_stops_the_run_before_training(tiny_world):
    result = bench_run("--model", "tiny", "--source", "colours-a", "--target", "pbc")
    assert result.exit_code == 1
    assert "bench datasets prepare pbc" in result.output
    assert bench.open_store().runs().empty


def test_unknown_model_lists_the_known_ones(tiny_world):
    result = bench_run("--model", "tiyn", "--source", "colours-a")
    assert result.exit_code == 1
    assert "Did you mean: tiny" in result.output
    assert "Traceback" not in result.output


def test_two_processes_on_one_data_home_share_the_matrix_without_duplicates(tiny_world):
    argv = [sys.executable, "-m", "bench.cli", *RUN, "--model", "slow,tiny", "--source",
            "colours-a", "--target", "colours-a", "--epochs", "2"]
    processes = [subprocess.Popen(argv, env=os.environ.copy(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    finished = [p.communicate(timeout=120) for p in processes]
    outputs = [json.loads(out) for out, _ in finished]
    for process, output, (_, err) in zip(processes, outputs, finished):
        # 3: this process left a cell to the other one, which was still training it
        elsewhere = any(r["detail"] == "running in another process" for r in output)
        assert process.returncode == (3 if elsewhere else 0), err
        assert ("matrix not complete" in err) == elsewhere
    statuses = sorted(row["status"] for output in outputs for row in output)
    assert statuses == ["finished", "finished", "skipped", "skipped"]
    store = bench.open_store()
    assert store.runs().status.tolist() == ["finished", "finished"]
    assert len(store.scores()) == 2 * 9  # runs x metrics


def test_a_source_whose_validation_split_lacks_a_class_is_a_clear_error(tiny_world, tmp_path):
    root = tmp_path / "few-basophils"
    for folder, count in (("lymphocyte", 6), ("monocyte", 6), ("basophil", 2)):
        (root / folder).mkdir(parents=True)
        for index in range(count):
            shutil.copy(next((tiny_world / "colours-a" / "L").glob("*.png")),
                        root / folder / f"{index}.png")
            (root / folder / f"{index}.png").write_bytes(
                (root / folder / f"{index}.png").read_bytes() + bytes([index, len(folder)]))
    result = bench_run("--model", "tiny", "--source", f"folder:{root}", "--target",
                       "colours-a", "--epochs", "1")
    assert result.exit_code == 1
    assert "validation split" in result.output and "lacks class(es) B" in result.output


def test_missing_pretrained_weights_stop_the_matrix_before_any_cell(tiny_world, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    result = invoke("run", "--model", "tiny,timm:test_resnet", "--source",
                    "colours-a", "--protocol", "quick")
    assert result.exit_code == 1
    assert "Three ways out" in result.output and "--no-pretrained" in result.output
    assert bench.open_store().runs().empty  # not even the tiny model's cell was started


def test_runs_list_and_show_report_what_was_recorded(tiny_world):
    assert bench_run("--model", "tiny", "--source", "colours-a", "--target", "all",
                     "--epochs", "2").exit_code == 0
    listed = json.loads(invoke("runs", "list", "--json").stdout)
    assert [(r["model"], r["status"], r["epochs"]) for r in listed] == [("tiny", "finished", 2)]
    shown = invoke("runs", "show", listed[0]["id"][:6], "--json")
    run = json.loads(shown.stdout)
    assert set(run["scores"]) == {"colours-a", "colours-b"}
    assert run["scores"]["colours-b"]["recall"] == pytest.approx(
        run["scores"]["colours-b"]["accuracy"])
    assert [e["epoch"] for e in run["epoch_log"]] == [1, 2]
    missing = invoke("runs", "show", "nope")
    assert missing.exit_code == 1 and "bench runs list" in missing.output
