r"""LaTeX tables for a paper: booktabs rules, data sets over metrics, marks as in the paper.

Needs ``\usepackage{booktabs}`` in the preamble. The board's context goes into comments and
the caption, so a table pasted into a manuscript still says what it was computed under.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bench.leaderboard.format import (
    cell_text,
    column_groups,
    context_lines,
    legend_parts,
    protocol_text,
)
from bench.leaderboard.model import Board, Table, Value

_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "±": r"$\pm$",
    "–": "--", "Δ": r"$\Delta$", "−": "--", "≠": r"$\neq$", "…": r"\dots{}",
}
_STYLES = {"best": r"\textbf{%s}", "not_worse": r"\textbf{%s}", "second": r"\underline{%s}",
           "baseline": r"\textit{%s}",
           "missing": "%s"}


def escape(text: str) -> str:
    return "".join(_SPECIALS.get(ch, ch) for ch in " ".join(str(text).split()))


def _comment(text: str) -> str:
    return "% " + " ".join(str(text).split())


def _styled(value: Value, text: str) -> str:
    if value.mark:
        return _STYLES[value.mark] % text
    if value.baseline:
        return _STYLES["baseline"] % text
    return text


def table_latex(table: Table, board: Board) -> str:
    context = board.context
    protocol, digest = protocol_text(context)
    first = len(table.index) + 1
    spec = "l" * len(table.index) + "r" * len(table.columns)
    label = re.sub(r"[^A-Za-z0-9:-]+", "-", f"tab:{board.slug}-{table.name}")
    caption = escape(table.title) + ". Protocol " + escape(protocol) + (
        f" (hash \\texttt{{{escape(digest)}}})" if digest else ""
    ) + "."
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{caption}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
    ]
    if table.grouped:
        spans, rules, position = [], [], first
        for group, span in column_groups(table):
            spans.append(rf"\multicolumn{{{span}}}{{c}}{{{escape(group)}}}" if group else "")
            if group:
                rules.append(rf"\cmidrule(lr){{{position}-{position + span - 1}}}")
            position += span
        lines.append(" & ".join([""] * len(table.index) + spans) + r" \\")
        lines.append(" ".join(rules))
    lines.append(
        " & ".join([escape(name) for name in table.index]
                   + [escape(c.label) for c in table.columns]) + r" \\"
    )
    lines.append(r"\midrule")
    for row in table.rows:
        cells = [escape(label) for label in row.labels]
        for column in table.columns:
            value = row.value(column)
            cells.append(_styled(value, escape(cell_text(value, column, table.typical_n))))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    notes = [*table.notes] + [f"{term}: {meaning}" for _, term, meaning in legend_parts(table)]
    return "\n".join([_comment(note) for note in notes] + lines)


def board_latex(board: Board) -> str:
    header = [_comment(board.title)]
    for label, value in context_lines(board.context):
        if label == "Rendered by":
            header.append(_comment(f"Rendered by {value}; needs \\usepackage{{booktabs}}"))
        else:
            header.append(_comment(f"{label}: {value}"))
    header += [_comment(note) for note in board.notes]
    return "\n\n".join(["\n".join(header)] + [table_latex(t, board) for t in board.tables])


def render_latex(boards: Sequence[Board]) -> str:
    return "\n\n".join(board_latex(board) for board in boards) + "\n"
