"""The Ray executor: same scores as the local one, and a lost worker's cell recorded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import bench
from bench.engine.runner import RunRequest, run_benchmark

ray = pytest.importorskip("ray")

QUICK = bench.load_protocol("quick").with_overrides(
    training={"max_epochs": 2, "batch_size": 8}, input={"size": 16}
)


def matrix(executor: str) -> dict:
    request = RunRequest(models=["tiny,tiny2"], sources=["all"], targets=["all"], protocol=QUICK,
                         pretrained=False, executor=executor, seeds=[3])
    results = run_benchmark(request)
    assert [r.status for r in results] == ["finished"] * 4
    scores = bench.open_store().scores()
    return {tuple(row[:4]): row[4]
            for row in scores[["model", "source", "target", "metric", "value"]].values}


def test_ray_executor_gives_the_scores_of_the_local_executor(tiny_world, tmp_path, monkeypatch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a one-CPU Ray task, so the arithmetic is the same
    try:
        local = matrix("local")
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "ray-home"))
    bench.reset()
    on_ray = matrix("ray")
    assert len(local) == 2 * 2 * 2 * 9  # models x sources x targets x metrics
    assert on_ray == local


def test_a_killed_ray_worker_still_finishes_its_cell_exactly_once(tiny_world, tmp_path,
                                                                  bench_home):
    pid_file = tmp_path / "pids"
    env = {**os.environ, "TINY_PID_FILE": str(pid_file)}
    argv = [sys.executable, "-m", "bench.cli", "run", "--executor", "ray", "--model", "slow",
            "--source", "colours-a", "--target", "colours-a,colours-b", "--protocol", "quick",
            "--epochs", "3", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
            "--json"]
    driver = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not list(bench_home.glob("runs/*/last.pt")) and time.time() < deadline:
        assert driver.poll() is None, driver.stderr.read().decode()
        time.sleep(0.05)
    worker = int(pid_file.read_text().split()[0])
    os.kill(worker, signal.SIGKILL)
    out, err = driver.communicate(timeout=180)
    assert driver.returncode == 0, err.decode()
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(set(pids)) >= 2 and worker in pids  # the cell was retried in another worker
    store = bench.open_store()
    runs = store.runs()
    assert runs.status.tolist() == ["finished"]
    assert len(store.scores()) == 2 * 9
    assert len(store.run(runs.id[0])["epoch_log"]) == 3
