"""The shift suite end to end: a tiny model tested on a data set under rising shifts."""

from __future__ import annotations

import json

import numpy as np
from fixtures.cli import invoke

import bench
from bench.data import load_prepared
from bench.data.cache import cache_info
from bench.shifts.dataset import load_shifted
from bench.shifts.suite import load_suite
from bench.shifts.target_names import shifted_fingerprint

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json", "--model", "tiny", "--source", "colours-a", "--epochs", "3"]


def test_scores_fall_with_stain_severity_and_the_board_and_plot_show_it(tiny_world, tmp_path):
    result = invoke(*RUN, "--target", "colours-b,colours-b~stain:1..5")
    assert result.exit_code == 0, result.output
    scores = bench.open_store().scores()
    accuracy = scores[scores.metric == "accuracy"].set_index("target").value
    series = [accuracy["colours-b"], *(accuracy[f"colours-b~stain:{s}"] for s in range(1, 6))]
    assert all(later <= earlier for earlier, later in zip(series, series[1:])), series
    assert series[-1] <= series[0] - 0.15, series  # colour-coded classes: stain shifts hurt
    # Each shifted target carries its own fingerprint: base split, suite hash, shift, severity.
    base = load_prepared("colours-b").fingerprint
    fingerprints = scores.drop_duplicates("target").set_index("target").target_fingerprint
    suite = load_suite()
    for severity in range(1, 6):
        shifted = load_shifted(f"colours-b~stain:{severity}")
        assert fingerprints[shifted.name] == shifted_fingerprint(base, shifted.shifted, suite)
    assert fingerprints.nunique() == 6

    board = invoke("leaderboard", "--shift", "--metric", "accuracy", "--json")
    assert board.exit_code == 0, board.output
    table = json.loads(board.stdout)[0]["tables"][0]
    assert table["name"] == "shift"
    row = table["rows"][0]
    text = json.dumps(row)
    for severity in range(6):
        assert f"colours-b~stain/{severity}" in text
    drop = next(v for k, v in row["cells"].items() if k.endswith("/drop"))
    expected = np.mean([(series[0] - s) / series[0] * 100 for s in series[1:]])
    assert drop["value"] == round(expected, 1)
    assert suite.hash in json.dumps(table["notes"])
    markdown = invoke("leaderboard", "--shift", "--metric", "accuracy", "--format", "md")
    for targets in ("colours-b", "all"):  # the base's name (or all) keeps its shifted sets
        narrowed = invoke("leaderboard", "--shift", "--targets", targets, "--format", "md")
        assert narrowed.exit_code == 0, narrowed.output
        assert "colours-b \\~stain 5" in narrowed.stdout, narrowed.stdout
    assert "~stain" in markdown.stdout and "drop" in markdown.stdout

    # The ordinary boards leave shifted targets to the shift board.
    cross = invoke("leaderboard", "--cross", "--metric", "accuracy", "--json")
    assert cross.exit_code == 0 and "~stain" not in cross.stdout

    plots = tmp_path / "plots"
    drawn = invoke("leaderboard", "--shift", "--metric", "accuracy", "--plots", str(plots))
    assert drawn.exit_code == 0, drawn.output
    assert [p.name for p in sorted(plots.rglob("shift-*"))] == ["shift-colours-b.png",
                                                                "shift-colours-b.svg"]


def test_a_shifted_cache_is_built_once_and_the_same_bytes_in_another_home(
        tiny_world, tmp_path, monkeypatch):
    shifted = load_shifted("colours-b~noise:4")
    images = np.array(shifted.split("test", 64).images)
    info = cache_info(shifted.folder, 64)
    built = (shifted.folder.cache_dir(64) / "images.npy").stat().st_mtime_ns
    again = load_shifted("colours-b~noise:4")
    assert np.array_equal(again.split("test", 64).images, images)
    assert (again.folder.cache_dir(64) / "images.npy").stat().st_mtime_ns == built  # reused
    base = load_prepared("colours-b").split("test", 64)
    assert images.shape == base.images.shape and not np.array_equal(images, base.images)

    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "elsewhere"))
    bench.reset()
    from bench.data import prepare_dataset

    prepare_dataset("colours-b", progress=False)
    elsewhere = load_shifted("colours-b~noise:4")
    elsewhere.split("test", 64)
    assert cache_info(elsewhere.folder, 64)["sha256"] == info["sha256"]


def test_all_shift_means_every_prepared_set_at_every_severity(tiny_world):
    from bench.engine.run_display import QuietListener
    from bench.engine.runner import RunRequest, plan_matrix
    from bench.protocols import load_protocol

    request = RunRequest(models=["tiny"], sources=["colours-a"], targets=["all~blur"],
                         protocol=load_protocol("quick"), device="cpu", pretrained=False)
    plans = plan_matrix(request, QuietListener())
    assert plans[0].targets == [f"{name}~blur:{s}" for name in ("colours-a", "colours-b")
                                for s in range(1, 6)]


def test_a_finished_cell_is_tested_on_a_shifted_target_without_training(tiny_world):
    assert invoke(*RUN, "--target", "colours-b").exit_code == 0
    later = invoke(*RUN, "--target", "colours-b,colours-b~jpeg:5")
    assert later.exit_code == 0, later.output
    rows = json.loads(later.stdout)
    assert rows[0]["status"] == "finished"
    assert "tested on colours-b~jpeg:5 (trained before)" in rows[0]["detail"]
    assert set(bench.open_store().scores().target) == {"colours-b", "colours-b~jpeg:5"}


def test_a_shifted_set_is_never_a_source(tiny_world):
    result = invoke(*RUN[:-4], "--source", "colours-a~stain:2", "--target", "colours-b")
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "never trained on" in message and "--source colours-a --target colours-a~stain:2" \
        in message
    assert bench.open_store().runs().empty


def test_a_bad_shift_or_severity_is_named_before_anything_runs(tiny_world):
    unknown = invoke(*RUN, "--target", "colours-b~stian:2")
    assert unknown.exit_code == 1 and "unknown shift 'stian'" in unknown.output
    assert "Did you mean: stain" in unknown.output
    severity = invoke(*RUN, "--target", "colours-b~stain:7")
    assert severity.exit_code == 2 and "severity" in severity.output
    unprepared = invoke(*RUN, "--target", "nothing-here~stain:2")
    assert unprepared.exit_code == 1 and "unknown dataset 'nothing-here'" in unprepared.output
    not_yet = invoke(*RUN, "--target", "pbc~stain:2")  # known, not prepared: how to prepare it
    assert not_yet.exit_code == 1 and "bench datasets prepare pbc" in not_yet.output
    assert bench.open_store().runs().empty


def test_bench_evaluate_tests_a_trained_cell_on_every_severity_of_a_shift(tiny_world):
    assert invoke(*RUN, "--target", "colours-b").exit_code == 0
    result = invoke("evaluate", "--model", "tiny", "--source", "colours-a", "--target",
                    "colours-b~scale", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert sorted(row["scores"]) == [f"colours-b~scale:{s}" for s in range(1, 6)]
    store = bench.open_store()
    assert len(store.runs()) == 1
    assert set(store.evaluated_targets(store.runs()["id"].item())) == {
        "colours-b", *(f"colours-b~scale:{s}" for s in range(1, 6))}


def test_v2_shifts_the_published_image_so_a_severity_is_the_same_at_every_cache_size(
        tiny_world):
    """blur:3 at 64 px and at 224 px: one shifted image as published, then two resizes."""
    from PIL import Image

    from bench.data.decode import decode_native, square_resize

    shifted = load_shifted("colours-b~blur:3")
    assert shifted.suite.native
    root, first = shifted.base.root, shifted.base.split("test", 64).paths[0]
    published = decode_native((root / first).read_bytes())
    before_resize = shifted.suite.apply(published, "blur", "3")  # no size goes in
    assert not np.array_equal(before_resize, published)
    for size in (64, 224):
        cached = shifted.split("test", size).images[0]
        assert np.array_equal(cached, np.asarray(square_resize(Image.fromarray(before_resize),
                                                               size)))
    # v1 blurred the resized cache with a sigma scaled by the size: another image per size
    v1 = load_shifted("colours-b~blur:3", load_suite("v1"))
    assert not np.array_equal(v1.split("test", 64).images[0], shifted.split("test", 64).images[0])


def test_boards_made_under_suite_v1_still_show_when_v2_is_the_default(tiny_world, monkeypatch):
    monkeypatch.setenv("BENCH_SHIFT_SUITE", "v1")
    assert invoke(*RUN, "--target", "colours-b,colours-b~stain:1..2").exit_code == 0
    v1 = load_suite("v1")
    monkeypatch.delenv("BENCH_SHIFT_SUITE")
    board = invoke("leaderboard", "--shift", "--metric", "accuracy", "--json")
    assert board.exit_code == 0, board.output
    table = json.loads(board.stdout)[0]["tables"][0]
    groups = {column["group"] for column in table["columns"]}
    assert groups == {"colours-b ~stain (suite v1)"}, groups
    assert v1.hash in json.dumps(table["notes"]) and table["rows"]
    # Testing the same cell under v2 replaces them: the target's fingerprint changed.
    later = invoke(*RUN, "--target", "colours-b,colours-b~stain:1..2")
    assert later.exit_code == 0, later.output
    board = json.loads(invoke("leaderboard", "--shift", "--json").stdout)[0]["tables"][0]
    assert {column["group"] for column in board["columns"]} == {"colours-b ~stain"}
    assert load_suite().hash in json.dumps(board["notes"])


def test_a_full_disk_while_caching_a_shifted_set_is_one_message_and_leaves_nothing(
        tiny_world, monkeypatch):
    """The disk fills after the blocks were reserved (a quota, another writer): a patched
    ``pwrite``. The cell keeps its scores; the shifted set is built whole on the next try."""
    import errno
    import os

    assert invoke(*RUN, "--target", "colours-b").exit_code == 0  # trained, base cache built
    write = os.pwrite

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    result = invoke(*RUN, "--target", "colours-b~blur:1")
    message = " ".join(result.output.split())
    assert result.exit_code == 1, message
    assert "no space left on the disk of" in message and "colours-b~blur:1" in message
    assert "point BENCH_HOME at a disk with room" in message and "Traceback" not in message
    shifted = load_shifted("colours-b~blur:1")
    assert not list(shifted.folder.root.rglob("*.npy"))  # nothing half-written is kept
    assert set(bench.open_store().scores().target) == {"colours-b"}

    monkeypatch.setattr(os, "pwrite", write)  # space freed
    again = invoke(*RUN, "--target", "colours-b~blur:1")
    assert again.exit_code == 0, again.output
    assert set(bench.open_store().scores().target) == {"colours-b", "colours-b~blur:1"}
