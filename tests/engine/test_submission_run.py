"""A submission end to end: tiny models trained for real, published, checked from its files.

Two models x two sources, tested on both data sets and a shifted one at two severities, under
a protocol file run unchanged. The data sets are not the project's published ones, so this
machine is told their fingerprints and the protocol's hash, as a lab publishing its own boards
would; the labels are checked against the data sets as prepared here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench
from bench.data import load_prepared
from bench.leaderboard import BoardRequest, make_boards, publish_checked
from bench.leaderboard.submissions.check import check_submission, failures
from bench.protocols import load_protocol

TARGETS = ["colours-a", "colours-b", "colours-b~stain:1", "colours-b~stain:3"]


def tiny_protocol(folder: Path) -> Path:
    """`quick`, shrunk for 20 px squares on 2 cores, as a protocol file of its own."""
    text = (resources.files("bench") / "protocols" / "quick.toml").read_text(encoding="utf-8")
    for old, new in (('name = "quick"', 'name = "tiny-check"'), ("amp = true", "amp = false"),
                     ("max_epochs = 4", "max_epochs = 2"), ("batch_size = 32", "batch_size = 8"),
                     ("size = 64", "size = 16")):
        assert old in text
        text = text.replace(old, new)
    path = folder / "tiny-check.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def trained(tiny_world: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    protocol = tiny_protocol(tmp_path)
    result = invoke(
        "run", "--protocol", str(protocol), "--no-pretrained", "--model", "tiny,tiny2",
        "--source", "colours-a,colours-b", "--target", ",".join(TARGETS))
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "fingerprints.toml"
    manifest.write_text("".join(
        f'[datasets.{name}]\nfingerprint = "{load_prepared(name).fingerprint}"\n'
        for name in ("colours-a", "colours-b")), encoding="utf-8")
    recipe = load_protocol(protocol)
    return manifest, {recipe.hash: recipe.name}


def test_a_trained_submission_publishes_and_checks_from_its_files(
        trained: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    manifest, protocols = trained
    board_set = make_boards(BoardRequest(targets=TARGETS, cost=True, date="2026-01-02"))
    publication = publish_checked(board_set, tmp_path / "boards", fingerprints=manifest,
                                    protocols=protocols)
    assert not publication.unofficial
    records = next(p for p in publication.written if p.name.endswith(".scores.csv"))
    board = records.with_name(records.name.replace(".scores.csv", ".md")).read_text()
    assert "## Shift suite: weighted F1 under each shift" in board and "## Cost" in board
    assert "| colours-b \\~stain 0 | colours-b \\~stain 1 | colours-b \\~stain 3 |" in board
    assert "| tiny | colours-a |" in board and " cores; torch " in board  # measured, on a CPU

    # Here every label is checked: against the data sets as prepared on this machine.
    found = check_submission(records, fingerprints=manifest, protocols=protocols,
                             request=BoardRequest(cost=True))
    assert failures(found, strict=True) == [], found

    # Elsewhere (nothing prepared) the scores are still recomputed; the labels cannot be.
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "elsewhere"))
    bench.reset()
    found = check_submission(records, fingerprints=manifest, protocols=protocols,
                             request=BoardRequest(cost=True))
    assert failures(found) == []
    assert sorted(p.message.split(": ")[0] for p in found) == [
        f"image keys and true labels of {target}" for target in sorted(TARGETS)]


def test_a_board_published_in_batches_is_rebuilt_as_one(
        trained: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """One `--publish --models M` per model, then `--records` of every batch: the same files."""
    manifest, protocols = trained
    date = "2026-01-02"
    whole = publish_checked(make_boards(BoardRequest(cost=True, date=date)), tmp_path / "whole",
                            fingerprints=manifest, protocols=protocols)
    for model in ("tiny", "tiny2"):
        publish_checked(make_boards(BoardRequest(models=[model], cost=True, date=date)),
                        tmp_path / model, fingerprints=manifest, protocols=protocols)
    (records,) = (p.name for p in whole.written if p.name.endswith(".scores.csv"))
    assert "~stain:3" in (tmp_path / "tiny" / records).read_text()  # shifted rows published

    # The CLI's check knows the built-in protocols; this lab's is published beside its boards.
    monkeypatch.setattr("bench.leaderboard.submissions.check.known_protocols", lambda: protocols)
    result = invoke(
        "leaderboard", "--records", str(tmp_path / "tiny" / records),
        str(tmp_path / "tiny2" / records), "--publish", "--out-dir", str(tmp_path / "rebuilt"),
        "--date", date, "--cost", "--fingerprints", str(manifest))
    assert result.exit_code == 0, result.output
    assert "unofficial" not in result.output
    for path in whole.written:
        assert (tmp_path / "rebuilt" / path.name).read_bytes() == path.read_bytes(), path.name
    board = (tmp_path / "rebuilt" / records.replace(".scores.csv", ".md")).read_text()
    assert "## Shift suite" in board and "| tiny2 | colours-a |" in board
    checked = invoke("leaderboard", "--check", str(tmp_path / "rebuilt"),
                     "--cost", "--fingerprints", str(manifest), "--strict")
    assert checked.exit_code == 0, checked.output
