"""Machine-readable boards: tidy CSV (one line per cell) and JSON (the whole structure).

Numbers are percentages rounded to four decimals, so the files do not churn on float noise;
missing cells are written as empty (CSV) or null (JSON), never as zero. A number that is not
finite never reaches a board (records refuse it), and JSON is written strictly (no bare
``NaN``); CSV text cells that a spreadsheet would run as formulas are neutralised
(``bench.leaderboard.csvcells``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bench.leaderboard.csvcells import neutralise
from bench.leaderboard.format import cell_text
from bench.leaderboard.model import Board, Column, Context, Table, Value
from bench.leaderboard.recipe import UNIT_TEXT

CSV_COLUMNS = (
    "board", "table", "protocol", "protocol_hash", "model", "source", "target", "column",
    "metric", "kind", "value", "std", "ci_low", "ci_high", "ci_unit", "n", "mark", "tier",
    "rank_low", "rank_high", "baseline", "contaminated", "text",
)


def _number(value: float | None, kind: str = "score") -> float | int | None:
    if value is None:
        return None
    return round(value) if kind == "count" else round(value, 4)


def _row_names(table: Table, key: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(table.index_keys, key, strict=True))


def render_csv(boards: Sequence[Board]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for board in boards:
        for table in board.tables:
            for row in table.rows:
                names = _row_names(table, row.key)
                for column in table.columns:
                    value = row.value(column)
                    record = {
                        "board": board.slug,
                        "table": table.name,
                        "protocol": board.context.protocol,
                        "protocol_hash": board.context.protocol_hash,
                        "model": names.get("model", ""),
                        "source": names.get("source", ""),
                        "target": column.target or names.get("target", ""),
                        "column": column.key,
                        "metric": column.metric,
                        "kind": column.kind,
                        "value": _number(value.mean, column.kind),
                        "std": _number(value.std),
                        "ci_low": _number(value.ci_low),
                        "ci_high": _number(value.ci_high),
                        "ci_unit": UNIT_TEXT.get(value.ci_unit or "", ""),
                        "n": value.n or "",
                        "mark": value.mark or "",
                        "tier": value.tier or "",
                        "rank_low": value.rank_low or "",
                        "rank_high": value.rank_high or "",
                        "baseline": int(value.baseline),
                        "contaminated": int(value.contaminated),
                        "text": cell_text(value, column, table.typical_n, missing=""),
                    }
                    writer.writerow({key: neutralise(cell) if isinstance(cell, str) else cell
                                     for key, cell in record.items()})
    return out.getvalue()


def _value(value: Value, column: Column, typical_n: int) -> dict[str, Any] | None:
    if value.missing:
        return None
    return {
        "value": _number(value.mean, column.kind),
        "std": _number(value.std),
        "ci_low": _number(value.ci_low),
        "ci_high": _number(value.ci_high),
        "ci_unit": UNIT_TEXT.get(value.ci_unit or ""),
        "n": value.n,
        "mark": value.mark,
        "tier": value.tier,
        "rank_interval": None if value.tier is None else [value.rank_low, value.rank_high],
        "baseline": value.baseline,
        "contaminated": value.contaminated,
        "text": cell_text(value, column, typical_n),
    }


def _context(context: Context) -> dict[str, Any]:
    unofficial = {"unofficial": context.unofficial} if context.unofficial else {}
    return {
        **unofficial,
        "protocol": context.protocol,
        "protocol_hash": context.protocol_hash,
        "recipe": context.recipe,
        "split_fingerprints": dict(context.fingerprints),
        "bench_version": context.version,
        "date": context.date,
        "origin": context.origin,
        "intervals": context.uncertainty,
    }


def table_data(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "title": table.title,
        "index": list(table.index),
        "columns": [
            {"key": c.key, "label": c.label, "group": c.group, "target": c.target,
             "metric": c.metric, "kind": c.kind, "better": c.better}
            for c in table.columns
        ],
        "rows": [
            {
                **_row_names(table, row.key),
                "labels": list(row.labels),
                "cells": {c.key: _value(row.value(c), c, table.typical_n) for c in table.columns},
            }
            for row in table.rows
        ],
        "typical_runs": table.typical_n,
        "marks": table.marks,
        "notes": list(table.notes),
    }


def board_data(board: Board) -> dict[str, Any]:
    return {
        "title": board.title,
        "slug": board.slug,
        "context": _context(board.context),
        "notes": list(board.notes),
        "tables": [table_data(table) for table in board.tables],
    }


def render_json(boards: Sequence[Board]) -> str:
    return json.dumps([board_data(board) for board in boards], indent=2,
                      ensure_ascii=False, allow_nan=False) + "\n"
