"""leaderboards/site/ is what rebuilding it from the repository's boards gives, byte for byte."""

from __future__ import annotations

from pathlib import Path

from fixtures.cli import invoke

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "bench site build leaderboards/site --records leaderboards/ --marks tiers"


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_the_published_site_is_not_stale(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("site", "build", str(tmp_path / "site"), "--records", "leaderboards/",
                    "--marks", "tiers")
    assert result.exit_code == 0, result.output
    rebuilt, published = files(tmp_path / "site"), files(ROOT / "leaderboards" / "site")
    stale = sorted(name for name in rebuilt.keys() | published.keys()
                   if rebuilt.get(name) != published.get(name))
    assert not stale, f"leaderboards/site/ is stale ({', '.join(stale[:5])}); run `{COMMAND}`"
    verified = invoke("site", "verify", "leaderboards/site", "--records", "leaderboards/")
    assert verified.exit_code == 0, verified.output


def test_a_board_of_many_targets_folds_its_fingerprints_in_the_header():
    """22 split fingerprints (the shift board) would push the table below the fold."""
    page = (ROOT / "leaderboards/site/boards/cpu-small-ef355e1d-scratch-shift.html").read_text()
    header = page[page.index('<dl class="context">'):page.index("</dl>")]
    assert "<details><summary>22 data sets and shifted targets" in header
