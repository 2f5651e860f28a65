"""Every format from one fixed store, pinned by golden files; escaping of plugin names.

Regenerate the golden files after an intended change with BENCH_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from leaderboard_fixtures import FIXED_DATE, FIXED_VERSION, Result, names_with, write_results

import bench
import bench.leaderboard as lb

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BENCH_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; create it with BENCH_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def boards(scores, names, layouts=("same",), metrics=("accuracy", "f1"), summary="f1"):
    groups = lb.store_groups(scores, names)
    return lb.build_boards(groups, names, layouts=layouts, metrics=list(metrics),
                           summary_metric=summary, date=FIXED_DATE, version=FIXED_VERSION)


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "latex", "html"])
def test_same_dataset_board_matches_its_golden_file(scores, names, fmt):
    suffix = {"latex": "tex"}.get(fmt, fmt)
    check_golden(f"same.{suffix}", lb.render(boards(scores, names), fmt))


def test_cross_dataset_board_matches_its_golden_file(scores, names):
    text = lb.render(boards(scores, names, layouts=("cross",), summary=None), "md")
    check_golden("cross.md", text)


def test_rendering_is_deterministic(scores, names):
    first = lb.render(boards(scores, names), "md")
    bench.reset()
    assert lb.render(boards(scores, names), "md") == first


def test_json_and_csv_carry_the_numbers_and_marks(scores, names):
    data = json.loads(lb.render(boards(scores, names, metrics=["f1"]), "json"))
    quick = next(b for b in data if b["context"]["protocol"] == "quick")
    assert quick["context"]["split_fingerprints"] == {"d1": "f1aaaa", "d2": "f2bbbb"}
    same = quick["tables"][0]
    alpha = next(r for r in same["rows"] if r["model"] == "alpha")
    assert alpha["cells"]["d1/f1"] == {"value": 90.7, "std": 0.6, "n": 3, "mark": "best",
                                       "baseline": False, "contaminated": False,
                                       "text": "90.7 ± 0.6",
                                       "ci_low": None, "ci_high": None, "ci_unit": None,
                                       "tier": None, "rank_interval": None}
    beta = next(r for r in same["rows"] if r["model"] == "beta")
    assert beta["cells"]["d2/f1"] is None  # missing, not zero
    rows = list(csv.DictReader(io.StringIO(lb.render(boards(scores, names), "csv"))))
    missing = [r for r in rows if r["table"] == "same" and r["model"] == "beta"
               and r["target"] == "d2"]
    assert missing and all(r["value"] == "" for r in missing)


def test_plugin_names_are_escaped_in_markdown_latex_and_html(tmp_path, monkeypatch):
    names = names_with(
        bench.ModelSpec(name="odd", display_name="Res|Net *x* <b>_1", factory=lambda n, p: None),
        bench.DatasetSpec(name="dz", display_name="D|Z $1", scan=lambda p: [], class_map={}),
        monkeypatch=monkeypatch,
    )
    store = bench.open_store(tmp_path / "r.sqlite")
    write_results(store, [Result("odd", "dz", 0, {"dz": 0.9},
                                 fingerprints={"dz": "fp|`1"})])
    board = lb.build_boards(lb.store_groups(store.scores(), names), names, metrics=["f1"],
                            date=FIXED_DATE, version=FIXED_VERSION)
    md = lb.render(board, "md")
    assert r"| Res\|Net \*x\* &lt;b&gt;\_1 | 90.0 |" in md
    assert r"| Model | D\|Z \$1 |" in md
    assert r"D\|Z \$1 fp\|\`1" in md  # a fingerprint that cannot be a code span
    for line in md.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 3  # no cell split by a name
    latex = lb.render(board, "latex")
    assert r"Res\textbar{}Net *x* \textless{}b\textgreater{}\_1" in latex
    html = lb.render(board, "html")
    assert "Res|Net *x* &lt;b&gt;_1" in html and "<b>_1" not in html


def test_unknown_format_lists_the_known(scores, names):
    with pytest.raises(bench.UnknownNameError, match="Known formats: csv, html, json"):
        lb.render(boards(scores, names), "pdf")


def test_format_follows_the_file_suffix():
    assert lb.format_for("board.tex") == "latex"
    assert lb.format_for("x/board.MD") == "md"
    assert lb.format_for("board.txt") is None


def test_terminal_tables_print_plugin_names_literally_not_as_rich_markup(scores, names):
    from rich.console import Console

    from bench.leaderboard.render.terminal import print_boards

    board = boards(scores, names, metrics=["f1"], summary=None)[0]
    row = board.tables[0].rows[0]
    odd = lb.Row(row.key, ("[bold]alpha[/]",), row.cells)
    table = lb.Table(**{**board.tables[0].__dict__, "rows": (odd,)})
    console = Console(file=io.StringIO(), width=120, color_system=None)
    print_boards([lb.Board(board.title, board.slug, board.context, (table,))], console)
    output = console.file.getvalue()
    assert "[bold]alpha[/]" in output and "90.7 ± 0.6" in output
