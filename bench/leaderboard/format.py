"""Cell and header text shared by every renderer, so all formats print the same numbers."""

from __future__ import annotations

from collections.abc import Callable

from bench.leaderboard.model import DECIMALS, SECOND_RULES, Column, Context, Table, Value

MISSING_TEXT = "–"
PUBLISHED_HASH = "published"
NO_FINGERPRINTS = "not published (the paper ships no split files)"

INTERVALS_LABEL = "Intervals"  # the header line a board with --ci has (its check reads it)


def number(value: float, kind: str) -> str:
    if kind == "count":
        return str(round(value))
    text = f"{value:.{DECIMALS[kind]}f}"
    if kind == "delta":
        text = f"{value:+.{DECIMALS[kind]}f}"
        if float(text) == 0:
            text = text[1:]  # no sign on a zero difference: "0.0", not "-0.0"
    return text


def cell_text(
    value: Value, column: Column, typical_n: int, *, missing: str = MISSING_TEXT,
    plus_minus: str = "±",
) -> str:
    """Print a cell: mean, ± std when several runs, (n=k) when k is not the usual.

    With an interval, ``96.1 [95.0, 97.1]`` replaces the ± std: the interval already holds
    the variation between seeds (see ``intervals``).
    """
    if value.mean is None:
        return missing
    text = number(value.mean, column.kind)
    if column.kind == "correlation" and value.ci_low is not None and value.ci_high is not None:
        text += f" [{number(value.ci_low, 'correlation')}, {number(value.ci_high, 'correlation')}]"
    if column.kind == "score":
        digits = DECIMALS["score"]
        if value.ci_low is not None and value.ci_high is not None:
            text += f" [{value.ci_low:.{digits}f}, {value.ci_high:.{digits}f}]"
        elif value.std is not None:
            text += f" {plus_minus} {value.std:.{digits}f}"
        if value.n and typical_n and value.n != typical_n:
            text += f" (n={value.n})"
        if value.tier is not None:
            ranks = (f"{value.rank_low}" if value.rank_low == value.rank_high
                     else f"{value.rank_low}–{value.rank_high}")
            text += f" T{value.tier} ({ranks})"
    if value.leaked or value.contaminated:  # the model may have seen these test images:
        text += "†"  # the table's footnotes say how (bench.leaderboard.leakage, .contamination)
    return text


def header(column: Column, *, grouped_sep: str | None = " ") -> str:
    """Name a column in a one-line header row: "PBC F1" (or "F1" with sep None)."""
    if column.group and grouped_sep is not None:
        return f"{column.group}{grouped_sep}{column.label}"
    return column.label


def column_groups(table: Table) -> list[tuple[str, int]]:
    """Collect consecutive columns sharing a group header, as (group, span)."""
    spans: list[tuple[str, int]] = []
    for column in table.columns:
        if spans and spans[-1][0] == column.group:
            spans[-1] = (column.group, spans[-1][1] + 1)
        else:
            spans.append((column.group, 1))
    return spans


def legend_parts(table: Table) -> list[tuple[str, str, str]]:
    """(style, term, meaning): each renderer prints the term in the style it explains."""
    parts = []
    if table.has_marks and table.marks in ("significance", "tiers"):
        parts.append(("best", "Bold", "best in its column, or not significantly worse than it"))
        if any(row.value(c).mark == "second" for row in table.rows for c in table.columns):
            parts.append(("second", "Underlined", SECOND_RULES[table.second_rule]))
    elif table.has_marks:
        parts.append(("best", "Bold", "best in its column"))
        parts.append(("second", "Underlined", SECOND_RULES[table.second_rule]))
    if table.has_baseline:
        parts.append(("baseline", "Italic", "same-data-set baseline (source = target), not ranked"))
    if table.has_missing:
        parts.append(("missing", MISSING_TEXT, "no result"))
    return parts


def protocol_text(context: Context) -> tuple[str, str | None]:
    """Give the protocol's name and hash; no hash for published figures (their recipe)."""
    if context.protocol_hash == PUBLISHED_HASH:
        return f"{context.protocol}, as published (no recipe hash: figures from the paper)", None
    return context.protocol, context.protocol_hash


def rendered_text(context: Context) -> str:
    return f"bench {context.version}, {context.date}"


def context_lines(context: Context, *, text: Callable[[str], str] = str,
                  code: Callable[[str], str] | None = None) -> list[tuple[str, str]]:
    """The board header every format shows, as (label, value) pairs, built by one rule.

    ``text`` escapes plain text for the format; ``code`` marks a hash or fingerprint (as
    ``text`` when not given).
    """
    code = code or text
    protocol, digest = protocol_text(context)
    lines = [("Unofficial", text(context.unofficial))] if context.unofficial else []
    lines.append(("Protocol", text(protocol) + (f", hash {code(digest)}" if digest else "")))
    if context.recipe:  # what was overridden, and models not started from pretrained weights
        lines.append(("Recipe", text(context.recipe)))
    if context.fingerprints and not any(fp for _, fp in context.fingerprints):
        fingerprints = NO_FINGERPRINTS
    else:
        fingerprints = ", ".join(f"{text(label)} {code(fp) if fp else 'not published'}"
                                 for label, fp in context.fingerprints) or "none"
    lines.append(("Split fingerprints", fingerprints))
    if context.origin:
        lines.append(("Source", text(context.origin)))
    if context.uncertainty:
        lines.append((INTERVALS_LABEL, text(context.uncertainty)))
    lines.append(("Rendered by", text(rendered_text(context))))
    return lines
