"""A damaged or read-only results store: every command names the file and the fix."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench
from bench.store import StoreError

METRICS = ("accuracy", "precision", "recall", "f1", "macro_f1", "balanced_accuracy")


def _filled_store(path: Path) -> None:
    """A store of several pages: one finished run with 300 stored predictions."""
    store = bench.open_store(path)
    run_id = store.claim(bench.Cell("m", "s", 0, "p", "h", "fp"))
    predictions = [(f"img{i:04d}.png", i % 5, i % 5, [0.2] * 5) for i in range(300)]
    store.finish(run_id, [bench.Evaluation("t", "tfp", dict.fromkeys(METRICS, 1.0),
                                           ["L"], {"L": 300}, [[300]],
                                           predictions=predictions)])


def _damage(path: Path, kind: str) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(8192))
    else:
        _filled_store(path)
        data = path.read_bytes()
        assert len(data) > 4 * 4096
        path.write_bytes(data[: len(data) // 2])


COMMANDS = [["runs", "list"], ["runs", "show", "abc"], ["leaderboard"],
            ["run", "--model", "tiny", "--source", "colours-a"]]


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated"])
def test_every_command_names_a_damaged_store_and_never_overwrites_it(bench_home, kind):
    path = bench_home / "results.sqlite"
    _damage(path, kind)
    before = path.read_bytes()
    for command in COMMANDS:
        result = invoke(*command)
        assert result.exit_code == 1, (command, result.output)
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
        flat = " ".join(result.output.split())
        assert f"the results store {path} is damaged" in flat, (command, flat)
        assert f"mv {path} {path}.damaged" in flat
    assert path.read_bytes() == before  # not "repaired", not replaced by a new store
    assert not path.with_name("results.sqlite-wal").exists()
    with pytest.raises(StoreError, match="empty, 0 bytes" if kind == "empty" else "damaged"):
        bench.open_store(path)


def test_a_new_store_is_made_whole_and_reading_writes_nothing(bench_home):
    path = bench_home / "results.sqlite"
    listed = invoke("runs", "list", "--json")
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]"
    assert not path.exists()  # a read-only command created nothing
    store = bench.open_store()
    assert path.stat().st_size > 0 and store.runs().empty
    assert [p.name for p in bench_home.iterdir() if p.name.endswith(".new")] == []


@contextlib.contextmanager
def read_only(*paths: Path):
    """Make paths read-only for this process (root ignores modes: use the immutable flag)."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    flagged = []
    try:
        for path in paths:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
                pytest.skip("running as root without chattr: cannot make a file read-only")
            flagged.append(path)
        yield
    finally:
        for path in flagged:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_a_read_only_home_still_lists_runs_and_refuses_a_run_before_training(bench_home):
    _filled_store(bench_home / "results.sqlite")
    with contextlib.closing(__import__("sqlite3").connect(bench_home / "results.sqlite")) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for leftover in bench_home.glob("results.sqlite-*"):
        leftover.unlink()
    path = bench_home / "results.sqlite"
    with read_only(path, bench_home):
        listed = invoke("runs", "list", "--json")
        assert listed.exit_code == 0, listed.output
        assert '"status": "finished"' in listed.stdout
        assert bench.open_store(read_only=True).scores().value.tolist() == [1.0] * len(METRICS)
        board = invoke("leaderboard", "--cross", "--format", "csv")
        assert board.exit_code == 0 and "100.0" in board.output, board.output
        with pytest.raises(StoreError, match="is read-only") as error:
            bench.open_store(path)
        assert "BENCH_HOME" in str(error.value) and str(path) in str(error.value)
