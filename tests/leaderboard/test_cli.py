"""`bench leaderboard` through click: formats, filters, publishing, plots and bad input."""

from __future__ import annotations

import json

from fixtures.cli import invoke
from leaderboard_fixtures import FIXED_DATE

import bench


def run(*args: str):
    return invoke("leaderboard", *args)


def flat(result) -> str:
    """The output with rich's line wrapping undone (paths make wrap points vary)."""
    return " ".join(result.output.split())


def test_an_empty_store_says_how_to_produce_results(no_plugins):
    bench.open_store()  # the data home's store exists but holds nothing
    result = run()
    assert result.exit_code == 1
    assert "holds no finished runs" in flat(result)
    assert "bench run --model" in flat(result)


def test_a_missing_store_file_is_an_error_not_a_new_empty_store(tmp_path, no_plugins):
    result = run("--store", str(tmp_path / "nope.sqlite"))
    assert result.exit_code == 1 and "no results store at" in flat(result)
    assert not (tmp_path / "nope.sqlite").exists()


def test_unknown_metric_and_protocol_list_the_known(store_path):
    result = run("--store", str(store_path), "--metric", "f2")
    assert result.exit_code == 1
    assert "unknown metric 'f2'" in flat(result) and "macro_f1" in flat(result)
    result = run("--store", str(store_path), "--protocol", "quik")
    assert result.exit_code == 1
    assert "unknown protocol 'quik'" in flat(result) and "zedda2024" in flat(result)


def test_terminal_table_json_and_markdown(store_path):
    table = run("--store", str(store_path), "--metric", "f1", "--protocol", "quick")
    assert table.exit_code == 0, table.output
    assert "alpha" in table.output and "90.7 ± 0.6" in table.output
    as_json = run("--store", str(store_path), "--json", "--metric", "f1", "--summary")
    data = json.loads(as_json.output)
    assert [board["context"]["protocol"] for board in data] == ["quick", "zedda2024"]
    assert [t["name"] for t in data[0]["tables"]] == ["same", "generalisation", "mean-rank"]
    md = run("--store", str(store_path), "--format", "md", "--cross", "--models", "beta",
             "--metric", "f1", "--date", FIXED_DATE)
    assert "| beta | d1 | *90.0 ± 2.8* | 64.5 ± 0.7 |"  # one model: no "best" in md.output
    assert "2025-01-31" in md.output


def test_out_writes_the_format_its_suffix_names(store_path, tmp_path):
    out = tmp_path / "board.tex"
    result = run("--store", str(store_path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert r"\begin{tabular}" in out.read_text()


def test_publish_is_deterministic_apart_from_the_date(store_path, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    # The fixture's protocols are not built in, and it kept no predictions: unofficial.
    assert run("--store", str(store_path), "--publish", "--out-dir", str(first),
               "--date", FIXED_DATE, "--unofficial").exit_code == 0
    assert run("--store", str(store_path), "--publish", "--out-dir", str(second),
               "--date", "2030-12-24", "--unofficial").exit_code == 0
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir())
    assert len([f for f in files if f.endswith(".md")]) == 2  # one board per protocol hash
    assert len([f for f in files if f.endswith(".scores.csv")]) == 2
    assert len([f for f in files if f.endswith(".predictions.csv.gz")]) == 2
    for name in files:
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        assert a.replace(FIXED_DATE.encode(), b"2030-12-24") == b
    board = next(first.glob("quick-*.md")).read_text()
    for heading in ("## Same data set", "## Cross data set", "## Generalisation by source",
                    "## Mean rank by model"):
        assert heading in board
    records = next(first.glob("quick-*.scores.csv")).read_text().splitlines()
    assert records[0].startswith("run_id,model,source,seed,protocol,protocol_hash")
    assert len(records) == 1 + sum(  # one line per stored score of the protocol
        len(bench.open_store(store_path).evaluations(r)) * 6
        for r in bench.open_store(store_path).runs().query("protocol == 'quick'")["id"]
    )


def test_reference_and_compare(store_path):
    ref = run("--reference", "zedda2024", "--metric", "f1", "--format", "md")
    assert ref.exit_code == 0, ref.output
    assert "| ResNet-152 | 94.3 | 86.7 | **99.2** |" in ref.output
    # the paper's rule by default: VGG-19 is third on WBC-USID-C after a tie for best
    assert ref.output.count("<u>") == 1 + 5 and "| 96.9 |" in ref.output
    distinct = run("--reference", "zedda2024", "--metric", "f1", "--format", "md",
                   "--second", "distinct")
    assert "<u>96.9</u>" in distinct.output and distinct.output.count("<u>") == 1 + 6
    compare = run("--store", str(store_path), "--compare", "zedda2024", "--format", "md")
    assert compare.exit_code == 0, compare.output
    assert "Ours beside zedda2024" in compare.output
    bad = run("--reference", "zedda2024", "--protocol", "quick")
    assert bad.exit_code == 1 and "--protocol filters the results store" in flat(bad)


def test_plots_option_writes_heat_maps_and_confusion_matrices(store_path, tmp_path):
    folder = tmp_path / "plots"
    result = run("--store", str(store_path), "--models", "gamma", "--sources", "d2",
                 "--protocol", "quick", "--plots", str(folder), "--format", "md")
    assert result.exit_code == 0, result.output
    # gamma's heat map, the mean over models, gamma trained on d2 tested on d2: PNG and SVG.
    assert "wrote 6 plot files" in flat(result)
    assert sorted(p.name for p in folder.rglob("*.svg")) == [
        "gamma--d2--seed0--d2.svg", "heatmap-gamma.svg", "heatmap-mean.svg"]
    assert "| gamma |" in result.output  # the table is still printed


def test_publish_writes_into_leaderboards_of_the_working_directory(tmp_path, monkeypatch,
                                                                    no_plugins):
    monkeypatch.chdir(tmp_path)
    result = run("--reference", "zedda2024", "--publish", "--date", FIXED_DATE)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "leaderboards" / "zedda2024.md").is_file()
    assert "wrote leaderboards/zedda2024.md" in flat(result)
    assert result.output.count("\n") == 1  # publishing alone prints no table
