"""The built site in a real browser: headless Chromium opens it from file://, offline.

Skipped, saying why, where Chromium or Playwright's Python package is missing; `.ci/run`
installs Debian's chromium so CI runs these.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright's Python package is not installed "
    "(pip install -e '.[test]')")
if not Path(CHROMIUM).is_file():
    pytest.skip("no Chromium at /usr/bin/chromium (Debian: apt-get install chromium)",
                allow_module_level=True)


class Browser:
    """One page that records every request and every console error."""

    def __init__(self, page) -> None:  # noqa: ANN001 - a playwright Page
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def column(self, table: str, index: int) -> list[str]:
        return self.page.eval_on_selector_all(
            f"#{table} tbody tr:not([hidden])",
            f"rows => rows.map(r => r.children[{index}].textContent.trim())")


@pytest.fixture(scope="module")
def browser(built_site: Path) -> Iterator[Browser]:
    with playwright.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = chromium.new_context(offline=True, viewport={"width": 1280, "height": 900})
        yield Browser(context.new_page())
        chromium.close()


def test_the_index_lists_every_board(browser: Browser, built_site: Path):
    manifest = json.loads((built_site / "site.json").read_text())
    browser.open(built_site / "index.html")
    links = browser.page.eval_on_selector_all("a.board-link",
                                              "links => links.map(a => a.getAttribute('href'))")
    assert links == manifest["boards"]
    titles = browser.page.eval_on_selector_all(".board-card h3", "hs => hs.map(h => h.textContent)")
    assert titles == ["Leaderboard, protocol quick (abcdef0123456789)",
                      "Shift suite, protocol quick (abcdef0123456789)",
                      "zedda2024: published figures"]


def _numbers(texts: list[str]) -> list[float | None]:
    return [None if t.startswith("–") else float(t.split()[0].rstrip("†")) for t in texts]


def test_sorting_a_column_reorders_the_rows(browser: Browser, built_site: Path):
    browser.open(built_site / "boards/zedda2024--cross.html")
    before = browser.column("t-cross", 0)
    header = browser.page.locator("#t-cross th[data-col='5'] button")  # PBC accuracy
    header.click()
    values = _numbers(browser.column("t-cross", 5))
    shown = [v for v in values if v is not None]
    assert shown == sorted(shown, reverse=True) and values[:len(shown)] == shown
    assert browser.column("t-cross", 0) != before
    header.click()
    values = [v for v in _numbers(browser.column("t-cross", 5)) if v is not None]
    assert values == sorted(values)
    browser.page.locator("#t-cross th[data-col='0'] button").click()  # by model name, A to Z
    models = browser.column("t-cross", 0)
    assert models == sorted(models, key=str.lower)


def test_filtering_by_model_keeps_its_rows(browser: Browser, built_site: Path):
    browser.open(built_site / "boards/quick-abcdef01--cross.html")
    assert set(browser.column("t-cross", 0)) == {"alpha", "beta"}
    browser.page.fill("input.filter", "beta")
    assert browser.column("t-cross", 0) == ["beta", "beta"]
    browser.page.fill("input.filter", "beta d2")
    assert browser.column("t-cross", 1) == ["d2"]
    browser.page.fill("input.filter", "")
    assert len(browser.column("t-cross", 0)) == 4


def test_a_model_page_shows_the_records_score(browser: Browser, built_site: Path,
                                              synthetic_store: Path):
    import bench

    scores = bench.open_store(synthetic_store).scores()
    rows = scores[(scores.model == "alpha") & (scores.source == "d1") & (scores.target == "d2")
                  & (scores.metric == "f1")]
    expected = f"{100 * rows.value.mean():.1f}"
    browser.open(built_site / "models/alpha.html")
    key = json.dumps(["score", "quick-abcdef01", "cross", "alpha", "d1", "d2", "f1"])
    shown = browser.page.locator(f"td[data-k='{key}']").first.inner_text()
    assert shown.split()[0] == expected
    hover = browser.page.locator(f"td[data-k='{key}'] .ci").first
    assert not hover.is_visible()
    browser.page.locator(f"td[data-k='{key}']").first.hover()
    assert hover.is_visible() and hover.inner_text().startswith("[")


def test_no_request_leaves_the_folder_and_no_console_error(browser: Browser, built_site: Path):
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        browser.open(page)
    assert browser.requests and all(url.startswith("file://") for url in browser.requests), [
        url for url in browser.requests if not url.startswith("file://")]
    assert browser.errors == []
