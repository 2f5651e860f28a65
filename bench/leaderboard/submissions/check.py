"""Checked submissions: a board, its records and its predictions, verified row by row.

A third party runs the protocol on their own machines and submits what ``--publish`` wrote:
``<board>.md``, ``<board>.scores.csv`` and ``<board>.predictions.csv.gz``. The check needs
neither their store nor a GPU:

- every row's protocol name and hash are a known protocol's, run as published (no recipe
  overrides);
- every split fingerprint is the one this project publishes for that data set
  (``bench/reference/fingerprints.toml``; a shifted target's is derived from its base's), so
  the test images are ours; no data set is a generated or demo one;
- the design the records declare is complete: every model x source x seed x target, each with
  the paper's four metrics and every other metric the records hold;
- values are finite numbers in their metric's range, weighted recall equals accuracy (it does
  by definition), intervals, where given, contain their values, and no text cell would run as
  a spreadsheet formula;
- every score (and interval) is recomputed from the predictions (``recompute``), which cover
  each target's test split image by image with its true labels (``coverage``: from a shipped
  label manifest or the data set prepared here; where neither has it, that check is listed as
  not made);
- the board rebuilt from the records (and predictions) matches the submitted board byte for
  byte.

Each problem names its file and row (the line number: the header is row 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.leaderboard.csvcells import formula_leading
from bench.leaderboard.display_names import Names
from bench.leaderboard.fingerprints import PublishedSplit, load_fingerprints
from bench.leaderboard.intervals import IntervalSettings
from bench.leaderboard.make import BoardRequest
from bench.leaderboard.predictions import (
    PREDICTIONS_SUFFIX,
    PublishedPredictions,
    load_predictions,
    predictions_path,
)
from bench.leaderboard.reference import reference_names
from bench.leaderboard.submissions import problems as topics
from bench.leaderboard.submissions.board_text import check_board, check_reference
from bench.leaderboard.submissions.problems import Collector, Problem, failures
from bench.leaderboard.submissions.publish import RECORDS_SUFFIX
from bench.leaderboard.submissions.records import (
    NUMERIC,
    OPTIONAL_COLUMNS,
    missing_columns,
    number,
    read_records_text,
)
from bench.leaderboard.truth import derived_fingerprint, shifted_base
from bench.metrics import METRICS, PAPER_METRICS, SAME_BY_DEFINITION

RECALL_TOLERANCE = 1e-6  # weighted recall == accuracy, up to float noise and 6-decimal rounding

Cell = tuple[str, str, int, str]  # model, source, seed, target

__all__ = ["Problem", "check_submission", "failures", "passed", "submissions", "summary"]


def known_protocols() -> dict[str, str]:
    """Hash -> name of every built-in protocol."""
    from bench.protocols import builtin_names, load_protocol

    return {load_protocol(name).hash: name for name in builtin_names()}


def board_path(records: Path) -> Path:
    return records.with_name(records.name[: -len(RECORDS_SUFFIX)] + ".md")


def records_path(board: Path) -> Path:
    return board.with_name(board.name[: -len(".md")] + RECORDS_SUFFIX)


def submissions(folder: str | Path) -> list[Path]:
    """The boards of a folder such as leaderboards/: every records file, every reference board.

    Other Markdown (a README) is not a board.
    """
    folder = Path(folder)
    found = sorted(folder.glob(f"*{RECORDS_SUFFIX}"))
    found += sorted(p for name in reference_names() if (p := folder / f"{name}.md").is_file()
                    and not records_path(p).is_file())
    return found


def check_submission(
    path: str | Path,
    *,
    request: BoardRequest | None = None,
    fingerprints: Mapping[str, PublishedSplit] | str | Path | None = None,
    protocols: Mapping[str, str] | None = None,
    names: Names | None = None,
) -> list[Problem]:
    """Every problem of a submission: its ``.scores.csv`` or its ``.md`` (the others beside it).

    ``request`` gives the options the board was published with (metrics, ``--compare``,
    ``--ci`` and its settings, the second-place rule); ``fingerprints`` the published splits
    (default the shipped manifest); ``protocols`` known hashes (hash -> name; default the
    built-in protocols). A board without records that is a published reference board
    (``zedda2024.md``) is rebuilt from the reference figures instead. Checks that could not be
    made here come back with ``severity="unchecked"`` (see ``failures``).
    """
    path = Path(path)
    request = request or BoardRequest()
    if path.name.endswith(".md"):
        board = path
        records = records_path(path)
        stem = path.name[: -len(".md")]
        if not records.is_file() and stem in reference_names():
            return check_reference(board, stem, request, names)
    elif path.name.endswith(RECORDS_SUFFIX):
        records, board = path, board_path(path)
    else:
        return [Problem(str(path), 0, f"not a submission: give a <board>{RECORDS_SUFFIX} "
                                      "or the <board>.md beside it")]
    if not records.is_file():
        return [Problem(str(records), 0, f"not found: a submission is <board>{RECORDS_SUFFIX} "
                                         "beside <board>.md, as `bench leaderboard --publish` "
                                         "writes them")]
    if not isinstance(fingerprints, Mapping):
        fingerprints = load_fingerprints(fingerprints)
    names = names or Names.from_registries()
    problems, rows = _check_records(records, fingerprints=fingerprints, names=names,
                                    protocols=known_protocols() if protocols is None
                                    else protocols)
    if rows is None:
        return problems
    found, predictions = check_predictions(records, rows, request)
    return problems + found + check_board(records, board, request, names, predictions)


def _check_records(
    path: Path, *, fingerprints: Mapping[str, PublishedSplit], protocols: Mapping[str, str],
    names: Names,
) -> tuple[list[Problem], list[dict[str, Any]] | None]:
    """The records' problems, and their valid rows (None when the file cannot be read)."""
    try:
        frame = read_records_text(path)
    except BenchError as exc:
        return [Problem(str(path), 0, str(exc))], None
    if absent := missing_columns(frame.columns):
        return [Problem(str(path), 0, f"no column {', '.join(absent)}; records have the "
                                      "columns of `bench leaderboard --publish`")], None
    if frame.empty:
        return [Problem(str(path), 0, "no score rows: the records of a board have a row per "
                                      "run, target and metric")], None
    found = Collector(str(path), topics.OTHER)
    valid = []
    values: dict[Cell, dict[str, tuple[float, int]]] = {}
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        _check_protocol(row, protocols, found, line)
        _check_fingerprints(row, fingerprints, found, line)
        _check_recipe(row, names, found, line)
        _check_text(row, found, line)
        seed, value = number(row["seed"], int), number(row["value"], float)
        if seed is None:
            found.add(line, f"seed {row['seed']!r} is not a whole number")
            continue
        if value is None or not math.isfinite(value):
            found.add(line, f"value {row['value']!r} is not a finite number", topics.NOT_FINITE)
            continue
        _check_range(row["metric"], value, found, line)
        interval = _check_interval(row, value, found, line)
        cell = (row["model"], row["source"], seed, row["target"])
        scores = values.setdefault(cell, {})
        if row["metric"] in scores:
            found.add(line, f"a second {row['metric']} of {_cell_text(cell)} (the first is "
                            f"row {scores[row['metric']][1]})")
            continue
        scores[row["metric"]] = (value, line)
        valid.append({**row, "seed": seed, "value": value, "line": line, "ci": interval})
    _check_recall(values, found)
    _check_design(values, found)
    return sorted(found.problems(), key=lambda p: p.row), valid


def check_predictions(records: Path, rows: Sequence[dict[str, Any]], request: BoardRequest
                      ) -> tuple[list[Problem], PublishedPredictions | None]:
    """Every score recomputed from the predictions beside the records, and the predictions.

    The predictions' images and labels are checked against each target's split.
    """
    from bench.leaderboard.recompute import recompute_scores
    from bench.leaderboard.submissions.coverage import check_coverage

    path = predictions_path(records)
    if not path.is_file():
        return [Problem(str(path), 0, f"not found: every score is recomputed from the test "
                                      f"predictions, which `bench leaderboard --publish` writes "
                                      f"beside the records as <board>{PREDICTIONS_SUFFIX}",
                        topic=topics.PREDICTIONS)], None
    try:
        predictions, problems = load_predictions(path)
    except BenchError as exc:
        return [Problem(str(path), 0, str(exc), topic=topics.PREDICTIONS)], None
    pairs = predictions.pairs()
    fingerprints = {row["target"]: row["target_fingerprint"] for row in rows}
    problems += check_coverage(predictions, pairs, fingerprints)
    settings = IntervalSettings(resamples=request.resamples, level=request.level)
    problems += recompute_scores(rows, predictions, pairs, str(records), settings)
    own = sorted({row["metric"] for row in rows} - set(METRICS))
    if own:
        problems.append(Problem(str(records), 0, f"{', '.join(own)}: not a metric of bench's "
                                                 "table, so not recomputed",
                                severity="unchecked"))
    return problems, predictions


def _check_recipe(row: dict, names: Names, found: Collector, line: int) -> None:
    """The protocol as published, on benchmark data: no overrides, no generated sets."""
    if row.get("overrides"):
        found.add(line, f"recipe overrides ({row['overrides']}): a board ranks a protocol as "
                        f"published; run {row['protocol']} unchanged, or publish with "
                        "--unofficial", topics.OVERRIDES)
    for role in ("source", "target"):
        base = row[role].partition("~")[0]
        if names.dataset_kind(base) == "generated":
            found.add(line, f"{role} {base} is a generated (or demo) data set, composed on the "
                            "publisher's machine: no one else can test on it", topics.GENERATED)


def _check_text(row: dict, found: Collector, line: int) -> None:
    """No text cell that a spreadsheet would run as a formula (OWASP's CSV injection rule)."""
    for column, text in row.items():
        if column not in NUMERIC and isinstance(text, str) and formula_leading(text):
            found.add(line, f"{column} {text!r} starts with {text[0]!r}: a spreadsheet opening "
                            "the records would run it as a formula; rename it", topics.FORMULAS)


def _check_protocol(row: dict, protocols: Mapping[str, str], found: Collector,
                    line: int) -> None:
    name, digest = row["protocol"], row["protocol_hash"]
    if digest not in protocols:
        known = ", ".join(f"{n} {h}" for h, n in sorted(protocols.items(), key=lambda i: i[1]))
        found.add(line, f"protocol hash {digest!r} (named {name}) is not a known protocol's "
                        f"(known: {known or 'none'}); run a built-in protocol, or have yours "
                        "added to bench/protocols first", topics.PROTOCOL)
    elif protocols[digest] != name:
        found.add(line, f"protocol {name!r} with the hash of {protocols[digest]!r} ({digest})",
                  topics.PROTOCOL)


def _check_fingerprints(row: dict, published: Mapping[str, PublishedSplit], found: Collector,
                        line: int) -> None:
    for role in ("source", "target"):
        dataset, fingerprint = row[role], row[f"{role}_fingerprint"]
        shifted = shifted_base(dataset)
        split = published.get(shifted[0] if shifted else dataset)
        if split is None:
            shown = sorted(name for name, split in published.items() if split.published)
            found.add(line, f"{role} {dataset!r} has no published split fingerprint; "
                            f"published: {', '.join(shown) or 'none'}", topics.FINGERPRINTS)
        elif not split.published:
            found.add(line, f"{role} {dataset!r} has no published split yet (its split will "
                            f"come from {split.how() or 'its prepare command'})",
                      topics.FINGERPRINTS)
        else:
            expected = derived_fingerprint(split.fingerprint, shifted[1], fingerprint) \
                if shifted else split.fingerprint
            if fingerprint != expected:
                how = (f"its base {split.dataset} prepared with {split.how()} and the shift "
                       "suite of this bench" if shifted else split.how())
                found.add(line, f"{role} {dataset} has split fingerprint {fingerprint!r}, not "
                                f"the published {expected}; prepare it with {how}",
                          topics.FINGERPRINTS)


def _check_range(metric: str, value: float, found: Collector, line: int) -> None:
    if metric not in METRICS:
        return  # a plugin's own metric: its range is its own
    low, high = METRICS[metric].bounds
    if not low <= value <= high:
        unit = " (scores are fractions, not percentages)" if high == 1.0 and value > 1 else ""
        found.add(line, f"{metric} {value:g} is outside [{low:g}, {high:g}]{unit}")


def _check_interval(row: dict, value: float, found: Collector,
                    line: int) -> tuple[float, float] | None:
    """The row's interval (low, high) when it gives one that holds its value."""
    ends = [row.get(column, "") for column in OPTIONAL_COLUMNS]
    if not any(ends):
        return None
    low, high = (number(end, float) for end in ends)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        found.add(line, f"interval [{ends[0]}, {ends[1]}] needs two finite numbers")
    elif not low <= value <= high:
        found.add(line, f"interval [{low:g}, {high:g}] does not contain its value {value:g}")
    else:
        return low, high
    return None


def _check_recall(values: Mapping[Cell, Mapping[str, tuple[float, int]]],
                  found: Collector) -> None:
    for scores in values.values():
        recall_name, accuracy_name = SAME_BY_DEFINITION
        if recall_name in scores and accuracy_name in scores:
            (recall, line), (accuracy, other) = scores[recall_name], scores[accuracy_name]
            if abs(recall - accuracy) > RECALL_TOLERANCE:
                found.add(line, f"weighted recall {recall:g} is not the accuracy {accuracy:g} "
                                f"(row {other}); they are equal by definition")


def _check_design(values: Mapping[Cell, Mapping[str, tuple[float, int]]],
                  found: Collector) -> None:
    """Every model x source x seed x target the records name, with every metric."""
    models, sources, seeds, targets = (sorted({cell[i] for cell in values}) for i in range(4))
    metrics = list(dict.fromkeys([*PAPER_METRICS,
                                  *sorted({m for s in values.values() for m in s})]))
    first: dict[tuple, int] = {}  # the first row of each model, run and cell: where to point
    for cell, scores in values.items():
        line = min(line for _, line in scores.values())
        for size in (1, 2, 3, 4):
            first[cell[:size]] = min(first.get(cell[:size], line), line)
    for model in models:
        for source in sources:
            for seed in seeds:
                run = (model, source, seed)
                if run not in first:
                    found.add(first.get((model, source), first[(model,)]),
                              f"no run of {model} trained on {source} with seed {seed}; every "
                              f"model has a run per source ({', '.join(sources)}) and seed "
                              f"({', '.join(map(str, seeds))})")
                    continue
                for target in targets:
                    cell = (*run, target)
                    if cell not in values:
                        found.add(first[run], f"no scores of {_cell_text(cell)}: every run is "
                                              f"tested on {', '.join(targets)}")
                        continue
                    absent = [m for m in metrics if m not in values[cell]]
                    if absent:
                        found.add(first[cell], f"no {', '.join(absent)} of {_cell_text(cell)}")


def _cell_text(cell: Cell) -> str:
    model, source, seed, target = cell
    return f"{model} trained on {source} (seed {seed}) tested on {target}"


def passed(path: str | Path) -> str:
    """The one line that says a submission passed, and what that covered."""
    path = Path(path)
    if path.name.endswith(".md") and not records_path(path).is_file():
        return f"OK: {path}: the published figures, rebuilt byte for byte (no records)"
    return (f"OK: {path}: protocol, split fingerprints, every cell and metric, every score "
            "recomputed from the predictions, and the board rebuilt byte for byte")


def summary(problems: Sequence[Problem]) -> str:
    files = sorted({p.file for p in problems})
    return f"{len(problems)} problem{'s' * (len(problems) != 1)} in {', '.join(files)}"

