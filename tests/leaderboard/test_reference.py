"""The built-in published board: loading, checking, and agreement with the paper's CSV."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from leaderboard_fixtures import FIXED_DATE, FIXED_VERSION, names_with

import bench
import bench.leaderboard as lb
from bench.leaderboard.reference import paper_order, reference_rows

REFERENCE_DIR = Path(lb.__file__).resolve().parents[1] / "reference"
REPO_BOARD = Path(__file__).resolve().parents[2] / "leaderboards" / "zedda2024.md"
METRICS = ("accuracy", "precision", "recall", "f1")
ABBR = {"accuracy": "A", "precision": "P", "recall": "R", "f1": "F1"}


def reference_board(names: lb.Names, layouts=("same",), summary=None, metrics=METRICS,
                    second=None):
    group = lb.reference_group("zedda2024", names)
    names = names.with_labels(lb.published_labels("zedda2024", names))
    return lb.build_board(group, names, layouts=layouts, metrics=list(metrics),
                          summary_metric=summary, date=FIXED_DATE, version=FIXED_VERSION,
                          second=second)


def parse_markdown_table(text: str, title_start: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the first Markdown table after a heading starting with title_start."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {title_start}"))
    table = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return table[0], table[2:]


def test_the_shipped_csvs_are_the_shared_reference_copied():
    shared = Path(__file__).resolve().parents[3] / "shared" / "reference"
    if not shared.is_dir():
        pytest.skip("shared/reference is not beside the checkout")
    for name in ("zedda2024_same_dataset.csv", "zedda2024_cross_dataset.csv", "README.md"):
        assert (REFERENCE_DIR / name).read_bytes() == (shared / name).read_bytes()


def test_reference_tables_have_the_papers_shape():
    same = reference_rows("zedda2024", "same")
    cross = reference_rows("zedda2024", "cross")
    assert len(same) == 7 * 6
    # Table 3 is cut short: Swin on WBC-USID-B lacks WBC-USID-C, Swin on WBC-USID-C is absent.
    assert len(cross) == 7 * 36 - 7
    assert paper_order()["model"] == [
        "VGG-19", "ResNet-152", "Inception-V3", "DenseNet-121", "MobileNet-V3", "ViT", "Swin",
    ]
    assert paper_order()["dataset"][-2:] == ["WBC-USID-B", "WBC-USID-C"]


# The paper's Table 2 underlines: one model per data set, on all four metrics, and none on
# WBC-USID-C, where ResNet-152 and Inception-V3 tie for best (issue 19's review of the paper).
PAPER_UNDERLINES = {("Inception-V3", "Raabin"), ("MobileNet-V3", "AML"), ("DenseNet-121", "PBC"),
                    ("DenseNet-121", "LDWBC"), ("ResNet-152", "WBC-USID-B")}


def _marks(text: str, title_start: str) -> dict[tuple[str, str], str]:
    """(row label, column header) -> best/second, read back from rendered Markdown."""
    header, rows = parse_markdown_table(text, title_start)
    found = {}
    for row in rows:
        for column, cell in zip(header[1:], row[1:], strict=True):
            if cell.startswith("**") or cell.startswith("<u>"):
                found[(row[0], column)] = "best" if cell.startswith("**") else "second"
    return found


def test_reference_board_underlines_what_the_paper_underlines(names):
    text = lb.render([reference_board(names)], "md")
    underlined = {key for key, mark in _marks(text, "Same data set").items() if mark == "second"}
    assert underlined == {(model, f"{dataset} {ABBR[m]}") for model, dataset in PAPER_UNDERLINES
                          for m in METRICS}
    assert len(underlined) == 20
    assert "none after a tie for best" in text  # the legend says which rule placed them
    # the other rule, still on offer: the next distinct value, whatever ties above it
    distinct = lb.render([reference_board(names, second="distinct")], "md")
    seconds = {k for k, mark in _marks(distinct, "Same data set").items() if mark == "second"}
    assert len(seconds) == 26
    assert seconds - underlined == {("VGG-19", f"WBC-USID-C {ABBR[m]}") for m in METRICS} | {
        ("Swin", "PBC A"), ("Swin", "PBC R")}
    assert "second best (ties share a mark)" in distinct


@pytest.mark.parametrize("rule", ["paper", "distinct"])
def test_table_2_marks_and_ranking_match_a_direct_computation_from_the_csv(names, rule):
    text = lb.render([reference_board(names, second=rule)], "md")
    header, rows = parse_markdown_table(text, "Same data set")
    with (REFERENCE_DIR / "zedda2024_same_dataset.csv").open(newline="") as handle:
        direct = list(csv.DictReader(handle))
    datasets = list(dict.fromkeys(r["dataset"] for r in direct))
    assert header == ["Model"] + [f"{d} {ABBR[m]}" for d in datasets for m in METRICS]
    for position, column in enumerate(header[1:], start=1):
        dataset, abbr = column.rsplit(" ", 1)
        metric = next(m for m, a in ABBR.items() if a == abbr)
        published = {r["model"]: float(r[metric]) for r in direct if r["dataset"] == dataset}
        best = max(published.values())
        second = max(v for v in published.values() if v < best)
        group = {r["model"]: [float(r[m]) for m in METRICS if m != metric]
                 for r in direct if r["dataset"] == dataset}
        seconds = [m for m, v in published.items() if v == second]
        if rule == "paper":  # competition ranking (1, 1, 3); a tie broken on the other metrics
            if list(published.values()).count(best) > 1:
                seconds = []
            top = max(sum(group[m]) for m in seconds) if seconds else None
            seconds = [m for m in seconds if sum(group[m]) == top]
        rendered, marks = {}, {}
        for row in rows:
            cell = row[position]
            marks[row[0]] = "best" if cell.startswith("**") else (
                "second" if cell.startswith("<u>") else None)
            rendered[row[0]] = float(re.sub(r"[^0-9.]", "", cell))
        assert rendered == published, column
        expected = {m: "best" if v == best else "second" if m in seconds else None
                    for m, v in published.items()}
        assert marks == expected, column
        assert sorted(rendered, key=lambda m: (-rendered[m], m)) == sorted(
            published, key=lambda m: (-published[m], m))


def test_mean_ranks_match_a_direct_computation_from_the_csv(names):
    board = reference_board(names, summary="f1")
    table = next(t for t in board.tables if t.name == "mean-rank")
    frame = pd.read_csv(REFERENCE_DIR / "zedda2024_same_dataset.csv")
    frame["rank"] = frame.groupby("dataset")["f1"].rank(method="average", ascending=False)
    expected = frame.groupby("model")["rank"].mean()
    column = next(c for c in table.columns if c.key == "same_rank")
    got = {row.labels[0]: row.value(column).mean for row in table.rows}
    assert got == pytest.approx(expected.to_dict())
    best = min(expected)
    assert [r.labels[0] for r in table.rows if r.value(column).mark == "best"] == [
        m for m, v in expected.items() if v == best
    ]


def test_cross_table_marks_the_diagonal_as_baseline_and_leaves_missing_cells_missing(names):
    board = reference_board(names, layouts=("cross",), metrics=("f1",))
    table = board.tables[0]
    swin_c = next(r for r in table.rows if r.labels == ("Swin", "WBC-USID-C"))
    assert all(swin_c.value(c).missing for c in table.columns)
    vgg_b = next(r for r in table.rows if r.labels == ("VGG-19", "WBC-USID-B"))
    baseline = [c.label for c in table.columns if vgg_b.value(c).baseline]
    assert baseline == ["WBC-USID-B"]
    text = lb.render([board], "md")
    assert "| Swin | WBC-USID-C | – | – | – | – | – | – |" in text
    # DenseNet-121 on PBC: 98.0 in Table 2 but 97.9 on Table 3's diagonal; each as printed.
    assert "| DenseNet-121 | PBC | 60.5 | 74.4 | *97.9* |" in text.replace("<u>", "").replace(
        "</u>", "").replace("**", "")


def test_reference_renders_alone_and_maps_to_registered_names(monkeypatch, names):
    alone = reference_board(names)
    assert {row.key[0] for row in alone.tables[0].rows} >= {"VGG-19", "Swin"}
    registered = names_with(
        bench.ModelSpec(name="vgg19", aliases=("VGG-19",), display_name="Vgg nineteen",
                        factory=lambda n, p: None),
        bench.DatasetSpec(name="wbc-usid-b", aliases=("WBC-USID-B",), scan=lambda p: [],
                          class_map={}),
        monkeypatch=monkeypatch,
    )
    board = reference_board(registered)
    row = board.tables[0].rows[0]
    assert row.key == ("vgg19",) and row.labels == ("VGG-19",)  # as printed, keyed as ours
    assert "wbc-usid-b" in {c.target for c in board.tables[0].columns}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("VGG-19,Raabin,96.5,96.6,96.5", "line 3: expected 6 fields"),
        ("VGG-19,Raabin,96.5,96.6,abc,96.5", "line 3: recall should be a percentage"),
        ("VGG-19,Raabin,96.5,96.6,96.5,196.5", "line 3: f1 196.5 is not a percentage"),
        ("VGG-19,AML,96.5,96.6,96.5,96.5", "line 3: VGG-19 on AML -> AML is already given on "
                                           "line 2"),
        (",Raabin,96.5,96.6,96.5,96.5", "line 3: a model or data-set name is empty"),
    ],
)
def test_a_malformed_reference_row_names_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "table2.csv"
    path.write_text("model,dataset,accuracy,precision,recall,f1\n"
                    "VGG-19,AML,88.1,89.4,88.1,87.9\n" + line + "\n")
    with pytest.raises(bench.DataError) as caught:
        lb.read_reference_csv(path, "same")
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_reference_file_with_the_wrong_header_says_what_was_expected(tmp_path):
    path = tmp_path / "table3.csv"
    path.write_text("model,dataset,accuracy,precision,recall,f1\nVGG-19,AML,1,2,3,4\n")
    with pytest.raises(bench.DataError, match=r"line 1: expected the header model,source,target"):
        lb.read_reference_csv(path, "cross")


def test_unknown_reference_board_lists_the_known_ones(names):
    with pytest.raises(bench.UnknownNameError, match="zedda2024"):
        lb.reference_group("zeda2024", names)


def test_the_published_reference_board_in_the_repository_is_up_to_date(tmp_path, names):
    if not REPO_BOARD.is_file():
        pytest.skip("no leaderboards/ folder beside this checkout")
    published = REPO_BOARD.read_text()
    version, date = re.search(r"Rendered by bench (\S+), (\S+)", published).groups()
    group = lb.reference_group("zedda2024", names)
    labelled = names.with_labels(lb.published_labels("zedda2024", names))
    board = lb.build_board(group, labelled, layouts=("same", "cross"), metrics=list(METRICS),
                           summary_metric="f1", date=date, version=version)
    (path,) = lb.publish([board], tmp_path)
    assert path.name == "zedda2024.md"
    assert path.read_text() == published, (
        "leaderboards/zedda2024.md is stale: run "
        "`bench leaderboard --reference zedda2024 --publish`"
    )
