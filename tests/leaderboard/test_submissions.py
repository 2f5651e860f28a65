"""Submissions whose scores are proven from their predictions (issues 26.1, 26.2, 26.4; 24.5, 24.9).

The submission is made as a third party makes one: a results store on WBC-USID (two models x
two sources, tested on both levels and on a shifted target), then `bench leaderboard --publish`.
Each doctored copy changes one thing and must fail `--check`, naming its row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.cli import invoke
from leaderboard_fixtures import FIXED_DATE
from prediction_fixtures import Predicted, write_predicted
from submission_fixtures import SHIFTED, TARGETS, TWO_BY_TWO, split_images, write_submitted

import bench
from bench.leaderboard import BoardRequest, make_boards, publish_checked
from bench.leaderboard.intervals import IntervalSettings, RunPredictions, bootstrap_cells
from bench.leaderboard.predictions import predictions_path, read_predictions
from bench.leaderboard.submissions.check import check_submission, failures
from bench.leaderboard.submissions.records import read_records
from bench.leaderboard.submissions.submit import PublishRefused
from bench.protocols import load_protocol
from bench.store import StoreError

FORMULA = "=cmd|' /C calc'!A0"


def run(*args: str):
    return invoke("leaderboard", *args)


def lines(result) -> list[str]:
    return result.output.splitlines()


def publish(store: Path, out: Path, *args: str):
    return run("--store", str(store), "--publish", "--out-dir", str(out), "--date", FIXED_DATE,
               "--targets", ",".join(TARGETS), *args)


@pytest.fixture
def submission(submitted_store: Path, tmp_path: Path) -> Path:
    result = publish(submitted_store, tmp_path / "leaderboards")
    assert result.exit_code == 0, result.output
    (records,) = (tmp_path / "leaderboards").glob("*.scores.csv")
    return records


def doctored(records: Path, tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(records.parent, folder)
    return folder / records.name


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def rerender(records: Path) -> None:
    """Re-render the board from (edited) records, as someone covering their tracks would."""
    board = records.with_name(records.name.replace(".scores.csv", ".md"))
    result = run("--records", str(records), "--publish", "--out-dir", str(records.parent),
                 "--date", FIXED_DATE, "--unofficial")
    assert result.exit_code == 0, result.output
    text = board.read_text(encoding="utf-8")
    # Drop the "Unofficial" line the re-publish added: the board claims to be official.
    board.write_text("".join(line for line in text.splitlines(keepends=True)
                             if not line.startswith("- Unofficial:")), encoding="utf-8")


def test_publish_writes_predictions_and_check_recomputes_every_score(submission: Path,
                                                                     submitted_store: Path):
    path = predictions_path(submission)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * len(TARGETS) * 1000  # runs x targets x test images
    for target in TARGETS:
        keys, labels, _ = split_images(target)
        mine = [r for r in rows if r["target"] == target]
        assert sorted({r["key"] for r in mine}) == keys  # keys as in the split manifest
        truth = dict(zip(keys, labels, strict=True))
        assert all(bench.CLASSES[truth[r["key"]]] == r["label"] for r in mine)
    # Read back, the file answers the store's prediction query with the same arrays.
    store = bench.open_store(submitted_store)
    ids = sorted(store.runs()["id"])
    ours, theirs = read_predictions(path).prediction_arrays(ids), store.prediction_arrays(ids)
    for key in ("run_id", "target", "path"):
        assert ours[key] == theirs[key]
    for key in ("label", "predicted", "probabilities"):
        assert np.array_equal(ours[key], theirs[key])
    pd.testing.assert_frame_equal(read_predictions(path).predictions(ids[0], SHIFTED),
                                  store.predictions(ids[0], SHIFTED))

    result = run("--check", str(submission), "--strict")  # every label checkable: shipped
    assert result.exit_code == 0, result.output
    assert lines(result) == [f"OK: {submission}: protocol, split fingerprints, every cell and "
                             "metric, every score recomputed from the predictions, and the "
                             "board rebuilt byte for byte"]


def test_an_edited_score_fails_with_its_recomputation(submission: Path, tmp_path: Path):
    """Ten points added to one cell's accuracy, recall and F1, the board re-rendered."""
    records = doctored(submission, tmp_path, "score")
    rows = read_rows(records)
    edited = {}
    for line, row in enumerate(rows, start=2):
        if (row["model"], row["source"], row["target"]) == ("beta", "wbc-usid-c", SHIFTED) \
                and row["metric"] in ("accuracy", "recall", "f1"):
            edited[line] = (row["metric"], float(row["value"]))
            row["value"] = repr(float(row["value"]) + 0.1)
    write_rows(records, rows)
    rerender(records)
    result = run("--check", str(records))
    assert result.exit_code == 1
    problems = [line for line in lines(result) if line.startswith(str(records))]
    assert len(problems) == 3, result.output  # the board matches the edited records
    for line, (metric, value) in edited.items():
        (found,) = [p for p in problems if f" row {line}: " in p]
        assert f"{metric} of beta trained on wbc-usid-c (seed 0) tested on {SHIFTED}" in found
        assert f"is {value + 0.1!r}; recomputed from the predictions: {value!r}" in found


def test_an_edited_prediction_changes_the_recomputed_scores(submission: Path, tmp_path: Path):
    records = doctored(submission, tmp_path, "prediction")
    path = predictions_path(records)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    alpha = next(r["run_id"] for r in read_rows(records) if r["model"] == "alpha")
    row = next(r for r in rows if r["run_id"] == alpha and r["target"] == "wbc-usid-b"
               and r["label"] == r["predicted"] == "N")
    # A careful forger: the prediction and its probabilities change together (N <-> E).
    row["predicted"] = "E"
    row["p_N"], row["p_E"] = row["p_E"], row["p_N"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(gzip.compress(out.getvalue().encode(), mtime=0))

    problems = failures(check_submission(records))
    claimed = {r["metric"]: float(r["value"]) for r in read_rows(records)
               if r["run_id"] == alpha and r["target"] == "wbc-usid-b"}
    messages = " ".join(p.message for p in problems)
    assert {p.file for p in problems} == {str(records)}  # scores only: keys, labels hold
    assert (f"accuracy of alpha trained on wbc-usid-b (seed 0) tested on wbc-usid-b is "
            f"{claimed['accuracy']!r}; recomputed from the predictions: "
            f"{claimed['accuracy'] - 0.001!r}") in messages
    assert all("recomputed" in p.message for p in problems)


def test_predictions_of_wrong_images_or_labels_are_named_by_row(submission: Path,
                                                               tmp_path: Path):
    records = doctored(submission, tmp_path, "labels")
    path = predictions_path(records)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read().splitlines(keepends=True)
    header = text[0].rstrip("\n").split(",")
    cells = text[1].rstrip("\n").split(",")
    cells[header.index("label")] = "L" if cells[header.index("label")] != "L" else "M"
    key = cells[header.index("key")]
    text[1] = ",".join(cells) + "\n"
    dropped = text.pop(2)  # another run's prediction of one image
    path.write_bytes(gzip.compress("".join(text).encode(), mtime=0))
    problems = failures(check_submission(records))
    by_file = [p for p in problems if p.file == str(path)]
    assert any(p.row == 2 and f"{key} of {cells[1]} is labelled" in p.message
               and "its true label is" in p.message
               and "bench/reference/splits/wbc-usid-b.csv.gz" in p.message for p in by_file)
    assert any("1 of the 1000 test images of its split" in p.message
               and dropped.split(",")[2] in p.message for p in by_file)


def test_intervals_are_recomputed_with_the_leaderboards_own_bootstrap(
        submitted_store: Path, tmp_path: Path):
    out = tmp_path / "with-ci"
    assert publish(submitted_store, out, "--ci", "--resamples", "100").exit_code == 0
    (records,) = out.glob("*.scores.csv")
    checked = run("--check", str(records), "--ci", "--resamples", "100", "--strict")
    assert checked.exit_code == 0, checked.output  # the board's intervals, rebuilt
    assert run("--check", str(records)).exit_code == 1  # published with --ci: checked so

    # Records may carry each run's interval: recomputed, and an edited one named.
    rows, predictions = read_rows(records), read_predictions(predictions_path(records))
    pairs = predictions.pairs()
    settings = IntervalSettings(resamples=100)
    for row in rows:
        index = pairs[(row["run_id"], row["target"])]
        stored = {(row["run_id"], row["target"]): RunPredictions(
            tuple(predictions.key[index]), predictions.label[index],
            predictions.predicted[index], predictions.probabilities[index])}
        cell = {**row, "model": row["run_id"]}
        bootstrap = bootstrap_cells(pd.DataFrame([cell]), stored, settings)
        low, high = bootstrap.interval((row["run_id"], row["source"], row["target"]),
                                       row["metric"])
        row["ci_low"], row["ci_high"] = repr(low), repr(high)
    write_rows(records, rows)
    assert failures(check_submission(records, request=BoardRequest(
        intervals=True, resamples=100))) == []
    rows[4]["ci_high"] = repr(float(rows[4]["ci_high"]) + 0.01)
    write_rows(records, rows)
    problems = failures(check_submission(records, request=BoardRequest(intervals=True,
                                                                       resamples=100)))
    assert [p.row for p in problems] == [6]
    assert "interval of" in problems[0].message and "recomputed" in problems[0].message


def test_overrides_are_refused_unless_unofficial(tmp_path: Path, no_plugins: None):
    store = tmp_path / "overridden.sqlite"
    write_submitted(bench.open_store(store), TWO_BY_TWO, epochs=2)
    out = tmp_path / "boards"
    refused = publish(store, out)
    assert refused.exit_code == 1
    assert "recipe overrides (training.max_epochs=2)" in refused.output
    assert "publish with --unofficial" in " ".join(refused.output.split())
    assert not out.exists() or not any(out.iterdir())  # nothing written

    marked = publish(store, out, "--unofficial")
    assert marked.exit_code == 0, marked.output
    (board,) = out.glob("*.md")
    header = board.read_text(encoding="utf-8").splitlines()[2]
    assert header == ("- Unofficial: not accepted by bench leaderboard --check (a protocol "
                      "that is not built in; recipe overrides), published with --unofficial")
    checked = run("--check", str(board))
    assert checked.exit_code == 1 and "recipe overrides" in checked.output
    assert f"{board.name} line" not in checked.output  # the board itself is the records'


def test_a_demo_set_is_refused_unless_unofficial(tmp_path: Path, bench_home: Path):
    """The demo's sets are generated on the publisher's machine: no one else can test on them."""
    demo = bench_home / "generated" / "demo-c"
    demo.mkdir(parents=True)
    (demo / "dataset.json").write_text(json.dumps({"name": "demo-c", "level": "complex",
                                                   "generator": "procedural"}))
    bench.reset()  # the first-party plugin registers it, as `bench demo` leaves it
    store = tmp_path / "demo.sqlite"
    write_predicted(bench.open_store(store), [Predicted("alpha", "demo-c", 0, {"demo-c": 0.9}),
                                              Predicted("beta", "demo-c", 0, {"demo-c": 0.8})],
                    load_protocol("quick").hash, fingerprints={"demo-c": "f1aaaa"})
    out = tmp_path / "boards"
    refused = run("--store", str(store), "--publish", "--out-dir", str(out))
    assert refused.exit_code == 1 and not out.exists()
    assert "source demo-c is a generated (or demo) data set" in refused.output
    assert "target 'demo-c' has no published split fingerprint" in refused.output
    marked = run("--store", str(store), "--publish", "--out-dir", str(out), "--unofficial")
    assert marked.exit_code == 0, marked.output
    assert "unofficial: " in marked.output  # each problem, said as it is written
    (board,) = out.glob("*.md")
    assert "generated or demo data sets" in board.read_text(encoding="utf-8").splitlines()[2]

    # The API refuses the same way.
    board_set = make_boards(BoardRequest(date=FIXED_DATE), store_path=store)
    with pytest.raises(PublishRefused) as problems:
        publish_checked(board_set, tmp_path / "api")
    assert any("generated (or demo)" in p.message for p in problems.value.problems)


def test_non_finite_scores_are_refused_wherever_they_enter(submission: Path, tmp_path: Path,
                                                           submitted_store: Path):
    records = doctored(submission, tmp_path, "nan")
    rows = read_rows(records)
    rows[3]["value"], rows[5]["value"] = "nan", "inf"
    write_rows(records, rows)
    rebuilt = run("--records", str(records), "--format", "json")
    assert rebuilt.exit_code == 1 and "row 5: value 'nan' is not a finite number" in \
        " ".join(rebuilt.output.split())
    checked = run("--check", str(records))
    assert "row 5: value 'nan' is not a finite number" in checked.output
    assert "row 7: value 'inf' is not a finite number" in checked.output

    new = bench.open_store(tmp_path / "new.sqlite")
    run_id = new.claim(bench.Cell("m", "d1", 0, "quick", "abcdef0123456789", "f1aaaa"))
    nan = bench.Evaluation(target="d1", split_fingerprint="f1aaaa", labels=["L"],
                           metrics={"accuracy": float("nan")}, support={"L": 1},
                           confusion=[[1]])
    with pytest.raises(StoreError, match="not finite numbers; nothing was recorded"):
        new.finish(run_id, [nan])
    assert new.scores().empty
    # A store written before the store refused them (SQLite keeps inf; NaN becomes NULL,
    # which the schema refuses): boards refuse it, and JSON is never invalid.
    with sqlite3.connect(submitted_store) as db:
        db.execute("UPDATE scores SET value = ? WHERE rowid = 1", (float("inf"),))
    for args in (("--format", "json"), ("--publish", "--out-dir", str(tmp_path / "x"))):
        result = run("--store", str(submitted_store), *args)
        assert result.exit_code == 1 and "Infinity" not in result.output
        assert "not finite numbers" in result.output and "bench rescore" in result.output


def test_formula_names_are_neutralised_in_csv_and_flagged_by_check(tmp_path: Path,
                                                                    no_plugins: None):
    store = tmp_path / "formula.sqlite"
    write_predicted(bench.open_store(store), [Predicted(FORMULA, "d1", 0, {"d1": 0.9})],
                    load_protocol("quick").hash)
    board = run("--store", str(store), "--format", "csv")
    (row, *_) = csv.DictReader(io.StringIO(board.output))
    assert row["model"] == "'" + FORMULA
    assert row["text"] == f"{float(row['value']):.1f}"  # numbers stay numbers

    out = tmp_path / "boards"
    refused = run("--store", str(store), "--publish", "--out-dir", str(out))
    assert refused.exit_code == 1 and "a spreadsheet opening the records would run it" in \
        " ".join(refused.output.split())
    assert run("--store", str(store), "--publish", "--out-dir", str(out),
               "--unofficial").exit_code == 0
    (records,) = out.glob("*.scores.csv")
    assert read_rows(records)[0]["model"] == "'" + FORMULA  # escaped in the file...
    assert set(read_records([records])["model"]) == {FORMULA}  # ...and read back exactly
    with gzip.open(predictions_path(records), "rt") as handle:
        assert not any(line.startswith(("=", "+", "-", "@")) for line in handle)
    checked = run("--check", str(records))
    assert checked.exit_code == 1
    assert f"row 2: model {FORMULA!r} starts with '='" in checked.output


def test_cost_columns_travel_with_the_records(tmp_path: Path, no_plugins: None):
    store = tmp_path / "cost.sqlite"
    write_submitted(bench.open_store(store), TWO_BY_TWO[:1])
    write_submitted(bench.open_store(store), TWO_BY_TWO[1:2], cost=False)  # an older run
    table = run("--store", str(store), "--cost", "--format", "md", "--targets", "wbc-usid-b")
    assert table.exit_code == 0, table.output
    assert ("| alpha | wbc-usid-b | NVIDIA H100 80GB HBM3, CUDA 12.4; torch 2.4.1; AMP; "
            "channels-last | 2210 | 5000 | 12.6 | 3.0 |") in table.output
    assert "| alpha | wbc-usid-c | – | – | – | – | – |" in table.output  # never a guess
    out = tmp_path / "boards"
    assert run("--store", str(store), "--publish", "--out-dir", str(out), "--cost",
               "--unofficial", "--targets", "wbc-usid-b").exit_code == 0
    (records,) = out.glob("*.scores.csv")
    first = read_rows(records)[0]
    assert json.loads(first["device"])["gpu"] == "NVIDIA H100 80GB HBM3"
    assert (first["train_images_per_second"], first["peak_memory_kind"]) == (
        "2210.5", "cuda-allocated")
    rebuilt = run("--records", str(records), "--cost", "--format", "md", "--date", FIXED_DATE)
    stored = run("--store", str(store), "--cost", "--format", "md", "--date", FIXED_DATE,
                 "--targets", "wbc-usid-b")
    assert rebuilt.output == stored.output
    data = json.loads(run("--records", str(records), "--cost", "--json").output)
    cost = next(t for t in data[0]["tables"] if t["name"] == "cost")
    assert cost["rows"][1]["cells"]["train"] is None  # JSON: null, not a number


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wbc-usid-b", "wbc-usid-c"])
def test_the_shipped_label_manifest_is_what_prepare_yields_from_the_release(
        wbc_usid: Path, name: str):
    """bench/reference/splits/NAME.csv.gz: the bytes `prepare` writes from the real release."""
    from bench.data.prepare import prepare_dataset
    from bench.leaderboard.fingerprints import load_fingerprints
    from bench.leaderboard.truth import shipped_split

    dataset = prepare_dataset(name, wbc_usid, progress=False, cache_size=16, workers=2)
    shipped = Path(bench.__file__).parent / "reference" / "splits" / f"{name}.csv.gz"
    assert gzip.decompress(shipped.read_bytes()) == dataset.folder.manifest.read_bytes()
    split = shipped_split(name)
    assert split.fingerprint == dataset.fingerprint == load_fingerprints()[name].fingerprint
    assert len(split.labels) == 1000


def test_a_fingerprint_mismatch_prints_both_full_hashes(submission: Path, tmp_path: Path):
    records = doctored(submission, tmp_path, "fingerprint")
    rows = read_rows(records)
    plain = next(i for i, r in enumerate(rows) if r["target"] == "wbc-usid-c")
    shifted = next(i for i, r in enumerate(rows) if r["target"] == SHIFTED)
    rows[plain]["target_fingerprint"] = rows[shifted]["target_fingerprint"] = "0" * 64
    write_rows(records, rows)
    messages = {p.row: p.message for p in failures(check_submission(records))}
    published = split_images("wbc-usid-c")[2]
    assert (f"target wbc-usid-c has split fingerprint {'0' * 64!r}, not the published "
            f"{published}") in messages[plain + 2]
    assert split_images(SHIFTED)[2] in messages[shifted + 2]  # derived from its base's
