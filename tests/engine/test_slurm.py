"""The Slurm executor, through submitit's local executor: each job a process on this machine.

The same scores and records as the local executor; a killed job submitted again, a warned one
(time limit, preemption) requeued, both resuming from the last epoch; a job Slurm refuses
stops the run and leaves its cells to resume; a cell's own failure and a job's crash recorded
with their reasons. The options' checks: tests/test_user_errors.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from fixtures.cli import invoke

import bench
from bench.engine.runner import RunRequest, run_benchmark

pytest.importorskip("submitit")

QUICK = bench.load_protocol("quick").with_overrides(
    training={"max_epochs": 2, "batch_size": 8}, input={"size": 16}
)
REHEARSAL = {"cluster": "local", "gpus": 0, "cpus": 1}  # one CPU, as the local run below


def matrix(executor: str, **options) -> dict:
    """Scores and records of one model on both sources, keyed by (source, ...)."""
    request = RunRequest(models=["tiny"], sources=["all"], targets=["all"], protocol=QUICK,
                         pretrained=False, executor=executor, seeds=[3],
                         executor_options=options)
    results = run_benchmark(request)
    assert [r.status for r in results] == ["finished"] * 2, [r.detail for r in results]
    store = bench.open_store()
    scores = store.scores()
    runs = store.runs().set_index("source")
    return {
        "scores": {tuple(row[:3]): row[3]
                   for row in scores[["source", "target", "metric", "value"]].values},
        "epochs": {source: (runs.loc[source, "epochs"], runs.loc[source, "best_epoch"],
                            [{k: v for k, v in entry.items() if "seconds" not in k
                              and "per_second" not in k}
                             for entry in store.run(runs.loc[source, "id"])["epoch_log"]])
                   for source in runs.index},
        "predictions": {(source, target): store.predictions(runs.loc[source, "id"], target)
                        [["path", "label", "predicted"]].values.tolist()
                        for source in runs.index for target in ("colours-a", "colours-b")},
        "provenance": store.run(runs.id.iloc[0])["provenance"],
    }


@pytest.mark.slow
def test_slurm_jobs_record_exactly_what_the_local_executor_records(tiny_world, tmp_path,
                                                                  monkeypatch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a one-CPU job, so the arithmetic is the same
    try:
        local = matrix("local")
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "slurm-home"))
    bench.reset()
    from bench.data import prepare_dataset

    for name in ("colours-a", "colours-b"):
        prepare_dataset(name, progress=False)
    on_slurm = matrix("slurm", **REHEARSAL)
    assert len(local["scores"]) == 2 * 2 * 9  # sources x targets x metrics
    for key in ("scores", "epochs", "predictions"):
        assert on_slurm[key] == local[key], key
    assert local["provenance"]["executor"] == "local"
    assert on_slurm["provenance"]["executor"] == "slurm"
    assert on_slurm["provenance"]["executor_options"]["cluster"] == "local"
    logs = sorted((tmp_path / "slurm-home" / "slurm").glob("*/*_log.out"))
    assert len(logs) == 2  # one job per cell, each with its log
    assert all("epoch 2/2: val F1" in log.read_text() for log in logs)


@pytest.mark.slow
@pytest.mark.parametrize(("sent", "jobs"), [
    (signal.SIGKILL, 2),  # killed (scancel -s KILL, its node lost): the driver submits it again
    (signal.SIGUSR2, 1),  # Slurm's warning before the time limit or preemption: requeued
], ids=["killed", "warned"])
def test_a_job_stopped_midway_goes_on_from_its_last_epoch(sent, jobs, tiny_world, tmp_path,
                                                           bench_home):
    pid_file = tmp_path / "pids"
    env = {**os.environ, "TINY_PID_FILE": str(pid_file)}
    argv = [sys.executable, "-m", "bench.cli", "run", "--executor", "slurm",
            "--slurm-cluster", "local", "--slurm-gpus", "0", "--slurm-cpus", "1",
            "--model", "slow", "--source", "colours-a", "--target", "colours-a,colours-b",
            "--protocol", "quick", "--epochs", "3", "--image-size", "16", "--batch-size", "8",
            "--no-pretrained"]
    driver = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    deadline = time.time() + 300
    while not list(bench_home.glob("runs/*/last.pt")) and time.time() < deadline:
        assert driver.poll() is None, driver.communicate()
        time.sleep(0.05)
    job = int(pid_file.read_text().split()[0])  # the process training the cell
    os.kill(job, sent)
    out, err = driver.communicate(timeout=600)
    assert driver.returncode == 0, err
    assert ("submitted again as job" in out) == (jobs == 2), out
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(set(pids)) == 2 and pids[0] == job  # the cell went on in a second process
    store = bench.open_store()
    runs = store.runs()
    assert runs.status.tolist() == ["finished"]
    assert len(store.scores()) == 2 * 9
    assert [e["epoch"] for e in store.run(runs.id[0])["epoch_log"]] == [1, 2, 3]
    logs = [path.read_text() for path in (bench_home / "slurm").glob("*/*_log.out")]
    assert len(logs) == jobs
    assert any("resumed after epoch" in log for log in logs)  # from its checkpoint, not anew


def test_a_job_slurm_refuses_stops_the_run_and_leaves_its_cells_to_resume(tiny_world, tmp_path,
                                                                         bench_home, monkeypatch):
    tools = tmp_path / "bin"  # Slurm's commands, with an sbatch that refuses every job
    tools.mkdir()
    for name, script in (("sbatch", "echo 'sbatch: error: invalid partition specified: nope' >&2"
                                    "; exit 1"),
                         ("srun", "exit 1")):  # submitit wants it here; only jobs call it
        (tools / name).write_text(f"#!/bin/sh\n{script}\n")
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    result = invoke(
        "run", "--executor", "slurm", "--slurm-partition", "nope", "--model", "tiny",
        "--source", "colours-a", "--target", "colours-b", "--protocol", "quick",
        "--epochs", "1", "--no-pretrained", "--json")
    message = " ".join(result.output.split())
    assert result.exit_code == 1, (message, result.exception)
    assert "Slurm refused the job of tiny on colours-a (seed 0)" in message
    assert "invalid partition specified: nope" in message and "sinfo -s" in message
    runs = bench.open_store().runs()
    assert runs.status.tolist() == ["running"]  # not failed: resumed once the setting is fixed
    assert list(bench_home.glob("runs/*")) and not list(bench_home.glob("runs/*/*.pt"))


def test_a_cell_that_fails_in_its_job_is_recorded_failed_with_its_reason(tiny_world):
    request = RunRequest(models=["nan"], sources=["colours-a"], targets=["colours-b"],
                         protocol=QUICK, pretrained=False, executor="slurm",
                         executor_options=REHEARSAL)
    [result] = run_benchmark(request)
    assert result.status == "failed" and "loss became nan" in result.detail
    run = bench.open_store().run(result.cell.id)
    assert run["status"] == "failed" and "loss became nan" in run["error"]


def test_a_job_that_raises_is_told_with_its_error_and_its_log(tmp_path):
    import submitit

    from bench.engine.slurm_executor import _outcome

    job = submitit.AutoExecutor(folder=tmp_path / "%j", cluster="local").submit(int, "twelve")
    job.wait()
    error = _outcome(job, 1, "4:00:00")
    assert isinstance(error, bench.RunError)
    assert (f"Slurm job {job.job_id} failed: ValueError: invalid literal for int() with base "
            f"10: 'twelve'") in str(error)
    assert str(job.paths.stdout) in str(error)
