"""Checked submissions: `bench leaderboard --check` and `--records` on boards we publish.

The submission is made the way a third party makes one: a results store, then
`bench leaderboard --publish`. Each doctored copy breaks one rule and must be named by its row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.cli import invoke
from leaderboard_fixtures import FINGERPRINTS, FIXED_DATE
from prediction_fixtures import Predicted, write_predicted

import bench
from bench.leaderboard import BoardRequest, make_boards
from bench.leaderboard.fingerprints import load_fingerprints
from bench.leaderboard.submissions.check import check_submission, failures
from bench.leaderboard.submissions.records import from_records
from bench.protocols import load_protocol

# Two models x two sources x two seeds x two targets: a complete design, with predictions.
COMPLETE = [
    Predicted(model, source, seed, {"d1": base + 0.01 * seed, "d2": base - 0.3 + 0.01 * seed})
    for model, base in (("alpha", 0.90), ("beta", 0.86))
    for source in ("d1", "d2")
    for seed in (0, 1)
]
METRICS_PER_CELL = 9  # every metric the engine scores


def run(*args: str):
    return invoke("leaderboard", *args)


def flat(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """The fixture data sets' splits, published as the shipped manifest publishes real ones."""
    path = tmp_path / "fingerprints.toml"
    path.write_text("".join(
        f'[datasets.{name}]\nfingerprint = "{fp}"\nprepare = "bench datasets prepare {name}"\n'
        for name, fp in FINGERPRINTS.items()
    ) + '[datasets.d3]\npublished = false\nprepare = "bench datasets prepare d3 --from PATH"\n')
    return path


@pytest.fixture
def complete_store(tmp_path: Path, no_plugins: None) -> Path:
    """Results under the real `quick` protocol (its hash is a known one)."""
    path = tmp_path / "results.sqlite"
    write_predicted(bench.open_store(path), COMPLETE, load_protocol("quick").hash)
    return path


@pytest.fixture
def published(complete_store: Path, tmp_path: Path, manifest: Path) -> Path:
    """The records a submitter publishes: `bench leaderboard --publish`."""
    out = tmp_path / "published"
    result = run("--publish", "--store", str(complete_store), "--out-dir", str(out),
                 "--date", FIXED_DATE, "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output
    (records,) = out.glob("*.scores.csv")
    assert (out / records.name.replace(".scores.csv", ".md")).is_file()
    return records


def doctored(records: Path, tmp_path: Path, name: str) -> Path:
    """A copy of the submission (records and board) to break."""
    folder = tmp_path / name
    shutil.copytree(records.parent, folder)
    return folder / records.name


def edit_row(records: Path, row: int, column: str, value: str) -> None:
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[row - 1].rstrip("\n").split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells) + "\n"
    records.write_text("".join(lines), encoding="utf-8")


def messages(problems, records: Path) -> dict[int, str]:
    """The records' problems by row, every message of a row joined."""
    out: dict[int, str] = {}
    for problem in problems:
        if problem.file == str(records):
            out[problem.row] = out.get(problem.row, "") + problem.message + "\n"
    return out


def problem_at(result, row: int, text: str) -> bool:
    return any(f"row {row}: " in line and text in line for line in result.output.splitlines())


def test_a_published_board_passes(published: Path, manifest: Path):
    result = run("--check", str(published), "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output
    # d1 and d2 ship no label manifest and are not prepared here: said, and not a failure.
    *unchecked, ok = result.output.splitlines()
    assert ok.startswith("OK: ") and "every score recomputed from the predictions" in ok
    assert [line.split(": ")[2] for line in unchecked] == [
        "image keys and true labels of d1", "image keys and true labels of d2"]
    assert all(line.startswith("not checked: ") for line in unchecked)
    board = published.with_name(published.name.replace(".scores.csv", ".md"))
    assert run("--check", str(board), "--fingerprints", str(manifest)).exit_code == 0
    assert failures(check_submission(published, fingerprints=manifest)) == []
    strict = run("--check", str(published), "--fingerprints", str(manifest), "--strict")
    assert strict.exit_code == 1 and "2 problems" in flat(strict)


def test_records_rebuild_the_store_boards_byte_for_byte(published: Path, complete_store: Path):
    for request in (BoardRequest(date=FIXED_DATE), BoardRequest(cross=True, summary=True,
                                                                 date=FIXED_DATE)):
        stored = make_boards(request, store_path=complete_store)
        rebuilt = from_records([published], request)
        for fmt in ("md", "csv", "json", "latex", "html"):
            assert rebuilt.render(fmt) == stored.render(fmt), fmt
    cli_md = run("--records", str(published), "--format", "md", "--date", FIXED_DATE)
    store_md = run("--store", str(complete_store), "--format", "md", "--date", FIXED_DATE)
    assert cli_md.exit_code == 0, cli_md.output
    assert cli_md.output == store_md.output


def test_records_republish_the_same_files(published: Path, tmp_path: Path, manifest: Path):
    again = tmp_path / "again"
    result = run("--records", str(published), "--publish", "--out-dir", str(again),
                 "--date", FIXED_DATE, "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output
    for path in published.parent.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_wrong_protocol_hash_is_named_by_row(published: Path, tmp_path: Path, manifest: Path):
    records = doctored(published, tmp_path, "hash")
    edit_row(records, 7, "protocol_hash", "0" * 16)
    result = run("--check", str(records), "--fingerprints", str(manifest))
    assert result.exit_code == 1
    assert problem_at(result, 7, "protocol hash '0000000000000000' (named quick) is not a known")


def test_wrong_fingerprint_is_named_by_row(published: Path, tmp_path: Path, manifest: Path):
    records = doctored(published, tmp_path, "fingerprint")
    edit_row(records, 12, "target_fingerprint", "deadbeef")
    result = run("--check", str(records), "--fingerprints", str(manifest))
    assert result.exit_code == 1
    assert problem_at(result, 12, "split fingerprint 'deadbeef', not the published f2bbbb")


def test_missing_cell_is_named_by_its_run(published: Path, tmp_path: Path, manifest: Path):
    records = doctored(published, tmp_path, "missing")
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = [line.split(",") for line in lines]
    run_rows = [i + 1 for i, cells in enumerate(fields) if cells[1:4] == ["beta", "d2", "1"]]
    kept = [line for line, cells in zip(lines, fields, strict=True)
            if not (cells[1:4] == ["beta", "d2", "1"] and cells[7] == "d1")]
    assert len(kept) == len(lines) - METRICS_PER_CELL  # every metric of one cell gone
    records.write_text("".join(kept), encoding="utf-8")
    result = run("--check", str(records), "--fingerprints", str(manifest))
    assert result.exit_code == 1
    assert problem_at(result, run_rows[0],
                      "no scores of beta trained on d2 (seed 1) tested on d1")


def test_value_out_of_range_is_named_by_row(published: Path, tmp_path: Path, manifest: Path):
    records = doctored(published, tmp_path, "range")
    edit_row(records, 5, "value", "91.3")  # a percentage where a fraction belongs
    result = run("--check", str(records), "--fingerprints", str(manifest))
    assert result.exit_code == 1
    assert problem_at(result, 5, "91.3 is outside [0, 1] (scores are fractions")


def test_board_edited_by_hand_is_named_by_line(published: Path, tmp_path: Path,
                                               manifest: Path):
    records = doctored(published, tmp_path, "edited")
    board = records.with_name(records.name.replace(".scores.csv", ".md"))
    lines = board.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("| beta |"))
    edited = lines[row].replace("|", "| 99.9 |", 2).replace("| 99.9 |", "|", 1)
    assert edited != lines[row]
    lines[row] = edited
    board.write_text("".join(lines), encoding="utf-8")
    result = run("--check", str(records), "--fingerprints", str(manifest))
    assert result.exit_code == 1
    assert f"{board.name} line {row + 1}: reads '| beta | 99.9 |" in flat(result)
    problems = failures(check_submission(records, fingerprints=manifest))
    assert {p.file for p in problems} == {str(board)}  # the records themselves pass


def test_every_problem_is_listed_not_only_the_first(published: Path, tmp_path: Path,
                                                   manifest: Path):
    records = doctored(published, tmp_path, "many")
    edit_row(records, 3, "value", "-0.2")
    edit_row(records, 9, "target_fingerprint", "feed")
    problems = check_submission(records, fingerprints=manifest)
    assert {3, 9} <= {p.row for p in problems if p.file == str(records)}
    assert any(p.file.endswith(".md") for p in problems)  # and the board no longer matches


def test_recall_must_equal_accuracy_and_intervals_hold_their_values(
    published: Path, tmp_path: Path, manifest: Path
):
    records = doctored(published, tmp_path, "recall")
    lines = records.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    recall = next(i for i, line in enumerate(lines) if line.split(",")[9] == "recall")
    cells = lines[recall].split(",")
    cells[header.index("value")] = str(float(cells[header.index("value")]) - 0.01)
    lines[recall] = ",".join(cells)
    lines = [lines[0] + ",ci_low,ci_high"] + [line + ",," for line in lines[1:]]
    lines[1] = lines[1][:-2] + ",0.1,0.2"  # an interval beside a value of about 0.9
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = messages(check_submission(records, fingerprints=manifest), records)
    assert "weighted recall" in problems[recall + 1] and "is not the accuracy" in problems[
        recall + 1]
    assert "interval [0.1, 0.2] does not contain its value" in problems[2]


def test_unpublished_and_unknown_data_sets_are_named(published: Path, tmp_path: Path,
                                                    manifest: Path):
    records = doctored(published, tmp_path, "unpublished")
    edit_row(records, 2, "source", "d3")
    edit_row(records, 4, "target", "d9")
    problems = messages(check_submission(records, fingerprints=manifest), records)
    assert "source 'd3' has no published split yet" in problems[2]
    assert "`bench datasets prepare d3 --from PATH`" in problems[2]
    assert "target 'd9' has no published split fingerprint; published: d1, d2" in problems[4]


def test_each_edition_of_a_data_set_split_twice_is_rebuilt(tmp_path: Path, no_plugins: None,
                                                            manifest: Path):
    """d2 prepared twice: two boards, each checked against its own records."""
    resplit = {**FINGERPRINTS, "d2": "f2cccc"}
    store = tmp_path / "editions.sqlite"
    quick = load_protocol("quick").hash
    write_predicted(bench.open_store(store), COMPLETE[:4], quick)
    write_predicted(bench.open_store(store), COMPLETE[4:], quick, fingerprints=resplit)
    out = tmp_path / "editions"
    refused = run("--publish", "--store", str(store), "--out-dir", str(out),
                  "--fingerprints", str(manifest))
    assert refused.exit_code == 1 and "f2cccc" in refused.output and not out.exists()
    assert run("--publish", "--store", str(store), "--out-dir", str(out), "--unofficial",
               "--fingerprints", str(manifest)).exit_code == 0
    boards = sorted(out.glob("*.md"))
    assert len(boards) == 2 and all(b.name.count("-") == 2 for b in boards)  # slug-edition
    for board in boards:
        problems = check_submission(board, fingerprints=manifest)
        assert not [p for p in problems if p.file == str(board)], problems


def test_leakage_marks_travel_with_the_records(complete_store: Path, tmp_path: Path,
                                               manifest: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    """The audit behind a † lives in the publisher's data home; the records carry it."""
    from bench.leaderboard import make
    from bench.leaderboard.leakage import Leak

    out = tmp_path / "leaky"
    with monkeypatch.context() as patch:
        patch.setattr(make, "leakage_counts", lambda frame: {("d1", "d2"): Leak(3, 40)})
        published = run("--publish", "--store", str(complete_store), "--out-dir", str(out),
                        "--fingerprints", str(manifest))
        assert published.exit_code == 0, published.output
    (board,) = out.glob("*.md")
    assert "† 3 of the 40 test images of d2" in board.read_text(encoding="utf-8")
    # The checking machine has no such audit: the marks come from the records alone.
    result = run("--check", str(board), "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output


def test_the_shipped_manifest_publishes_what_was_computed_and_marks_the_rest():
    splits = load_fingerprints()
    assert splits["wbc-usid-b"].fingerprint.startswith("1712bd077d9431db")
    assert splits["wbc-usid-c"].fingerprint.startswith("7569c4c17fa501b5")
    for name in ("raabin", "aml", "pbc", "ldwbc"):
        assert not splits[name].published, name  # not prepared here: not invented
        assert splits[name].prepare.startswith(f"bench datasets prepare {name} --from")


# That prepare yields the shipped fingerprints (and label manifests) from the real release:
# test_submissions.py::test_the_shipped_label_manifest_is_what_prepare_yields_from_the_release


def test_the_reference_board_is_rebuilt_from_the_shipped_figures():
    """zedda2024.md has no records (the paper's figures): it is checked against them."""
    board = Path(__file__).resolve().parents[2] / "leaderboards" / "zedda2024.md"
    result = run("--check", str(board))
    assert result.exit_code == 0, result.output
    assert "published figures, rebuilt byte for byte" in result.output


def test_a_folder_is_checked_board_by_board(published: Path, manifest: Path):
    """What CI runs on leaderboards/: its README is not a board, the reference board is one."""
    folder = published.parent
    (folder / "README.md").write_text("# Published leaderboards\n", encoding="utf-8")
    shutil.copyfile(Path(__file__).resolve().parents[2] / "leaderboards" / "zedda2024.md",
                    folder / "zedda2024.md")
    result = run("--check", str(folder), "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()
            if not line.startswith("not checked")] == ["OK", "OK"]
    (folder / "zedda2024.md").write_text("# zedda2024: edited\n", encoding="utf-8")
    assert run("--check", str(folder), "--fingerprints", str(manifest)).exit_code == 1
    rebuilt = run("--records", str(folder), "--format", "md", "--date", FIXED_DATE)
    assert rebuilt.output == run("--records", str(published), "--format", "md",
                                 "--date", FIXED_DATE).output


def test_usage_errors_exit_2(published: Path):
    assert run(str(published)).exit_code == 2  # files need --records or --check
    assert run("--check").exit_code == 2
    assert run("--check", str(published), "--publish").exit_code == 2
    assert run("--records", str(published), "--reference", "zedda2024").exit_code == 2
    assert run("--fingerprints", "x.toml").exit_code == 2
    assert run("--check", str(published), "--per-class").exit_code == 2  # no per-class scores
    assert run("--records", str(published), "--unofficial").exit_code == 2  # with --publish
    assert run("--records", str(published), "--strict").exit_code == 2  # with --check
