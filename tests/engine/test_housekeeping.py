"""Housekeeping: forgetting runs, pruning checkpoints, removing data sets, interrupted runs."""

from __future__ import annotations

import json
import shlex
import socket
import sqlite3
import subprocess
import sys

import pytest
from fixtures.cli import invoke

import bench

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json", "--model", "tiny", "--epochs", "2"]


def train(source: str = "colours-a", seed: int = 0) -> dict:
    result = invoke(*RUN, "--source", source, "--target", "colours-a", "--seed", str(seed))
    assert result.exit_code == 0, result.output
    return bench.open_store().runs().set_index("seed").loc[seed].to_dict() | {"seed": seed}


def rows_of(bench_home, run_id: str) -> dict[str, int]:
    with sqlite3.connect(bench_home / "results.sqlite") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f"SELECT count(*) FROM {t} WHERE "  # noqa: S608
                              f"{'id' if t == 'runs' else 'run_id'} = ?", (run_id,)).fetchone()[0]
                for t in tables}


def dead_owner() -> str:
    """The owner string of a process on this host that has ended (a killed `bench run`)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def make_interrupted(bench_home, run_id: str) -> None:
    """Turn a run back into the row a `bench run` killed mid-training leaves."""
    with sqlite3.connect(bench_home / "results.sqlite") as db:
        db.execute("UPDATE runs SET status = 'running', owner = ?, finished = NULL WHERE id = ?",
                   (dead_owner(), run_id))


def test_forget_by_prefix_removes_every_row_and_the_checkpoint_folder(tiny_world, bench_home):
    kept = train(seed=1)
    run = train(seed=0)
    folder = bench_home / "runs" / run["id"]
    assert (folder / "best.pt").is_file()
    before = rows_of(bench_home, run["id"])
    assert all(before[t] > 0 for t in ("runs", "epochs", "evaluations", "scores", "predictions"))

    result = invoke("runs", "forget", run["id"][:7])
    assert result.exit_code == 0, result.output
    assert f"forgot {run['id']}" in result.output and str(folder) in " ".join(
        result.output.split())
    assert set(rows_of(bench_home, run["id"]).values()) == {0}
    assert not folder.exists()
    assert bench.open_store().runs().id.tolist() == [kept["id"]]  # the other run is untouched
    assert (bench_home / "runs" / kept["id"] / "best.pt").is_file()
    again = invoke("runs", "forget", run["id"][:7])
    assert again.exit_code == 1 and "bench runs list" in again.output


def test_a_run_still_training_is_not_forgotten(tiny_world, bench_home):
    cell = bench.Cell("tiny", "colours-a", 0, "quick", "h", "fp")
    store = bench.open_store()
    store.claim(cell)  # this process: alive, beating
    result = invoke("runs", "forget", cell.id)
    assert result.exit_code == 1
    assert "still training" in result.output and "nothing was removed" in result.output
    assert store.runs().status.tolist() == ["running"]
    assert invoke("runs", "forget").exit_code == 2  # neither ids nor --status: a usage error


def test_forget_status_failed_asks_first_and_keeps_the_rest(tiny_world, bench_home):
    finished = train()
    store = bench.open_store()
    failed = [bench.Cell("nan", "colours-a", seed, "quick", "h", "fp") for seed in (0, 1)]
    for cell in failed:
        store.fail(store.claim(cell), "loss became nan")
        (bench_home / "runs" / cell.id).mkdir(parents=True)
        (bench_home / "runs" / cell.id / "last.pt").write_bytes(b"x" * 10)

    declined = invoke("runs", "forget", "--status", "failed", input="n\n")
    assert declined.exit_code == 1 and len(store.runs("failed")) == 2  # nothing removed
    result = invoke("runs", "forget", "--status", "failed", input="y\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("forgot ") == 2
    assert store.runs().id.tolist() == [finished["id"]]
    assert not any((bench_home / "runs" / cell.id).exists() for cell in failed)
    nothing = invoke("runs", "forget", "--status", "failed", "--yes")
    assert nothing.exit_code == 0 and "no failed runs" in nothing.output


def test_a_dead_running_row_is_interrupted_and_its_resume_command_finishes_it(
    tiny_world, bench_home
):
    run = train(seed=3)
    alive = bench.Cell("tiny", "colours-b", 0, "quick", "h", "fp")
    bench.open_store().claim(alive)  # alive (this process): stays "running"
    make_interrupted(bench_home, run["id"])

    listed = json.loads(invoke("runs", "list", "--status", "interrupted", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(run["id"], "interrupted")]
    running = json.loads(invoke("runs", "list", "--status", "running", "--json").stdout)
    assert [r["id"] for r in running] == [alive.id]
    table = invoke("runs", "list")
    assert "interrupted" in table.output and "resume: bench run" in " ".join(table.output.split())
    shown = invoke("runs", "show", run["id"][:6])
    assert "status: interrupted" in shown.output and "resume: bench run" in shown.output

    command = shlex.split(listed[0]["resume"])
    assert command[:2] == ["bench", "run"] and "--no-pretrained" in command
    resumed = invoke(*command[1:], "--json")
    assert resumed.exit_code == 0, resumed.output
    runs = bench.open_store().runs().set_index("id")
    assert len(runs) == 2  # the same cell, taken up again: no new run
    assert runs.loc[run["id"], "status"] == "finished"


def test_forget_status_interrupted_forgets_only_dead_running_rows(tiny_world, bench_home):
    run = train(seed=3)
    make_interrupted(bench_home, run["id"])
    alive = bench.Cell("tiny", "colours-b", 0, "quick", "h", "fp")
    bench.open_store().claim(alive)
    result = invoke("runs", "forget", "--status", "interrupted", "--yes")
    assert result.exit_code == 0, result.output
    assert bench.open_store().runs().id.tolist() == [alive.id]


def test_prune_keeps_only_the_best_checkpoint_of_finished_runs(tiny_world, bench_home):
    run = train()
    folder = bench_home / "runs" / run["id"]
    last = folder / "last.pt"
    size = last.stat().st_size
    unfinished = bench.Cell("tiny", "colours-b", 0, "quick", "h", "fp")
    store = bench.open_store()
    store.fail(store.claim(unfinished), "interrupted by a full disk")
    (bench_home / "runs" / unfinished.id).mkdir()
    (bench_home / "runs" / unfinished.id / "last.pt").write_bytes(b"resume me")

    dry = invoke("runs", "prune", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    listed = json.loads(dry.stdout)
    assert [c["path"] for c in listed["checkpoints"]] == [str(last)]
    assert listed["bytes"] == size and last.is_file()

    pruned = invoke("runs", "prune")
    assert pruned.exit_code == 0, pruned.output
    assert "freed" in pruned.output and f"({size} bytes)" in pruned.output
    assert not last.exists() and (folder / "best.pt").is_file()
    assert (bench_home / "runs" / unfinished.id / "last.pt").is_file()  # it may resume
    # the best checkpoint is all re-testing needs: a new target is tested from it
    retest = invoke(*RUN, "--source", "colours-a", "--target", "colours-a,colours-b")
    assert retest.exit_code == 0, retest.output
    assert "tested on colours-b" in retest.output


def test_remove_a_prepared_data_set_keeps_the_download_and_the_scores(tiny_world, bench_home):
    train(source="colours-b")
    other = train(source="colours-a", seed=5)
    folder = bench_home / "datasets" / "colours-b"
    assert (folder / "manifest.csv").is_file()

    declined = invoke("datasets", "remove", "colours-b", input="n\n")
    assert declined.exit_code == 1 and folder.is_dir()
    result = invoke("datasets", "remove", "colours-b", input="y\n")
    assert result.exit_code == 0, result.output
    assert not folder.exists()
    assert (tiny_world / "colours-b" / "L").is_dir()  # the user's download is never touched
    assert "kept" in result.output and "runs forget --status stale" in " ".join(
        result.output.split())
    assert len(bench.open_store().scores()) > 0  # the scores stay
    with pytest.raises(bench.DataError, match="not prepared"):
        bench.kit.load_prepared("colours-b")

    unknown = invoke("datasets", "remove", "colours-b")
    assert unknown.exit_code == 1
    assert "not prepared" in unknown.output and "colours-a" in unknown.output
    # its runs are now stale, and forgetting stale runs forgets exactly them
    stale = invoke("runs", "forget", "--status", "stale", "--yes")
    assert stale.exit_code == 0, stale.output
    assert bench.open_store().runs().id.tolist() == [other["id"]]


def test_remove_a_generated_data_set_removes_its_images_too(bench_home):
    from bench.generation.datasets import generate_dataset

    generate_dataset("tiny-gen", train=10, test=5, size=40, workers=1)
    assert (bench_home / "datasets" / "tiny-gen" / "prepared.json").is_file()
    result = invoke("datasets", "remove", "tiny-gen", "--yes")
    assert result.exit_code == 0, result.output
    assert not (bench_home / "generated" / "tiny-gen").exists()
    assert not (bench_home / "datasets" / "tiny-gen").exists()
    bench.reset()
    assert "tiny-gen" not in [spec.name for spec in bench.get_registries().datasets]


def failed_cells(count: int, first: str | None = None) -> list[bench.Cell]:
    """Failed cells recorded in the store; with ``first``, ``count`` ids starting with it."""
    cells = [bench.Cell("tiny", "colours-a", seed, "quick", "h", "fp") for seed in range(200)]
    if first is not None:
        cells = [cell for cell in cells if cell.id.startswith(first)]
    store = bench.open_store()
    for cell in cells[:count]:
        store.fail(store.claim(cell), "failed")
    return cells[:count]


@pytest.mark.parametrize("pattern", ["%", "_", "%%", "_" * 16])
def test_a_prefix_is_literal_not_a_wildcard(bench_home, pattern):
    cells = failed_cells(1)
    result = invoke("runs", "forget", pattern)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"no single run matches {pattern!r}" in message and "hexadecimal" in message
    assert bench.open_store().runs().id.tolist() == [cells[0].id]
    assert invoke("runs", "show", pattern).exit_code == 1


def test_a_prefix_of_several_runs_lists_them_and_asks(bench_home):
    first = bench.Cell("tiny", "colours-a", 0, "quick", "h", "fp").id[0]
    cells = failed_cells(2, first)
    ids = sorted(cell.id for cell in cells)
    assert len(ids) == 2 and ids[0][0] == ids[1][0]

    shown = invoke("runs", "show", first)
    assert shown.exit_code == 1
    assert f"2 runs start with {first!r}" in shown.output and all(i in shown.output for i in ids)
    refused = invoke("runs", "forget", first)  # no answer (no terminal): nothing is forgotten
    assert refused.exit_code == 1 and all(i in refused.output for i in ids)
    assert "Nothing was forgotten" in refused.output and "--yes" in refused.output
    declined = invoke("runs", "forget", first, input="n\n")
    assert declined.exit_code == 1
    assert sorted(bench.open_store().runs().id) == ids
    agreed = invoke("runs", "forget", first, input="y\n")
    assert agreed.exit_code == 0 and agreed.output.count("forgot ") == 2
    assert bench.open_store().runs().empty
    failed_cells(2, first)
    assert invoke("runs", "forget", first, "--yes").exit_code == 0
    assert bench.open_store().runs().empty


def test_a_data_set_a_run_is_training_on_is_removed_only_with_force(tiny_world, bench_home):
    store = bench.open_store()
    training = bench.Cell("tiny", "colours-b", 0, "quick", "h", "fp")
    store.claim(training, settings={"targets": ["colours-a"]})  # this process: alive
    dead = bench.Cell("tiny", "colours-a", 1, "quick", "h", "fp")
    store.claim(dead)
    make_interrupted(bench_home, dead.id)  # a dead process holds nothing
    folders = {name: bench_home / "datasets" / name for name in ("colours-a", "colours-b")}

    for name in folders:  # trained on, and tested on at the end
        refused = invoke("datasets", "remove", name, "--yes")
        message = " ".join(refused.output.split())
        assert refused.exit_code == 1, message
        assert f"data set {name} is in use by a run still training: run {training.id}" in message
        assert "--force" in message and "Nothing was removed" in message
        assert dead.id not in message and folders[name].is_dir()
    forced = invoke("datasets", "remove", "colours-b", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert training.id in forced.output and "removed anyway" in forced.output
    assert not folders["colours-b"].exists()
    store.fail(training.id, "its data set was removed")
    assert invoke("datasets", "remove", "colours-a", "--yes").exit_code == 0
