"""`bench site build` and `bench site verify` on a synthetic store: pages, numbers, determinism."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from fixtures.cli import invoke
from site_fixtures import RUNS, SUPPORT

import bench
from bench.site import SiteSettings, build_site, load_inputs, verify_site


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_the_site_has_an_index_boards_models_and_cells(built_site: Path):
    manifest = json.loads((built_site / "site.json").read_text())
    assert manifest["boards"] == [
        "boards/quick-abcdef01--same.html", "boards/quick-abcdef01--cross.html",
        "boards/quick-abcdef01-shift.html",
        "boards/zedda2024--same.html", "boards/zedda2024--cross.html",
    ]
    index = (built_site / "index.html").read_text()
    for page in manifest["boards"] + manifest["models"]:
        assert f'href="{page}"' in index
    assert "models/alpha.html" in manifest["models"]
    assert "models/VGG-19.html" in manifest["models"]  # no plugin here: the paper's spelling
    # A cell page per model x source x target with predictions, shifted targets included.
    slug = {t: t.replace("~", "-").replace(":", "-") for r in RUNS for t in r.accuracy}
    expected = {f"cells/quick-abcdef01/{r.model}--{r.source}--{slug[t]}.html"
                for r in RUNS for t in r.accuracy}
    assert set(manifest["cells"]) == expected
    shift = (built_site / "boards/quick-abcdef01-shift.html").read_text()
    assert "<polyline" in shift and "Shift curves" in shift
    cross = (built_site / "boards/quick-abcdef01--cross.html").read_text()
    assert "Heat map" in cross and "Score against run time" in cross
    assert "bench run --model alpha,beta --source d1,d2 --target d1,d2 --protocol quick " \
           "--seed 0,1" in cross


def test_every_file_is_in_the_folder_and_nothing_is_fetched(built_site: Path):
    for path in built_site.rglob("*.html"):
        text = path.read_text()
        for link in re.findall(r'(?:href|src)="([^"]*)"', text):
            assert not re.match(r"^(https?:)?//", link), (path, link)
            assert (path.parent / link.split("#")[0]).is_file(), (path, link)
    for path in (built_site / "static").iterdir():
        assert "http" not in path.read_text(), path  # no font, import or URL to fetch


def test_a_cell_page_adds_up(built_site: Path):
    page = (built_site / "cells/quick-abcdef01/alpha--d1--d2.html").read_text()
    counts = [int(n) for n in re.findall(r"""data-k='\["confusion"[^']*'>(\d+)<""", page)]
    assert sum(counts) == 2 * sum(SUPPORT.values())  # two seeds, every test image once each
    shown = [float(c) for c in re.findall(r"→ [LMNEB] ([\d.]+) %", page)]
    assert len(shown) == 48 and shown == sorted(shown, reverse=True)
    assert "No thumbnails: d2 is not prepared on the machine that built this site" in page
    assert "2 seeds (0, 1)" in page


def test_verify_finds_no_difference_on_a_fresh_build(built_site: Path, synthetic_store: Path):
    differences, checked = verify_site(built_site, load_inputs(store_path=synthetic_store))
    assert differences == []
    assert checked > 3000


def test_building_twice_gives_the_same_bytes(synthetic_store: Path, tmp_path: Path):
    settings = SiteSettings(resamples=50, thumbnails=5)
    build_site(tmp_path / "a", load_inputs(store_path=synthetic_store), settings)
    build_site(tmp_path / "b", load_inputs(store_path=synthetic_store), settings)
    first, second = files(tmp_path / "a"), files(tmp_path / "b")
    assert first == second
    build_site(tmp_path / "a", load_inputs(store_path=synthetic_store), settings)  # in place
    assert files(tmp_path / "a") == first


@pytest.fixture
def own_site(synthetic_store: Path, tmp_path: Path) -> Path:
    out = tmp_path / "site"
    build_site(out, load_inputs(store_path=synthetic_store), SiteSettings(resamples=50))
    return out


def test_an_edited_page_number_is_found(own_site: Path, synthetic_store: Path):
    page = own_site / "boards/quick-abcdef01--cross.html"
    text = page.read_text()
    match = re.search(r"""(data-k='\["score", "quick-abcdef01", "cross", "alpha", "d1", "d2", """
                      r""""f1"\]'>(?:<a [^>]*>)?(?:<[a-z]+>)?)([\d.]+)""", text)
    assert match, "the alpha d1 -> d2 F1 cell"
    edited = f"{float(match[2]) + 1:.1f}"
    page.write_text(text.replace(match[0], match[1] + edited, 1))
    differences, _ = verify_site(own_site, load_inputs(store_path=synthetic_store))
    assert len(differences) == 1
    assert differences[0].page == "boards/quick-abcdef01--cross.html"
    assert '"alpha", "d1", "d2", "f1"' in differences[0].key
    assert differences[0].shown.startswith(edited)


def test_changed_records_are_found(own_site: Path, synthetic_store: Path):
    with sqlite3.connect(synthetic_store) as db:
        db.execute("UPDATE scores SET value = value - 0.1 WHERE metric = 'f1' AND target = 'd1'"
                   " AND run_id IN (SELECT id FROM runs WHERE model = 'beta')")
        # one prediction: the first image of alpha's seed-0 run on d2 now predicted right
        run = db.execute("SELECT id FROM runs WHERE model = 'alpha' AND source = 'd1' AND "
                         "seed = 0").fetchone()[0]
        db.execute("UPDATE predictions SET predicted = label WHERE run_id = ? AND target = 'd2'"
                   " AND predicted != label AND path = (SELECT MIN(path) FROM predictions WHERE "
                   "run_id = ? AND target = 'd2' AND predicted != label)", (run, run))
    differences, _ = verify_site(own_site, load_inputs(store_path=synthetic_store))
    keys = [json.loads(d.key) for d in differences]
    assert any(k[0] == "score" and k[3] == "beta" and k[5] == "d1" and k[6] == "f1"
               for k in keys)
    assert any(k[0] == "confusion" and k[2:5] == ["alpha", "d1", "d2"] for k in keys)
    assert any(k[0] == "wrong-count" and k[2:5] == ["alpha", "d1", "d2"] for k in keys)


def test_a_site_from_published_records_verifies_against_them(synthetic_store: Path,
                                                              tmp_path: Path):
    boards = bench.leaderboard.from_store(synthetic_store, cross=True)
    # unofficial: the synthetic split fingerprints are not the published ones
    written = bench.leaderboard.publish_checked(boards, tmp_path / "leaderboards",
                                                unofficial=True).written
    names = {p.name for p in written}
    assert "quick-abcdef01.scores.csv" in names and "quick-abcdef01.predictions.csv.gz" in names
    result = invoke("site", "build", tmp_path / "site", "--records", tmp_path / "leaderboards",
                    "--json")
    assert result.exit_code == 0, result.output
    built = json.loads(result.stdout)
    # The shift board and the cell pages come from the records and the predictions beside them.
    assert built["boards"] == 3 and built["cells"] == len(
        {(r.model, r.source, t) for r in RUNS for t in r.accuracy})
    verified = invoke("site", "verify", tmp_path / "site", "--records", tmp_path / "leaderboards")
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("OK: ")
    # The same pages against other records: every changed cell is named.
    records = next((tmp_path / "leaderboards").glob("*.scores.csv"))
    text = records.read_text().splitlines()
    header = text[0].split(",")
    row = next(i for i, line in enumerate(text) if ",f1," in line and ",beta," in line)
    fields = text[row].split(",")
    fields[header.index("value")] = "0.5"
    text[row] = ",".join(fields)
    records.write_text("\n".join(text) + "\n")
    failed = invoke("site", "verify", tmp_path / "site", "--records", tmp_path / "leaderboards",
                    "--json")
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    keys = [json.loads(d["key"]) for d in report["differences"]]
    changed = [line.split(",") for line in text[row:row + 1]][0]
    source, target = changed[header.index("source")], changed[header.index("target")]
    assert ["score", "quick-abcdef01", "cross", "beta", source, target, "f1"] in keys
    # the board, the model page and the heat maps (beta's and the mean over models)
    assert all(source in k and target in k and "f1" in k for k in keys), keys


def test_published_records_give_the_stores_pages_shift_curves_included(
        synthetic_store: Path, built_site: Path, tmp_path: Path):
    """Records and predictions as `--publish` writes them lose nothing the site shows."""
    boards = bench.leaderboard.from_store(synthetic_store)
    bench.leaderboard.publish_checked(boards, tmp_path / "leaderboards", unofficial=True)
    site = tmp_path / "site"
    build_site(site, load_inputs(records=[tmp_path / "leaderboards"]),
               SiteSettings(resamples=200))
    shift = (site / "boards/quick-abcdef01-shift.html").read_text()
    assert shift.count("<polyline") == 2 and "d2 ~stain" in shift  # alpha and beta from d1

    def pages(root: Path) -> dict[str, list[str]]:
        """Board and cell pages, but for the footer (which says where the numbers came from).

        Model pages show what only a store has (the input size each run trained at).
        """
        return {path: [line for line in text.decode().splitlines()
                       if not line.startswith("<footer>")]
                for path, text in files(root).items() if path.startswith(("boards/", "cells/"))}

    assert pages(site) == pages(built_site)
    assert verify_site(site, load_inputs(records=[tmp_path / "leaderboards"]))[0] == []


def test_only_the_papers_boards_when_a_folder_holds_no_records(tmp_path: Path, no_plugins):
    (tmp_path / "leaderboards").mkdir()
    result = invoke("site", "build", tmp_path / "site", "--records", tmp_path / "leaderboards",
                    "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["boards"] == 1  # the paper's
    assert "no records file" in result.stderr
    assert invoke("site", "verify", tmp_path / "site", "--records",
                  tmp_path / "leaderboards").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--records", "x.scores.csv", "--store", "y.sqlite"], "give one of them"),
    (["--store", "missing.sqlite"], "no results store at missing.sqlite"),
    (["--no-reference", "--reference", "zedda2024"], "Give one of them"),
    (["--reference", "nosuch"], "nosuch"),
])
def test_bad_sources_get_one_clear_message(args, message, tmp_path, monkeypatch, no_plugins):
    monkeypatch.chdir(tmp_path)
    result = invoke("site", "build", "out", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_site_is_never_overwritten(tmp_path: Path, synthetic_store):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = invoke("site", "build", tmp_path / "mine", "--store", synthetic_store)
    assert result.exit_code == 1
    assert "is not a site built by bench" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    result = invoke("site", "verify", tmp_path / "mine", "--store", synthetic_store)
    assert result.exit_code == 1 and "holds no site.json" in result.output


def test_tiers_on_the_site_from_three_seeds(tmp_path: Path, no_plugins):
    from site_fixtures import Run, write_runs

    store_path = tmp_path / "results.sqlite"
    runs = [Run(model, "d1", seed, {"d1": accuracy + 0.005 * seed}, 60.0)
            for model, accuracy in (("alpha", 0.90), ("beta", 0.89), ("gamma", 0.55))
            for seed in range(3)]
    write_runs(bench.open_store(store_path), runs)
    out = tmp_path / "site"
    result = invoke("site", "build", out, "--store", store_path, "--marks", "tiers",
                    "--resamples", "200", "--no-reference")
    assert result.exit_code == 0, result.output
    [same] = [p for p in (out / "boards").glob("*.html") if "same" in p.name]
    text = same.read_text()
    rows = {model: re.search(rf">{model}<.*?</tr>", text, re.S).group(0)
            for model in ("alpha", "beta", "gamma")}
    assert "T1 (" in rows["alpha"] and "T1 (" in rows["beta"]  # one point apart: one tier
    assert "T2 (" in rows["gamma"]  # 35 points behind: the next tier
    verified = invoke("site", "verify", out, "--store", store_path, "--no-reference")
    assert verified.exit_code == 0, verified.output
