"""What a submission check finds: problems, each at its file and row, and the checks not made.

A problem fails the check. A check that could not be made here (no label manifest ships for a
data set, and it is not prepared on this machine) is listed as ``unchecked``: it fails only
with ``--strict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "unchecked"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is: ``row`` is the line in ``file`` (0: the file as a whole)."""

    file: str
    row: int
    message: str
    also: tuple[int, ...] = ()  # other rows with the very same problem
    severity: Severity = "error"
    topic: str = ""  # what kind of problem, in a few words (an unofficial board's header)

    def __str__(self) -> str:
        unit = "line" if self.file.endswith(".md") else "row"
        where = f"{self.file} {unit} {self.row}" if self.row else self.file
        more = ""
        if self.also:
            shown = ", ".join(map(str, self.also[:5]))
            more = f" (also {unit}s {shown}{', …' if len(self.also) > 5 else ''}; " \
                   f"{len(self.also) + 1} in all)"
        prefix = "not checked: " if self.severity == "unchecked" else ""
        return f"{prefix}{where}: {self.message}{more}"


class Collector:
    """Problems in order of first appearance; the same message on many rows is one problem.

    ``topic`` is each problem's unless ``add`` names another.
    """

    def __init__(self, file: str, topic: str = "") -> None:
        self.file = file
        self.topic = topic
        self.rows: dict[str, list[int]] = {}
        self.topics: dict[str, str] = {}

    def add(self, row: int, message: str, topic: str | None = None) -> None:
        self.rows.setdefault(message, []).append(row)
        self.topics.setdefault(message, self.topic if topic is None else topic)

    def problems(self) -> list[Problem]:
        return [Problem(self.file, rows[0], message, tuple(rows[1:]),
                        topic=self.topics[message])
                for message, rows in self.rows.items()]


# Topics: the kinds of problem that make a board unofficial, as its header names them (plain
# words: the header is escaped for Markdown and read back by --check).
PROTOCOL = "a protocol that is not built in"
OVERRIDES = "recipe overrides"
GENERATED = "generated or demo data sets"
FINGERPRINTS = "unpublished split fingerprints"
NOT_FINITE = "scores that are not finite numbers"
FORMULAS = "names a spreadsheet would run as formulas"
RECOMPUTED = "scores that differ from their predictions"
PREDICTIONS = "missing or inconsistent predictions"
OTHER = "other problems"


def failures(problems: Sequence[Problem], *, strict: bool = False) -> list[Problem]:
    """The problems that fail a check: errors, and with ``strict`` the checks not made."""
    return [p for p in problems if strict or p.severity == "error"]
