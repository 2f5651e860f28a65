"""Shifted targets published with their board: records, predictions, check and rebuild.

A board's shift table (``bench leaderboard --shift``) is published as a section of the same
board, from the same records and predictions file, so that it is checked and rebuilt like the
rest: its scores recomputed from the predictions, its images and labels those of the base's test
split, its fingerprints derived from the base's published one under a built-in shift suite.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest
from fixtures.cli import invoke
from leaderboard_fixtures import FIXED_DATE
from submission_fixtures import SHIFTED, TARGETS, TWO_BY_TWO, split_images, write_submitted

import bench
from bench.leaderboard.predictions import predictions_path
from bench.leaderboard.submissions.check import check_submission, failures

OK_CHECK = "every score recomputed from the predictions, and the board rebuilt byte for byte"


def run(*args: object):
    return invoke("leaderboard", *map(str, args))


def publish(store: Path, out: Path, *args: object) -> dict[str, bytes]:
    """Publish into ``out``; the files written, by name."""
    result = run("--store", store, "--publish", "--out-dir", out, "--date", FIXED_DATE, *args)
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def records_of(folder: Path) -> Path:
    (records,) = folder.glob("*.scores.csv")
    return records


def shifted_predictions(records: Path) -> list[dict[str, str]]:
    with gzip.open(predictions_path(records), "rt", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["target"] == SHIFTED]


def test_publish_writes_the_shift_table_with_its_records_and_predictions(
        submitted_store: Path, tmp_path: Path):
    files = publish(submitted_store, tmp_path / "all")
    # The selection's shifted test sets are published without being named, as --shift shows
    # them; naming them gives the same files.
    assert publish(submitted_store, tmp_path / "named", "--targets", ",".join(TARGETS)) == files
    records = records_of(tmp_path / "all")
    board = records.with_name(records.name.replace(".scores.csv", ".md")).read_text()
    assert board.count("## ") == 5  # same, cross, the two summaries, the shift table
    assert "## Shift suite: weighted F1 under each shift" in board
    assert "| Model | Source | wbc-usid-b \\~blur 0 | wbc-usid-b \\~blur 2 | wbc-usid-b \\~blur " \
           "drop |" in board
    assert "| Model | wbc-usid-b A |" in board and "\\~blur:2 A" not in board  # not a column
    assert f"wbc-usid-b\\~blur:2 `{split_images(SHIFTED)[2]}`" in board  # its fingerprint

    rows = list(csv.DictReader(io.StringIO(records.read_text())))
    assert len([r for r in rows if r["target"] == SHIFTED]) == \
        len([r for r in rows if r["target"] == "wbc-usid-b"])  # every metric of every run
    keys, labels, _ = split_images(SHIFTED)  # the base's test images, with their labels
    predicted = shifted_predictions(records)
    assert len(predicted) == len(TWO_BY_TWO) * len(keys)
    truth = dict(zip(keys, labels, strict=True))
    assert {r["key"] for r in predicted} == set(keys)
    assert all(bench.CLASSES[truth[r["key"]]] == r["label"] for r in predicted)

    checked = run("--check", tmp_path / "all", "--strict")
    assert checked.exit_code == 0, checked.output
    assert OK_CHECK in checked.output

    # Targets of the other level only: its selection has no shifted test set, nor the board.
    other = publish(submitted_store, tmp_path / "c", "--targets", "wbc-usid-c")
    assert not any(b"Shift suite" in text or b"~blur" in text for text in other.values())


def test_records_rebuild_the_shift_board_and_the_published_files(submitted_store: Path,
                                                                 tmp_path: Path):
    files = publish(submitted_store, tmp_path / "board")
    records = records_of(tmp_path / "board")
    from_store = run("--store", submitted_store, "--shift", "--format", "md", "--date", FIXED_DATE)
    rebuilt = run("--records", records, "--shift", "--format", "md", "--date", FIXED_DATE)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.output == from_store.output and "\\~blur 2" in rebuilt.output
    # Without --shift the records show the store's board: shifted targets are not columns.
    assert run("--records", records, "--format", "md", "--date", FIXED_DATE).output == \
        run("--store", submitted_store, "--format", "md", "--date", FIXED_DATE).output
    result = run("--records", records, "--publish", "--out-dir", tmp_path / "again",
                 "--date", FIXED_DATE)
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir()} == files


def test_a_board_published_model_by_model_is_rebuilt_from_every_batch(submitted_store: Path,
                                                                       tmp_path: Path):
    """As a long matrix is published: one batch per model, each committed, then one board."""
    options = ("--ci", "--marks", "tiers", "--resamples", "100")  # as issue 30 publishes
    whole = publish(submitted_store, tmp_path / "whole", *options)
    for model in ("alpha", "beta"):
        batch = publish(submitted_store, tmp_path / model, "--models", model, *options)
        assert b"Shift suite" in batch[records_of(tmp_path / model).name.replace(
            ".scores.csv", ".md")]
    name = records_of(tmp_path / "whole").name
    result = run("--records", tmp_path / "alpha" / name, tmp_path / "beta" / name,
                 "--publish", "--out-dir", tmp_path / "rebuilt", "--date", FIXED_DATE, *options)
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "rebuilt").iterdir()} == whole
    checked = run("--check", tmp_path / "rebuilt", "--strict", *options)
    assert checked.exit_code == 0, checked.output
    # Checked without the options it was published with, the board fails and says which.
    bare = run("--check", tmp_path / "rebuilt", "--resamples", "100")
    assert bare.exit_code == 1
    assert "published with --ci --marks tiers: check it with the options" in bare.output


def test_shifted_predictions_are_checked_against_the_base_test_split(submitted_store: Path,
                                                                     tmp_path: Path):
    publish(submitted_store, tmp_path / "board")
    records = records_of(tmp_path / "board")
    path = predictions_path(records)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read().splitlines(keepends=True)
    header = text[0].rstrip("\n").split(",")
    first = next(i for i, line in enumerate(text) if f",{SHIFTED}," in line)
    cells = text[first].rstrip("\n").split(",")
    key = cells[header.index("key")]
    cells[header.index("label")] = "L" if cells[header.index("label")] != "L" else "M"
    text[first] = ",".join(cells) + "\n"
    other = text[first + 1].split(",")
    other[header.index("key")] = "not/a-test-image.png"
    text[first + 1] = ",".join(other)
    path.write_bytes(gzip.compress("".join(text).encode(), mtime=0))

    problems = [p for p in failures(check_submission(records)) if p.file == str(path)]
    manifest = "bench/reference/splits/wbc-usid-b.csv.gz"  # the base's shipped labels
    assert any(p.row == first + 1 and f"{key} of {SHIFTED} is labelled" in p.message
               and "its true label is" in p.message and manifest in p.message
               for p in problems), problems
    assert any(p.row == first + 2 and f"not/a-test-image.png is not a test image of {SHIFTED} "
               f"({manifest})" in p.message for p in problems), problems
    assert any(f"1 of the 1000 test images of its split ({manifest}) have no prediction"
               in p.message for p in problems), problems


def test_a_board_made_under_the_first_shift_suite_still_checks(
        tmp_path: Path, no_plugins: None, monkeypatch: pytest.MonkeyPatch):
    """Scores on shift suite v1's test sets: fingerprints derived under v1, columns named so."""
    store = tmp_path / "v1.sqlite"
    with monkeypatch.context() as suite:
        suite.setenv("BENCH_SHIFT_SUITE", "v1")
        write_submitted(bench.open_store(store), TWO_BY_TWO)
        fingerprint_v1 = split_images(SHIFTED)[2]
    assert fingerprint_v1 != split_images(SHIFTED)[2]  # v2, the suite in use now
    publish(store, tmp_path / "board")
    records = records_of(tmp_path / "board")
    board = records.with_name(records.name.replace(".scores.csv", ".md")).read_text()
    assert "wbc-usid-b \\~blur (suite v1) 2" in board and fingerprint_v1 in board
    checked = run("--check", records, "--strict")
    assert checked.exit_code == 0, checked.output

    # A fingerprint that no built-in suite gives from the base's is named with the expected one.
    rows = records.read_text().replace(fingerprint_v1, "1" * 64)
    records.write_text(rows)
    messages = [p.message for p in failures(check_submission(records))]
    assert any(f"target {SHIFTED} has split fingerprint {'1' * 64!r}" in m for m in messages)
