"""One entry point for every text format, and the file suffixes that imply each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bench.errors import UnknownNameError
from bench.leaderboard.model import Board
from bench.leaderboard.render.data_files import render_csv, render_json
from bench.leaderboard.render.html import render_html
from bench.leaderboard.render.latex import render_latex
from bench.leaderboard.render.markdown import render_markdown

RENDERERS: dict[str, Callable[[Sequence[Board]], str]] = {
    "md": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "latex": render_latex,
    "html": render_html,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)
SUFFIXES = {".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json", ".tex": "latex",
            ".html": "html", ".htm": "html"}


def format_for(path: str | Path) -> str | None:
    """Return the format a file name implies (``board.tex``: latex), or None."""
    return SUFFIXES.get(Path(path).suffix.lower())


def render(boards: Sequence[Board], fmt: str = "md") -> str:
    """Render boards as text in one of md, csv, json, latex, html."""
    if fmt not in RENDERERS:
        raise UnknownNameError("format", fmt, FORMATS)
    return RENDERERS[fmt](boards)
