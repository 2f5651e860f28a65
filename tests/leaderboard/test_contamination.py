"""A model pretrained on a data set gets † where it is tested on (or trained on) that data set."""

from __future__ import annotations

import json

import pytest
from fixtures.cli import invoke
from leaderboard_fixtures import FIXED_DATE, Result, write_results

import bench
from bench.leaderboard import BoardRequest, make_boards
from bench.leaderboard.submissions.submit import publish_checked

FINGERPRINTS = {"wbc-usid-b": "fpb", "pbc": "fpp", "raabin-cropped": "fpr"}
NOTE = ("BloodFM was pretrained on images of PBC (its declared pretraining data): its marked "
        "cells train or test on them, so it may have seen those images before bench trained it.")


@pytest.fixture
def store(tmp_path, install_distribution):
    install_distribution("blood-fm", {"blood": "blood_fm_plugin"})
    bench.reset()
    path = tmp_path / "results.sqlite"
    targets = {"wbc-usid-b": 0.9, "pbc": 0.8}
    write_results(bench.open_store(path), [
        Result("blood-fm", "wbc-usid-b", 0, targets, fingerprints=FINGERPRINTS),
        Result("plain-net", "wbc-usid-b", 0, targets, fingerprints=FINGERPRINTS),
    ])
    return path


def boards(store, **request):
    return make_boards(BoardRequest(cross=True, metrics=["f1"], date=FIXED_DATE, **request),
                       store_path=store)


def test_the_pbc_cell_of_a_model_pretrained_on_pbc_is_marked_in_every_format(store):
    board_set = boards(store)
    markdown = board_set.render("md")
    assert "| BloodFM | WBC-USID-B | **80.0†** | *90.0* |" in markdown
    assert "| plain-net | WBC-USID-B | **80.0** | *90.0* |" in markdown
    assert f"† {NOTE}" in markdown
    assert "80.0†" in board_set.render("html") and NOTE in board_set.render("html")
    latex = board_set.render("latex")
    assert "80.0†" in latex and NOTE.split(":")[0] in latex
    cells = {(row["model"], key): cell for row in json.loads(board_set.render("json"))[0][
        "tables"][0]["rows"] for key, cell in row["cells"].items()}
    assert cells[("blood-fm", "pbc/f1")]["contaminated"] is True
    assert cells[("blood-fm", "pbc/f1")]["text"] == "80.0†"
    assert cells[("blood-fm", "wbc-usid-b/f1")]["contaminated"] is False
    assert cells[("plain-net", "pbc/f1")]["contaminated"] is False
    csv = board_set.render("csv").splitlines()
    column = csv[0].split(",").index("contaminated")
    marked = [line.split(",") for line in csv[1:] if line.split(",")[column] == "1"]
    assert [(row[4], row[6]) for row in marked] == [("blood-fm", "pbc")]


def test_a_source_in_the_pretraining_data_marks_the_whole_row_and_a_release_its_cuts(
        tmp_path, install_distribution):
    install_distribution("blood-fm", {"blood": "blood_fm_plugin"})
    bench.reset()
    path = tmp_path / "results.sqlite"
    write_results(bench.open_store(path), [
        Result("blood-fm", "pbc", 0, {"pbc": 0.95, "raabin-cropped": 0.7, "wbc-usid-b": 0.6},
               fingerprints=FINGERPRINTS)])
    markdown = boards(path).render("md")
    assert "| BloodFM | PBC | *95.0†* | 60.0† | 70.0† |" in markdown  # trained on PBC
    assert "images of PBC, Raabin-Cropped" in markdown  # Raabin-WBC covers its cropped cut


def test_exclude_contaminated_drops_the_marked_cells(store):
    markdown = boards(store, exclude_contaminated=True).render("md")
    assert "| BloodFM | WBC-USID-B | – | *90.0* |" in markdown and "†" not in markdown


def test_records_carry_the_mark_and_rebuild_the_same_boards(store, tmp_path):
    written = publish_checked(boards(store), tmp_path / "published", unofficial=True).written
    records = next(path for path in written if path.name.endswith(".scores.csv"))
    lines = records.read_text().splitlines()
    assert lines[0].endswith(",contaminated")
    marked = [line for line in lines[1:] if line.endswith(",pbc")]
    assert marked and all(",blood-fm," in line and ",pbc," in line for line in marked)
    result = invoke("leaderboard", "--records", str(records), "--publish",
                    "--unofficial", "--metric", "f1", "--out-dir",
                    str(tmp_path / "again"), "--date", FIXED_DATE)
    assert result.exit_code == 0, result.output
    for path in written:
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()


def test_scratch_runs_are_never_marked(tmp_path, install_distribution):
    install_distribution("blood-fm", {"blood": "blood_fm_plugin"})
    bench.reset()
    store = bench.open_store(tmp_path / "results.sqlite")
    cell = bench.Cell("blood-fm", "wbc-usid-b", 0, "quick", "abcdef0123456789", "fpb",
                      init="scratch")
    run_id = store.claim(cell)
    store.finish(run_id, [bench.Evaluation("pbc", "fpp", {"f1": 0.5, "accuracy": 0.5,
                                                          "precision": 0.5, "recall": 0.5},
                                           list(bench.CLASSES), dict.fromkeys(bench.CLASSES, 1),
                                           [[1 if i == j else 0 for j in range(5)]
                                            for i in range(5)])])
    assert "†" not in boards(tmp_path / "results.sqlite").render("md")
