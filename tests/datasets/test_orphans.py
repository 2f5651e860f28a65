"""A killed prepare leaves no live workers and no work files that outlast the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import bench
from bench.data import prepare_dataset
from bench.data.layout import DatasetFolder

CLASSES = ("lymphocyte", "monocyte", "neutrophil", "eosinophil", "basophil")


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait_gone(sid: int, seconds: float = 5.0) -> list[int]:
    deadline = time.time() + seconds
    while (alive := _session(sid)) and time.time() < deadline:
        time.sleep(0.1)
    return alive


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_pool_workers_die_with_a_killed_parent():
    code = textwrap.dedent("""
        import os, sys, time
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing
        from bench.data.parallel import die_with_parent
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
        list(pool.map(abs, range(4)))
        print("ready", flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert parent.stdout.readline().strip() == "ready"
    assert len(_session(parent.pid)) >= 3  # the parent, two workers (and a resource tracker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_gone(parent.pid) == []


def test_a_work_folder_of_a_dead_process_is_removed_and_a_live_one_kept(bench_home):
    folder = DatasetFolder.of("x", create=True)
    hold = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from bench.data.layout import DatasetFolder
        work = DatasetFolder(Path({str(folder.root)!r})).temporary(sys.argv[1])
        print(work, flush=True)
        if sys.argv[1] == "dead":
            os._exit(0)  # as after kill -9: no clean-up ran
        time.sleep(60)
    """)
    dead = subprocess.run([sys.executable, "-c", hold, "dead"], capture_output=True, text=True)
    live = subprocess.Popen([sys.executable, "-c", hold, "live"], stdout=subprocess.PIPE,
                            text=True)
    try:
        dead_folder, live_folder = Path(dead.stdout.strip()), Path(live.stdout.readline().strip())
        old = time.time() - 60
        for path in (dead_folder, live_folder):
            os.utime(path, (old, old))
        folder.remove_leftovers()
        assert not dead_folder.exists() and live_folder.is_dir()
    finally:
        live.kill()
        live.wait()


@pytest.mark.slow
def test_kill_9_of_prepare_leaves_no_process_and_the_rerun_gives_the_same_split(
        tmp_path, bench_home, monkeypatch):
    source = tmp_path / "cells"
    rng = np.random.default_rng(0)
    for index in range(2000):
        folder = source / CLASSES[index % 5]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index:04d}.png", compress_level=0)
    name = f"folder:{source}"
    argv = [sys.executable, "-m", "bench.cli", "datasets", "prepare", name, "--json"]
    parent = subprocess.Popen(argv, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while len(_children(parent.pid)) < 2 and time.time() < deadline:  # decoding on workers
        assert parent.poll() is None, "prepare ended before its workers could be seen"
        time.sleep(0.01)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    started = time.time()
    assert _wait_gone(parent.pid) == [], "workers outlived the killed prepare"
    gone_after = time.time() - started
    [dataset_folder] = (bench_home / "datasets").iterdir()
    assert list(dataset_folder.glob(".tmp-*"))  # the killed run's work folder is still there
    time.sleep(max(0.0, 2.1 - gone_after))

    rerun = subprocess.run(argv, env=os.environ.copy(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    resumed = bench.data.load_prepared(name)
    assert not list(dataset_folder.glob(".tmp-*"))

    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "clean-home"))
    bench.reset()
    clean = prepare_dataset(name, progress=False)
    assert resumed.fingerprint == clean.fingerprint
