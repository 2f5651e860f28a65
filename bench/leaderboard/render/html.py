"""A standalone HTML page: grouped headers (data set over metric) that Markdown cannot do."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bench.leaderboard.format import (
    cell_text,
    column_groups,
    context_lines,
    legend_parts,
)
from bench.leaderboard.model import Board, Table, Value

# Wide boards (six data sets x four metrics, with intervals) fit a 1,400 px window: headers
# and intervals wrap (an interval goes below its value, in smaller type, and breaks after its
# comma if need be); a table that is wider still scrolls inside its own box, never the page.
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.board { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums;
        font-size: 0.9rem; }
th, td { padding: 0.2rem 0.3rem; border-bottom: 1px solid #ddd; }
th { white-space: normal; }
tbody th { white-space: nowrap; text-align: left; }
td.value { text-align: right; white-space: nowrap; }
td.value .ci { display: block; white-space: normal; font-size: 0.78em; color: #555; }
th.group { text-align: center; border-bottom: 1px solid #888; }
.baseline { font-style: italic; color: #555; }
.missing { color: #999; }
code { font-size: 0.9em; }
""".strip()

_TAGS = {"best": ("<strong>", "</strong>"), "not_worse": ("<strong>", "</strong>"),
         "second": ("<u>", "</u>"),
         "baseline": ("<em>", "</em>"), "missing": ("", "")}


def _cell(value: Value, text: str) -> str:
    if value.ci_low is not None and " [" in text:  # the interval below the value
        shown, interval = text.split(" [", 1)
        text = f'{shown}<span class="ci">[{interval.replace(", ", ", <wbr>")}</span>'
    classes = ["value"]
    if value.baseline:
        classes.append("baseline")
    if value.missing:
        classes.append("missing")
    if value.mark:
        classes.append(value.mark)
        opening, closing = _TAGS[value.mark]
        text = f"{opening}{text}{closing}"
    return f'<td class="{" ".join(classes)}">{text}</td>'


def table_html(table: Table) -> str:
    lines = [f"<h2>{escape(table.title)}</h2>", '<div class="board">', "<table>", "<thead>"]
    index = "".join(
        f'<th rowspan="{2 if table.grouped else 1}">{escape(name)}</th>' for name in table.index
    )
    if table.grouped:
        groups = "".join(
            f'<th class="group" colspan="{span}">{escape(group)}</th>'
            for group, span in column_groups(table)
        )
        lines.append(f"<tr>{index}{groups}</tr>")
        lines.append("<tr>" + "".join(f"<th>{escape(c.label)}</th>" for c in table.columns)
                     + "</tr>")
    else:
        lines.append(f"<tr>{index}"
                     + "".join(f"<th>{escape(c.label)}</th>" for c in table.columns) + "</tr>")
    lines += ["</thead>", "<tbody>"]
    for row in table.rows:
        cells = "".join(f"<th>{escape(label)}</th>" for label in row.labels)
        for column in table.columns:
            value = row.value(column)
            cells += _cell(value, escape(cell_text(value, column, table.typical_n)))
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>", "</div>"]
    legend = [
        f"{_TAGS[style][0]}{escape(term)}{_TAGS[style][1]}: {escape(meaning)}"
        for style, term, meaning in legend_parts(table)
    ]
    notes = [escape(note) for note in table.notes] + (["; ".join(legend) + "."] if legend else [])
    lines += [f"<p>{note}</p>" for note in notes]
    return "\n".join(lines)


def board_html(board: Board) -> str:
    items = [
        f"{label} {value}" if label == "Rendered by" else f"{label}: {value}"
        for label, value in context_lines(board.context, text=escape,
                                          code=lambda fp: f"<code>{escape(fp)}</code>")
    ]
    parts = [f"<section>\n<h1>{escape(board.title)}</h1>", "<ul>"]
    parts += [f"<li>{item}</li>" for item in items]
    parts.append("</ul>")
    parts += [f"<blockquote>{escape(note)}</blockquote>" for note in board.notes]
    parts += [table_html(table) for table in board.tables]
    parts.append("</section>")
    return "\n".join(parts)


def render_html(boards: Sequence[Board]) -> str:
    title = escape(boards[0].title if len(boards) == 1 else "bench leaderboards")
    body = "\n".join(board_html(board) for board in boards)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{title}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )
