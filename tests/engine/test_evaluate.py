"""`bench evaluate`: finished cells tested on a data set prepared after training, no training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fixtures.cli import invoke
from sklearn import metrics as skm

import bench
from bench.data import prepare_dataset
from bench.engine.finished_cells import EvaluateRequest, evaluate_cells
from bench.errors import RunError

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--epochs", "2", "--json"]


@pytest.fixture
def trained(tiny_world: Path, bench_home: Path, tmp_path: Path) -> Path:
    """tiny trained on colours-a alone; colours-b comes out (and is prepared) only afterwards."""
    later = tmp_path / "later"
    later.mkdir()
    shutil.move(tiny_world / "colours-b", later / "colours-b")  # not downloaded yet
    shutil.rmtree(bench_home / "datasets" / "colours-b")
    bench.reset()
    result = invoke(*RUN, "--model", "tiny", "--source", "colours-a")
    assert result.exit_code == 0, result.output
    assert set(bench.open_store().evaluated_targets(_run_id())) == {"colours-a"}
    shutil.move(later / "colours-b", tiny_world / "colours-b")
    prepare_dataset("colours-b", progress=False)
    return tiny_world


def _run_id() -> str:
    return bench.open_store().runs()["id"].item()


def evaluate(*args: str):
    return invoke("evaluate", *args)


def test_evaluate_scores_a_new_target_from_the_best_checkpoint_without_training(trained):
    store = bench.open_store()
    before = store.run(_run_id())
    result = evaluate("--model", "tiny", "--source", "colours-a", "--target", "colours-b", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["status"] == "finished" and "colours-b" in row["scores"]
    after = store.run(_run_id())
    assert len(store.runs()) == 1  # no new run
    assert after["epoch_log"] == before["epoch_log"] and after["epochs"] == 2  # no new epoch
    assert set(store.evaluated_targets(after["id"])) == {"colours-a", "colours-b"}
    scores = store.scores()
    stored = scores[scores.target == "colours-b"]
    values = dict(zip(stored.metric, stored.value, strict=True))
    predictions = store.predictions(after["id"], "colours-b")
    assert len(predictions) == len(bench.data.load_prepared("colours-b").split("test"))
    assert values["f1"] == pytest.approx(skm.f1_score(predictions.label, predictions.predicted,
                                                      average="weighted"))
    assert row["scores"]["colours-b"]["f1"] == pytest.approx(values["f1"])
    board = invoke("leaderboard", "--cross", "--format", "md")
    assert board.exit_code == 0, board.output
    assert f"{100 * values['f1']:.1f}" in board.stdout and "colours-b" in board.stdout


def test_evaluate_skips_scored_targets_unless_forced(trained):
    args = ("--model", "tiny", "--source", "colours-a", "--target", "all", "--json")
    first = json.loads(evaluate(*args).stdout)
    assert first[0]["status"] == "finished"
    assert first[0]["detail"] == "tested on colours-b (no training)"  # colours-a had scores
    again = evaluate(*args)
    assert again.exit_code == 0
    assert json.loads(again.stdout)[0]["status"] == "skipped"
    forced = json.loads(evaluate(*args, "--force").stdout)
    assert forced[0]["status"] == "finished"
    assert set(forced[0]["scores"]) == {"colours-a", "colours-b"}
    table = evaluate(*args[:-1], "--force")  # as a person sees it: F1 per target
    assert table.exit_code == 0, table.output
    assert "f1 colours-a" in table.stdout and "f1 colours-b" in table.stdout
    assert f"{100 * forced[0]['scores']['colours-b']['f1']:.1f}" in table.stdout


def test_the_scores_equal_those_of_a_run_that_tested_there_while_training(trained, tmp_path,
                                                                          monkeypatch):
    [result] = evaluate_cells(EvaluateRequest(models=["tiny"], sources=["colours-a"],
                                              targets=["colours-b"]))
    assert result.status == "finished"
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "at-once"))
    bench.reset()
    ran = invoke(*RUN, "--model", "tiny", "--source", "colours-a",
                 "--target", "colours-a,colours-b")
    assert ran.exit_code == 0, ran.output
    scores = bench.open_store().scores()
    at_once = scores[scores.target == "colours-b"].set_index("metric").value.to_dict()
    assert result.scores["colours-b"] == pytest.approx(at_once)


def test_a_cell_never_trained_is_named_with_the_command_that_trains_it(trained):
    result = evaluate("--model", "tiny", "--source", "colours-b", "--target", "colours-a")
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "tiny on colours-b" in message
    assert "`bench run --model tiny --source colours-b`" in message
    with pytest.raises(RunError, match=r"tiny on colours-a \(seed 3\).*--seed 3"):
        evaluate_cells(EvaluateRequest(models=["tiny"], sources=["colours-a"],
                                       targets=["colours-b"], seeds=[3]))
    other = evaluate("--model", "tiny", "--source", "colours-a", "--protocol", "zedda2024")
    assert other.exit_code == 1  # trained under quick only
    assert "--protocol zedda2024`" in " ".join(other.stderr.split())
    assert set(bench.open_store().evaluated_targets(_run_id())) == {"colours-a"}


def test_with_all_a_cell_never_trained_is_a_notice_and_the_trained_ones_are_tested(trained):
    from bench.engine.run_display import QuietListener

    listener = QuietListener()
    results = evaluate_cells(EvaluateRequest(models=["tiny"], sources=["all"],
                                             targets=["colours-b"]), listener)
    assert [(r.source, r.status) for r in results] == [("colours-a", "finished")]
    assert any("tiny on colours-b" in notice for notice in listener.notices)
