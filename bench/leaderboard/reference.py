"""Built-in published boards: the paper's Tables 2 and 3, shipped as package data.

The CSVs keep the paper's spellings (VGG-19, WBC-USID-B); they are mapped onto registry names
through the specs' aliases when plugins are loaded, and render on their own when none are.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from bench.errors import DataError, UnknownNameError
from bench.leaderboard.model import SecondRule
from bench.metrics import PAPER_METRICS

if TYPE_CHECKING:
    import pandas as pd

    from bench.leaderboard.model import ScoreGroup

Layout = Literal["same", "cross"]


class CanonicalNames(Protocol):
    """What a reference needs of :class:`bench.leaderboard.display_names.Names`."""

    def canonical(self, kind: Literal["model", "dataset"], printed: str) -> str: ...

HEADERS: dict[Layout, tuple[str, ...]] = {
    "same": ("model", "dataset", *PAPER_METRICS),
    "cross": ("model", "source", "target", *PAPER_METRICS),
}
PUBLISHED = "published"  # stands for the protocol hash: the paper's recipe is not ours exactly


@dataclass(frozen=True)
class Reference:
    name: str
    protocol: str
    files: dict[Layout, str]
    origin: str
    second: SecondRule = "paper"  # the board's own rule for second places (SECOND_RULES)


REFERENCES: dict[str, Reference] = {
    "zedda2024": Reference(
        name="zedda2024",
        protocol="zedda2024",
        files={"same": "zedda2024_same_dataset.csv", "cross": "zedda2024_cross_dataset.csv"},
        origin=(
            "Zedda, Putzu, Loddo, Di Ruberto, \"Training and Benchmarking "
            "Leukocyte Sub-types Classification Methods with Synthetic Images\", ECCV 2024 "
            "Workshops (LNCS 15642), doi:10.1007/978-3-031-91907-7_10, Tables 2 and 3 "
            "(published figures)."
        ),
    ),
}


@dataclass(frozen=True)
class ReferenceRow:
    """One published cell group: a model trained on ``source``, tested on ``target``."""

    line: int
    model: str
    source: str
    target: str
    values: dict[str, float]  # metric -> percentage as printed


def reference_names() -> list[str]:
    return sorted(REFERENCES)


def get_reference(name: str) -> Reference:
    if name.lower() not in REFERENCES:
        raise UnknownNameError("reference board", name, REFERENCES)
    return REFERENCES[name.lower()]


def _resource(filename: str) -> Path:
    return Path(str(resources.files("bench.reference") / filename))


def read_reference_csv(path: str | Path, layout: Layout) -> list[ReferenceRow]:
    """Parse and check a reference CSV; a bad row raises a DataError naming file and line."""
    path = Path(path)
    expected = HEADERS[layout]
    rows: list[ReferenceRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip().lower() for h in header) != expected:
            raise DataError(
                f"{path}, line 1: expected the header {','.join(expected)}, "
                f"found {','.join(header or []) or 'nothing'}."
            )
        for record in reader:
            line = reader.line_num
            if not any(field.strip() for field in record):
                continue  # a blank line, e.g. at the end of the file
            rows.append(_parse_row(path, line, record, layout, seen))
    if not rows:
        raise DataError(f"{path}: no data rows after the header.")
    return rows


def _parse_row(
    path: Path,
    line: int,
    record: list[str],
    layout: Layout,
    seen: dict[tuple[str, str, str], int],
) -> ReferenceRow:
    expected = HEADERS[layout]
    where = f"{path}, line {line}"
    if len(record) != len(expected):
        raise DataError(
            f"{where}: expected {len(expected)} fields ({','.join(expected)}), "
            f"found {len(record)}: {','.join(record)!r}."
        )
    names = [field.strip() for field in record[: len(expected) - len(PAPER_METRICS)]]
    if not all(names):
        raise DataError(f"{where}: a model or data-set name is empty.")
    values: dict[str, float] = {}
    for metric, text in zip(PAPER_METRICS, record[len(names):], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise DataError(
                f"{where}: {metric} should be a percentage such as 96.5, found {text.strip()!r}."
            ) from None
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise DataError(f"{where}: {metric} {text.strip()} is not a percentage in [0, 100].")
        values[metric] = value
    model, source, target = (names[0], names[1], names[1]) if layout == "same" else names
    key = (model, source, target)
    if key in seen:
        raise DataError(
            f"{where}: {model} on {source} -> {target} is already given on line {seen[key]}."
        )
    seen[key] = line
    return ReferenceRow(line, model, source, target, values)


def reference_rows(name: str, layout: Layout) -> list[ReferenceRow]:
    return read_reference_csv(_resource(get_reference(name).files[layout]), layout)


def paper_order(name: str = "zedda2024") -> dict[str, list[str]]:
    """Return the models and data sets in the order the paper prints them."""
    rows = reference_rows(name, "same")
    return {
        "model": list(dict.fromkeys(row.model for row in rows)),
        "dataset": list(dict.fromkeys(row.source for row in rows)),
    }


def _frame(rows: list[ReferenceRow], reference: Reference, names: CanonicalNames) -> pd.DataFrame:
    import pandas as pd

    def records() -> Iterator[dict]:
        for row in rows:
            model = names.canonical("model", row.model)
            source = names.canonical("dataset", row.source)
            target = names.canonical("dataset", row.target)
            for metric, value in row.values.items():
                yield {
                    "run_id": f"{reference.name}:{row.line}",
                    "model": model,
                    "source": source,
                    "seed": -1,
                    "protocol": reference.protocol,
                    "protocol_hash": PUBLISHED,
                    "source_fingerprint": "",
                    "target": target,
                    "target_fingerprint": "",
                    "metric": metric,
                    "value": value / 100,  # stored as fractions, like the results store
                }

    return pd.DataFrame.from_records(list(records()))


def published_labels(name: str, names: CanonicalNames) -> dict[str, str]:
    """Map canonical names to the paper's spelling, so a published board reads as printed."""
    labels: dict[str, str] = {}
    for layout in ("same", "cross"):
        for row in reference_rows(name, layout):  # type: ignore[arg-type]
            labels[names.canonical("model", row.model)] = row.model
            labels[names.canonical("dataset", row.source)] = row.source
            labels[names.canonical("dataset", row.target)] = row.target
    return labels


def load_reference(name: str, names: CanonicalNames) -> ScoreGroup:
    """Load a published board as a score group, its names mapped to the registries'."""
    from bench.leaderboard.model import ScoreGroup

    reference = get_reference(name)
    same = _frame(reference_rows(reference.name, "same"), reference, names)
    cross = _frame(reference_rows(reference.name, "cross"), reference, names)
    datasets = sorted({*same["source"], *cross["source"], *cross["target"]})
    return ScoreGroup(
        protocol=reference.protocol,
        protocol_hash=PUBLISHED,
        fingerprints=tuple((dataset, "") for dataset in datasets),
        same=same,
        cross=cross,
        slug=reference.name,
        origin=reference.origin,
        second=reference.second,
    )
