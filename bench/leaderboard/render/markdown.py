"""GitHub-flavoured Markdown: what `--publish` writes and what a README can include.

Names come from plugins and may hold anything; they are escaped so that a ``|`` cannot split
a cell and ``*``, ``_`` or ``<`` cannot turn into markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.leaderboard.format import (
    cell_text,
    context_lines,
    header,
    legend_parts,
)
from bench.leaderboard.model import Board, Table, Value

_ESCAPES = str.maketrans({
    "\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]",
    "~": "\\~", "$": "\\$", "#": "\\#", "&": "&amp;", "<": "&lt;", ">": "&gt;",
})
_STYLES = {"best": "**{}**", "second": "<u>{}</u>", "baseline": "*{}*", "missing": "{}"}


def escape(text: str) -> str:
    """Make text safe inside a table cell or a heading: no markup, no cell break, one line."""
    return " ".join(str(text).split()).translate(_ESCAPES)


def code(text: str) -> str:
    """Write a code span, or escaped text when the value holds a backtick or a pipe."""
    if "`" in text or "|" in text or not text:
        return escape(text)
    return f"`{text}`"


def styled(value: Value, text: str) -> str:
    if value.mark in ("best", "not_worse"):
        return f"**{text}**"
    if value.mark == "second":
        return f"<u>{text}</u>"
    if value.baseline:
        return f"*{text}*"
    return text


def table_markdown(table: Table, level: int = 2) -> str:
    headers = [escape(name) for name in table.index] + [
        escape(header(c)) for c in table.columns
    ]
    align = [":--"] * len(table.index) + ["--:"] * len(table.columns)
    lines = [
        f"{'#' * level} {escape(table.title)}",
        "",
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        cells = [escape(label) for label in row.labels]
        for column in table.columns:
            value = row.value(column)
            cells.append(styled(value, escape(cell_text(value, column, table.typical_n))))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    notes = [escape(note) for note in table.notes]
    legend = [
        f"{_STYLES[style].format(escape(term))}: {escape(meaning)}"
        for style, term, meaning in legend_parts(table)
    ]
    if legend:
        notes.append("; ".join(legend) + ".")
    lines += [" ".join(notes), ""] if notes else []
    return "\n".join(lines)


def board_markdown(board: Board, level: int = 1) -> str:
    lines = [f"{'#' * level} {escape(board.title)}", ""]
    for label, value in context_lines(board.context, text=escape, code=code):
        lines.append(f"- {label} {value}" if label == "Rendered by" else f"- {label}: {value}")
    lines.append("")
    lines += [f"> {escape(note)}\n" for note in board.notes]
    for table in board.tables:
        lines.append(table_markdown(table, level + 1))
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(boards: Sequence[Board]) -> str:
    return "\n".join(board_markdown(board) for board in boards)
