"""What a cell is: the recipe and the initialisation are part of it; a corrected failure reruns."""

from __future__ import annotations

import hashlib
import json
import shlex
import sqlite3

from fixtures.cli import invoke

import bench
import bench.data
from bench.leaderboard import BoardRequest, make_boards
from bench.weights import file_sha256

CELL = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--epochs", "1",
        "--model", "tiny", "--source", "colours-a", "--target", "colours-a"]
OVERRIDES = "training.batch_size=8, training.max_epochs=1, input.size=16"


def markdown_boards() -> str:
    text = invoke("leaderboard", "--cross", "--format", "md").stdout
    return text.replace("\\_", "_")  # markdown escapes the underscores of field names


def bench_run(*args: str, as_json: bool = True):
    return invoke(*CELL, *args, *(["--json"] if as_json else []))


def statuses(result) -> list[str]:
    return [row["status"] for row in json.loads(result.stdout)]


def save_tiny_weights(path) -> None:
    import torch
    from tiny_world_plugin import tiny

    torch.save(tiny(5, False).state_dict(), path)


def no_training(monkeypatch) -> None:
    from bench.engine import training

    def trained(*args, **kwargs):
        raise AssertionError("an epoch was trained")

    monkeypatch.setattr(training._Trainer, "_train_epoch", trained)


def test_scratch_pretrained_and_weights_runs_of_one_cell_all_train_into_boards_of_their_own(
        tiny_world, tmp_path):
    weights = tmp_path / "tiny.pt"
    save_tiny_weights(weights)
    for init in (["--no-pretrained"], [], ["--weights", str(weights)]):
        result = bench_run(*init)
        assert result.exit_code == 0, result.output
        assert statuses(result) == ["finished"], result.output  # none skipped as "finished"
    runs = bench.open_store().runs()
    sha = file_sha256(weights)[:12]
    assert sorted(runs.init) == sorted(["pretrained", "scratch", f"weights:{sha}"])
    assert runs.id.nunique() == 3 and set(runs.status) == {"finished"}

    board_set = make_boards(BoardRequest(cross=True))
    assert len(board_set.boards) == 3  # never mixed in one board
    assert sorted(group.init for group in board_set.groups) == sorted(runs.init)
    for group in board_set.groups:
        assert group.cross.run_id.nunique() == 1
    text = markdown_boards()
    assert text.count("# Leaderboard") == 3
    for recipe in ("from scratch", f"weights file sha256 {sha}"):
        assert f"- Recipe: quick with {OVERRIDES}; {recipe}\n" in text
    assert f"- Recipe: quick with {OVERRIDES}\n" in text  # the model's own pretrained weights

    listed = json.loads(invoke("runs", "list", "--all", "--json").stdout)
    assert sorted(row["init"] for row in listed) == sorted(runs.init)
    scratch = runs.id[runs.init == "scratch"].iloc[0]
    shown = invoke("runs", "show", scratch)
    assert "init: scratch" in shown.output and f"overrides: {OVERRIDES}" in shown.output
    # The epoch table rounds as boards do: losses to 4 places, validation F1 in %.
    epoch = json.loads(invoke("runs", "show", scratch, "--json").stdout)["epoch_log"][0]
    line = next(row.split() for row in shown.output.splitlines() if row.split()[:1] == ["1"])
    assert line[1:4] == [f"{epoch['train_loss']:.4f}", f"{epoch['val_loss']:.4f}",
                         f"{100 * epoch['val_accuracy']:.1f}"]
    assert "val F1 (%)" in shown.output


def test_an_overridden_protocol_names_its_overrides_in_the_board_header(tiny_world):
    assert bench_run("--no-pretrained").exit_code == 0
    text = markdown_boards()
    protocol = bench.load_protocol("quick").with_overrides(
        training={"max_epochs": 1, "batch_size": 8}, input={"size": 16})
    assert text.startswith(f"# Leaderboard, protocol quick ({protocol.hash}), with {OVERRIDES}; "
                           f"from scratch\n")
    assert f"- Recipe: quick with {OVERRIDES}; from scratch\n" in text
    html = invoke("leaderboard", "--cross", "--format", "html").stdout
    assert f"quick with {OVERRIDES}; from scratch" in html


def old_id(row: sqlite3.Row) -> str:
    """The cell id as bench computed it before a cell covered its initialisation."""
    key = "|".join([row["model"], row["source"], str(row["seed"]), row["protocol_hash"],
                    row["split_fingerprint"]])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def make_old_store(path) -> None:
    """Rewrite a store as an older bench left it: old ids, no init or overrides column."""
    db = sqlite3.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("BEGIN")
    db.execute("PRAGMA defer_foreign_keys=ON")
    for row in db.execute("SELECT * FROM runs").fetchall():
        for table, column in (("runs", "id"), ("epochs", "run_id"), ("evaluations", "run_id"),
                              ("scores", "run_id"), ("predictions", "run_id")):
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",  # noqa: S608
                       (old_id(row), row["id"]))
    db.execute("ALTER TABLE runs DROP COLUMN init")
    db.execute("ALTER TABLE runs DROP COLUMN overrides")
    db.execute("PRAGMA user_version = 0")
    db.execute("COMMIT")
    db.close()


def test_an_older_store_keeps_its_finished_cells_and_learns_their_initialisation(
        tiny_world, bench_home, monkeypatch):
    assert bench_run("--seed", "0").exit_code == 0
    assert bench_run("--no-pretrained", "--seed", "1").exit_code == 0
    store = bench.open_store()
    before = store.runs().set_index("init").id.to_dict()
    scores = len(store.scores())
    path = bench_home / "results.sqlite"
    make_old_store(path)
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM runs").fetchall()
    # The default cell's id is the same under the old formula: nothing to re-key for it.
    assert before["pretrained"] in {old_id(row) for row in rows}
    assert before["scratch"] not in {row["id"] for row in rows}

    # Read-only commands read the older store as it is, initialisations derived from settings.
    listed = json.loads(invoke("runs", "list", "--all", "--json").stdout)
    assert sorted(row["init"] for row in listed) == ["pretrained", "scratch"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # not written

    with monkeypatch.context() as patch:
        no_training(patch)
        for args in (["--seed", "0"], ["--no-pretrained", "--seed", "1"]):
            again = bench_run(*args)
            assert again.exit_code == 0, again.output
            assert statuses(again) == ["skipped"] and "already finished" in again.output
    store = bench.open_store()
    assert store.runs().set_index("init").id.to_dict() == before  # re-keyed to the new ids
    assert len(store.scores()) == scores  # every score followed its run
    assert len(make_boards(BoardRequest(cross=True), store=store).boards) == 2
    # The scratch run no longer holds the pretrained cell of its seed.
    pretrained = bench_run("--seed", "1")
    assert pretrained.exit_code == 0 and statuses(pretrained) == ["finished"]


def fail_on_cuda(monkeypatch) -> None:
    """A machine without CUDA, where `--device cuda` gets past the checks made before cells.

    (As on Ray, where each cell checks its device on the machine it lands on.)
    """
    from bench.engine import options, training

    real = training.resolve_device

    def resolve(requested: str):
        if requested == "cuda":
            raise bench.RunError("--device cuda was asked for, but torch sees no CUDA device here")
        return real(requested)

    monkeypatch.setattr(options, "check_device", lambda device: None)
    monkeypatch.setattr(training, "resolve_device", resolve)


def test_a_cell_that_failed_on_a_missing_device_trains_once_the_device_is_corrected(
        tiny_world, monkeypatch):
    fail_on_cuda(monkeypatch)
    failed = bench_run("--no-pretrained", "--device", "cuda")
    assert failed.exit_code == 1 and statuses(failed) == ["failed"]
    run = bench.open_store().run(bench.open_store().runs().id.iloc[0])
    assert run["settings"]["device"] == "cuda"  # recorded with the failure
    assert "no CUDA device" in run["error"]

    corrected = bench_run("--no-pretrained", "--device", "cpu", as_json=False)
    assert corrected.exit_code == 0, corrected.output  # without --retry-failed
    said = " ".join(corrected.output.split())
    assert "settings changed: device cuda -> cpu" in said
    assert "finished tiny on colours-a (seed 0)" in said
    runs = bench.open_store().runs()
    assert len(runs) == 1 and runs.status.tolist() == ["finished"]


def test_an_unchanged_rerun_of_a_failed_cell_skips_it_and_exits_1_with_the_retry_command(
        tiny_world, monkeypatch):
    fail_on_cuda(monkeypatch)
    args = ["--no-pretrained", "--device", "cuda"]
    assert bench_run(*args).exit_code == 1
    again = bench_run(*args)
    assert again.exit_code == 1
    assert statuses(again) == ["skipped"]
    last = again.stderr.strip().splitlines()[-1]
    assert "1 cell(s) skipped as failed before under the same settings (tiny on colours-a " \
           "(seed 0)" in last
    assert shlex.join(["bench", *CELL, *args, "--json", "--retry-failed"]) in last
    retried = bench_run(*args, "--retry-failed")  # still the same cause: it fails again
    assert retried.exit_code == 1 and statuses(retried) == ["failed"]


def leave_folder_under_old_id(bench_home, run_id: str) -> str:
    """Put a run's checkpoint folder (and recorded best checkpoint) back under its old id."""
    store = bench.open_store()
    run = store.run(run_id)
    old, runs = old_id(run), bench_home / "runs"
    (runs / run_id).rename(runs / old)
    with sqlite3.connect(bench_home / "results.sqlite") as db:
        db.execute("UPDATE runs SET checkpoint = ? WHERE id = ?",
                   (str(runs / old / "best.pt"), run_id))
    return old


def set_version(path, version: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {version}")


def test_migrating_an_older_store_moves_checkpoint_folders_with_their_runs(
        tiny_world, bench_home):
    assert bench_run("--no-pretrained").exit_code == 0
    new = bench.open_store().runs().id.iloc[0]
    old = leave_folder_under_old_id(bench_home, new)
    make_old_store(bench_home / "results.sqlite")  # the run is keyed by its old id again
    runs = bench_home / "runs"

    store = bench.open_store()  # migrates
    assert store.runs().id.tolist() == [new]
    assert not (runs / old).exists() and (runs / new / "best.pt").is_file()
    assert store.run(new)["checkpoint"] == str(runs / new / "best.pt")
    pruned = json.loads(invoke("runs", "prune", "--dry-run", "--json").stdout)
    assert [c["path"] for c in pruned["checkpoints"]] == [str(runs / new / "last.pt")]
    forgot = invoke("runs", "forget", new[:8])
    assert forgot.exit_code == 0 and str(runs / new) in " ".join(forgot.output.split())
    assert not (runs / new).exists()


def test_a_store_migrated_without_its_folders_is_healed(tiny_world, bench_home):
    for seed in ("0", "1"):
        assert bench_run("--no-pretrained", "--seed", seed).exit_code == 0
    ids = bench.open_store().runs().set_index("seed").id.to_dict()
    runs, path = bench_home / "runs", bench_home / "results.sqlite"
    # Since the first migration the default cell of seed 1 was claimed: it holds the old id.
    run = bench.open_store().run(ids[1])
    pretrained = bench.Cell(*(run[key] for key in ("model", "source", "seed", "protocol",
                                                    "protocol_hash", "split_fingerprint")))
    bench.open_store().claim(pretrained)
    old = {seed: leave_folder_under_old_id(bench_home, run_id) for seed, run_id in ids.items()}
    assert old[1] == pretrained.id
    set_version(path, 1)  # what the first migration left: new ids, folders under the old ones

    store = bench.open_store()  # heals
    assert (runs / ids[0] / "best.pt").is_file() and not (runs / old[0]).exists()
    assert store.run(ids[0])["checkpoint"] == str(runs / ids[0] / "best.pt")
    assert (runs / old[1] / "best.pt").is_file() and not (runs / ids[1]).exists()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
