"""`bench run --dry-run`: the matrix as a run resolves it, a measured estimate, nothing run."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys

from fixtures.cli import invoke

import bench

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--epochs", "2"]


def bench_run(*args: str):
    return invoke(*RUN, *args)


def tiny_parameters() -> int:
    return (3 * 8 * 9 + 8) + (8 * 5 + 5)  # the tiny model: a 3x3 conv to 8 channels, a linear


def test_dry_run_lists_the_cells_with_an_estimate_and_runs_nothing(tiny_world, bench_home):
    result = bench_run("--model", "tiny,tiny2", "--source", "all", "--target", "all",
                       "--seeds", "2", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    cells = {(c["model"], c["source"], c["seed"]): c for c in plan["cells"]}
    assert set(cells) == {(m, s, seed) for m in ("tiny", "tiny2")
                          for s in ("colours-a", "colours-b") for seed in (0, 1)}
    assert {c["status"] for c in cells.values()} == {"new"}
    assert {c["epochs"] for c in cells.values()} == {2} and plan["max_epochs"] == 2
    assert all(c["seconds"] > 0 for c in cells.values())
    assert plan["seconds"] == sum(c["seconds"] for c in cells.values())
    assert plan["measured"]["tiny"]["seconds_per_batch"] > 0
    # best.pt holds the model; last.pt the model and SGD's momentum: 3 copies of float32 weights
    assert cells[("tiny", "colours-a", 0)]["checkpoint_bytes"] == 3 * 4 * tiny_parameters()
    assert plan["checkpoint_bytes"] == sum(c["checkpoint_bytes"] for c in cells.values())
    assert plan["device"] == "cpu" and plan["warning"] is None
    # nothing was claimed, trained or written
    assert bench.open_store().runs().empty
    assert not list(bench_home.glob("runs/*/*"))

    table = bench_run("--model", "tiny", "--source", "colours-a", "--target", "colours-b",
                      "--dry-run")
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "new" in text and "1 of 1 cells to train, at most 2 epochs each" in text
    assert "checkpoints" in text and "Nothing was trained" in text
    assert bench.open_store().runs().empty


def _interrupt_after_one_epoch(bench_home, run_id: str) -> None:
    """What a `bench run` killed during its second epoch leaves in the store."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    with sqlite3.connect(bench_home / "results.sqlite") as db:
        db.execute("UPDATE runs SET status = 'running', owner = ?, finished = NULL WHERE id = ?",
                   (f"{socket.gethostname()}:{process.pid}", run_id))
        db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch = 2", (run_id,))


def test_dry_run_says_what_becomes_of_finished_failed_and_interrupted_cells(tiny_world,
                                                                           bench_home):
    assert bench_run("--model", "tiny,nan", "--source", "colours-a", "--target", "colours-a",
                     "--json").exit_code == 1  # nan fails
    assert bench_run("--model", "tiny", "--source", "colours-b", "--target", "colours-a",
                     "--json").exit_code == 0
    store = bench.open_store()
    runs = store.runs().set_index(["model", "source"])
    _interrupt_after_one_epoch(bench_home, runs.loc[("tiny", "colours-b"), "id"])
    before = store.runs()

    args = ("--model", "tiny,nan", "--source", "all", "--target", "colours-a", "--dry-run",
            "--json")
    cells = {(c["model"], c["source"]): c for c in json.loads(bench_run(*args).stdout)["cells"]}
    assert cells[("tiny", "colours-a")]["status"] == "finished"
    assert cells[("tiny", "colours-a")]["epochs"] == 0
    assert cells[("tiny", "colours-a")]["checkpoint_bytes"] == 0
    resumable = cells[("tiny", "colours-b")]
    assert (resumable["status"], resumable["epochs"]) == ("resumable", 1)
    assert "after epoch 1" in resumable["detail"]
    failed = cells[("nan", "colours-a")]
    assert (failed["status"], failed["epochs"]) == ("failed", 0)
    assert "--retry-failed" in failed["detail"]
    assert cells[("nan", "colours-b")]["status"] == "new"
    retried = json.loads(bench_run(*args, "--retry-failed").stdout)["cells"]
    assert [c["epochs"] for c in retried if c["model"] == "nan" and c["source"] == "colours-a"
            ] == [2]
    assert store.runs().equals(before)  # nothing claimed, nothing touched


def test_a_long_job_on_a_cpu_is_announced_before_it_trains(tiny_world, monkeypatch):
    import bench.engine.training as training

    def slow_step(plan):  # as if each batch took ten minutes on this CPU
        return {"device": "cpu", "seconds_per_batch": 600.0, "seconds_per_test_batch": 200.0,
                "parameters": 1, "checkpoint_bytes": 12}

    monkeypatch.setattr(training, "measure_cell", slow_step)
    dry = bench_run("--model", "tiny", "--source", "colours-a", "--target", "colours-a",
                    "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "long job" in dry.stderr and "on this CPU" in dry.stderr
    real = bench_run("--model", "tiny", "--source", "colours-a", "--target", "colours-a")
    assert real.exit_code == 0, real.output
    output = " ".join(real.output.split())
    assert "long job: this run is estimated to take about" in output
    assert output.index("long job") < output.index("finished tiny on colours-a")
