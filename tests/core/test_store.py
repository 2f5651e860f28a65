"""The results store: process-safe claims, all-or-nothing writes, identical reads elsewhere."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import bench

CELL = bench.Cell("resnet152", "pbc", 0, "zedda2024", "abc123", "fp-pbc")


def evaluation(target: str = "pbc", accuracy: float = 0.9) -> bench.Evaluation:
    return bench.Evaluation(
        target=target,
        split_fingerprint=f"fp-{target}",
        metrics={"accuracy": accuracy, "f1": accuracy - 0.01},
        per_class={"f1": {"L": 0.8, "M": 1.0}},
        labels=["L", "M"],
        support={"L": 3, "M": 2},
        confusion=[[2, 1], [0, 2]],
        predictions=[("L/a.png", 0, 0, [0.9, 0.1]), ("M/b.png", 1, 1, [0.2, 0.8])],
    )


WRITER = """
import sys, bench
store = bench.open_store(sys.argv[1])
cell = bench.Cell("resnet152", "pbc", 0, "zedda2024", "abc123", "fp-pbc")
run = store.claim(cell, settings={"epochs": 2}, provenance={"git_revision": "x"})
store.record_epoch(run, 1, {"train_loss": 0.5, "val_f1": 0.75})
store.finish(run, [bench.Evaluation("pbc", "fp-pbc", {"accuracy": 0.125, "f1": 1/3},
    ["L", "M"], {"L": 3, "M": 2}, [[2, 1], [0, 2]], {"f1": {"L": 0.1}},
    [("L/a.png", 0, 0, [0.9, 0.1])])], epochs=1, best_epoch=1, checkpoint="best.pt")
"""


def test_results_written_by_one_process_are_read_back_identically_by_another(tmp_path):
    path = tmp_path / "results.sqlite"
    subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True)
    store = bench.open_store(path)
    scores = store.scores()
    assert scores[["target", "metric", "value"]].values.tolist() == [
        ["pbc", "accuracy", 0.125],
        ["pbc", "f1", 1 / 3],
    ]
    assert scores.loc[scores.metric == "f1", "per_class"].item() == {"L": 0.1}
    assert scores.loc[scores.metric == "accuracy", "per_class"].item() is None
    run = store.run(CELL.id[:6])
    assert run["status"] == "finished" and run["best_epoch"] == 1
    assert run["settings"] == {"epochs": 2}
    assert run["epoch_log"] == [{"epoch": 1, "train_loss": 0.5, "val_f1": 0.75}]
    assert store.evaluations(CELL.id)[0]["confusion"] == [[2, 1], [0, 2]]
    assert store.predictions(CELL.id)["probabilities"].tolist() == [[0.9, 0.1]]


def test_a_finished_cell_is_never_claimed_again(tmp_path):
    store = bench.open_store(tmp_path / "r.sqlite")
    run = store.claim(CELL)
    store.finish(run, [evaluation()])
    assert store.claim(CELL) is None
    assert len(store.runs()) == 1


def test_a_live_cell_belongs_to_its_owner_until_its_heartbeat_goes_stale(tmp_path):
    store = bench.open_store(tmp_path / "r.sqlite")
    assert store.claim(CELL, owner="host:1") == CELL.id
    assert store.claim(CELL, owner="host:2") is None
    time.sleep(0.05)
    assert store.claim(CELL, owner="host:2", stale_after=0.01) == CELL.id


def test_failed_cells_are_retried_only_when_asked(tmp_path):
    store = bench.open_store(tmp_path / "r.sqlite")
    store.fail(store.claim(CELL), "loss became NaN at epoch 3")
    assert store.run(CELL.id)["error"] == "loss became NaN at epoch 3"
    assert store.claim(CELL, retry_failed=False) is None
    assert store.claim(CELL) == CELL.id


def test_an_interrupted_finish_leaves_no_half_written_result(tmp_path):
    store = bench.open_store(tmp_path / "r.sqlite")
    run = store.claim(CELL)
    broken = evaluation("aml")
    broken.predictions = [("x.png", 0, 0, [0.5]), ("x.png", 0, 0, [0.5])]  # duplicate key
    with pytest.raises(Exception, match="UNIQUE"):
        store.finish(run, [evaluation("pbc"), broken])
    assert store.scores().empty
    assert store.run(run)["status"] == "running"


OPENER = """
import sys, time, bench
while time.time() < float(sys.argv[2]):
    pass
bench.open_store(sys.argv[1]).claim(bench.Cell("m", "s", int(sys.argv[3]), "p", "h", "fp"))
"""


def test_processes_creating_one_new_store_at_the_same_instant_all_succeed(tmp_path):
    for round_ in range(3):
        path = tmp_path / f"fresh-{round_}.sqlite"
        start = str(time.time() + 2.0)  # every process past its imports, then all at once
        processes = [subprocess.Popen([sys.executable, "-c", OPENER, str(path), start, str(k)],
                                      stderr=subprocess.PIPE, text=True) for k in range(4)]
        errors = [p.communicate(timeout=60)[1] for p in processes]
        assert all(p.returncode == 0 for p in processes), errors
        assert len(bench.open_store(path).runs()) == 4
