"""A full disk is a full disk, not a damaged store: each test fills a real (tmpfs) file system.

A tmpfs of a few megabytes is mounted in a user namespace (``unshare -rm``), the data home is
copied onto it and the disk is filled; what the commands say, and what is left afterwards, is
copied back out for the test to read.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench.store import ResultsStore, translate_error

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json", "--model", "tiny", "--source", "colours-a", "--target", "colours-a",
       "--epochs", "3"]

# Fills the disk the moment epoch 2's checkpoint is written, then fails as torch.save does.
CHECKPOINT_FILLS_DISK = '''
import errno, os, sys
from pathlib import Path
import torch
from bench.cli import cli

real_save = torch.save


def save(state, path, *args, **kwargs):
    if Path(path).name == "last.partial" and state.get("epoch") == 2:
        handle = os.open(os.path.join(os.environ["BENCH_HOME"], "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(handle, bytes(1 << 16))
        except OSError:
            pass
        finally:
            os.close(handle)
        raise OSError(errno.ENOSPC, "No space left on device")
    return real_save(state, path, *args, **kwargs)


torch.save = save
cli(sys.argv[1:])
'''


def on_a_full_disk(tmp_path: Path, home: Path, steps: list[str], room: int = 8 << 20
                   ) -> list[dict]:
    """Run shell ``steps`` with BENCH_HOME on a tmpfs copy of ``home``; copy it back to ``home``.

    The tmpfs holds ``home`` and ``room`` bytes more.

    Each step's exit code and output come back, in order; skipped where no tmpfs can be made.
    """
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) to mount a small file system")
    disk, logs = tmp_path / "disk", tmp_path / "logs"
    disk.mkdir()
    logs.mkdir()
    size = sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) + room
    lines = [f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(disk))}",
             f"cp -a {shlex.quote(str(home))}/. {shlex.quote(str(disk))}/"]
    for number, step in enumerate(steps):
        log = shlex.quote(str(logs / str(number)))
        lines.append(f"( {step} ) >{log}.out 2>&1; echo $? >{log}.rc")
    lines.append(f"rm -rf {shlex.quote(str(home))}/* && cp -a {shlex.quote(str(disk))}/. "
                 f"{shlex.quote(str(home))}/")
    env = {**__import__("os").environ, "BENCH_HOME": str(disk)}
    result = subprocess.run(["unshare", "-rm", "sh", "-c", " && ".join(lines[:2]) + "; "
                             + "; ".join(lines[2:])], capture_output=True, text=True, env=env)
    if not (logs / "0.rc").exists():
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return [{"rc": int((logs / f"{n}.rc").read_text()),
             "output": " ".join((logs / f"{n}.out").read_text().split())}
            for n in range(len(steps))]


def fill(disk_variable: str = "$BENCH_HOME") -> str:
    return f"dd if=/dev/zero of={disk_variable}/filler bs=64k 2>/dev/null; true"


def bench_command(*args: str) -> str:
    return shlex.join([sys.executable, "-m", "bench.cli", *args])


def test_a_checkpoint_that_fills_the_disk_is_no_space_left_and_the_run_resumes(
        tiny_world, bench_home, tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(CHECKPOINT_FILLS_DISK)
    steps = on_a_full_disk(tmp_path, bench_home, [
        shlex.join([sys.executable, str(driver), *RUN]),
        bench_command("runs", "list", "--json"),  # a read-only command on the full disk
        'rm "$BENCH_HOME/filler"',
        bench_command(*RUN),
    ])
    failed, listed, _, resumed = steps
    assert failed["rc"] == 1, failed["output"]
    assert "no space left on" in failed["output"] and "is damaged" not in failed["output"]
    assert "Traceback" not in failed["output"]
    assert listed["rc"] == 0, listed["output"]
    assert '"status": "interrupted"' in listed["output"]  # its process ended on the full disk
    assert resumed["rc"] == 0, resumed["output"]
    store = bench.open_store()
    run = store.run(store.runs().id.iloc[0])
    assert run["status"] == "finished" and [e["epoch"] for e in run["epoch_log"]] == [1, 2, 3]
    assert not list((bench_home / "runs" / run["id"]).glob("*.partial"))


def _store_with_runs(path: Path) -> str:
    store = bench.open_store(path)
    run_id = store.claim(bench.Cell("m", "s", 0, "p", "h", "fp"))
    store.finish(run_id, [bench.Evaluation("t", "tfp", {"accuracy": 1.0}, ["L"], {"L": 3},
                                           [[3]])])
    store.claim(bench.Cell("m", "s", 1, "p", "h", "fp"))
    return run_id


def test_reading_on_a_full_disk_works_and_writing_says_no_space_left(bench_home, tmp_path):
    finished = _store_with_runs(bench_home / "results.sqlite")
    before = bench.open_store().runs().to_json()
    write = ("import bench, sys; store = bench.open_store(); "
             "store.fail(store.runs().id.iloc[1], 'x')")
    steps = on_a_full_disk(tmp_path, bench_home, [
        fill(),
        bench_command("runs", "list", "--json"),
        bench_command("runs", "show", finished[:8], "--json"),
        shlex.join([sys.executable, "-c", write]),
        bench_command("run", "--model", "tiny", "--source", "s"),
    ], room=1 << 20)
    _, listed, shown, written, run = steps
    assert listed["rc"] == 0 and len(json.loads(listed["output"])) == 2, listed["output"]
    assert shown["rc"] == 0 and finished in shown["output"], shown["output"]
    assert written["rc"] == 1 and "StoreError: no space left on" in written["output"]
    assert run["rc"] == 1 and "Error: no space left on" in run["output"], run["output"]
    for step in steps:
        assert "is damaged" not in step["output"] and "Move it aside" not in step["output"]
    assert bench.open_store().runs().to_json() == before  # nothing lost or changed


def test_an_io_error_on_an_intact_store_is_not_called_damage(bench_home):
    path = bench_home / "results.sqlite"
    _store_with_runs(path)
    error = sqlite3.OperationalError("disk I/O error")
    message = str(translate_error(error, path))
    assert "passes SQLite's integrity check" in message and "not damaged" in message
    assert "Move it aside" not in message


def test_a_store_that_fails_the_integrity_check_is_damaged(bench_home):
    path = bench_home / "results.sqlite"
    _store_with_runs(path)
    ResultsStore(path)  # closed: the log is folded into the file
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) >= 3 * page
    data[2 * page + 8: 3 * page] = bytes(page - 8)  # a table page's cells wiped, header kept
    path.write_bytes(bytes(data))
    message = str(translate_error(sqlite3.OperationalError("disk I/O error"), path))
    assert f"the results store {path} is damaged" in message
