"""The HTML board fits a 1,400 px window with intervals on: the paper's six data sets x four
metrics, measured in a real browser where one is installed."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.leaderboard.make import BoardRequest, make_boards
from bench.leaderboard.render.html import render_html

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MEASURE = """<script>document.body.setAttribute("data-widths", [
  document.documentElement.scrollWidth, document.documentElement.clientWidth,
  ...[...document.querySelectorAll("table")].map(t => Math.ceil(t.getBoundingClientRect().right))
].join(","))</script></body>"""


def _with_intervals(board):
    """The published boards, each score given an interval as `--ci` prints it."""
    def interval(value):
        if value.mean is None:
            return value
        return dataclasses.replace(value, ci_low=value.mean - 1.13,
                                   ci_high=min(value.mean + 1.07, 100.0))

    tables = [dataclasses.replace(table, rows=tuple(
        dataclasses.replace(row, cells={k: interval(v) for k, v in row.cells.items()})
        for row in table.rows)) for table in board.tables]
    return dataclasses.replace(board, tables=tuple(tables))


@pytest.fixture
def wide_page() -> str:
    boards = [_with_intervals(board) for cross in (False, True)
              for board in make_boards(BoardRequest(reference="zedda2024", cross=cross)).boards]
    return render_html(boards)


def test_intervals_go_below_their_values_and_tables_scroll_in_their_own_box(wide_page):
    assert '96.5<span class="ci">[95.4, <wbr>97.6]</span>' in wide_page
    assert wide_page.count('<div class="board">') == wide_page.count("<table>")
    assert "th { white-space: normal; }" in wide_page  # headers wrap


def test_the_board_fits_1400_pixels_in_a_browser(wide_page, tmp_path: Path):
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no headless browser (chromium) to measure the page with")
    page = tmp_path / "board.html"
    page.write_text(wide_page.replace("</body>", MEASURE))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--window-size=1400,900", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    page_width, window, *tables = map(int, re.search(r'data-widths="([\d,]+)"', dom)[1]
                                      .split(","))
    assert page_width <= 1400 and window <= 1400  # no horizontal scroll bar on the page
    assert tables and max(tables) <= window  # and no table cut at its right edge
